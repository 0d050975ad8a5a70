// The emitter for member access, indexing, calls (functions, methods,
// natives, function values), `new` and array literals, as the checker
// resolved them (CheckCalls.cpp): Expr::res says which form a call is and
// Expr::symbol which function, method, native or field.
#include "CompilerInternal.h"

namespace ks::compiler {

// Compiles `obj.name`: a global or class constant (`global.x`, `C.NAME`), a
// field of a class instance, or a property of a built-in value (`s.length`,
// `a.size`).
KS_NOINLINE Operand Compiler::member_expr(Expr* e, i32 dest)
{
    if (e->res == ResGlobal) {
        Operand r = target_reg(dest, type_of(e));
        emit_imm(Op::GetGlobal, r.reg, (i32)e->symbol);
        return r;
    }
    Operand obj = expr(e->a);
    if (e->res == ResField) {
        release(obj);
        Operand r = target_reg(dest, type_of(e));
        emit(Op::GetField, r.reg, obj.reg, e->symbol);
        return r;
    }
    return call_native(e, (i32)e->symbol, &obj, obj.type, dest);
}

// Compiles `a[i]`: ArrayGet on arrays, the native `get` on maps, strings
// and Bytes.
Operand Compiler::index_expr(Expr* e, i32 dest)
{
    Operand obj = expr(e->a);
    Type* t = obj.type;
    if (e->res == ResElement) {
        Operand ix = expr(e->b, m_types.int_type());
        release(ix);
        release(obj);
        Operand r = target_reg(dest, t->elem);
        emit(Op::ArrayGet, r.reg, obj.reg, ix.reg);
        return r;
    }
    // The call path with a synthetic argument list.
    Expr call = *e;
    Expr* args[1] = { e->b };
    call.args = args;
    call.arg_count = 1;
    return call_native(&call, (i32)e->symbol, &obj, t, dest);
}

// Evaluates the arguments of [call] against [params] (null: any type) into
// fresh registers [regs], after the receiver's register if there is one.
// The caller frees every argument register after emitting the call.
void Compiler::args_into(Expr* call, Type** params, u32 count, u16* regs, Operand* receiver)
{
    u32 k = 0;
    if (receiver)
        regs[k++] = receiver->reg;
    for (u32 i = 0; i < count; i++) {
        Expr* a = call->args[i];
        Type* pt = params ? params[i] : nullptr;
        if (!pt) {
            // "any" parameter.
            Operand op = expr(a);
            regs[k++] = op.reg;
            if (!op.temp) {
                // Keep a copy so that freeing below is uniform.
                u16 t = alloc_for(op.type);
                emit_move(t, op.reg);
                regs[k - 1] = t;
            }
            continue;
        }
        u16 t = alloc_for(pt);
        expr_into(a, t, pt);
        regs[k++] = t;
    }
}

// Compiles a call of script function [f] with the arguments of [e], on
// [receiver] for methods (through the vtable when [virtual_call]).
Operand Compiler::call_function(Expr* e, FuncSym* f, Operand* receiver, bool virtual_call, i32 dest)
{
    u32 argc = e->arg_count;
    // Argument registers live on the arena: calls nest inside arguments, and
    // the native stack used per nesting level must stay small.
    u16* regs = arena_array<u16>(argc + 1);
    if (!regs)
        return Operand { f->result, 0, false };
    args_into(e, f->params, argc, regs, receiver);
    u32 total = argc + (receiver ? 1 : 0);
    for (u32 i = receiver ? 1 : 0; i < total; i++)
        free_reg(regs[i]);
    if (receiver)
        release(*receiver);
    Operand r;
    if (f->result->kind == TypeKind::Void)
        r = Operand { m_types.void_type(), 0, false };
    else
        r = target_reg(dest, f->result);
    m_line = e->line;
    if (total == 1) {
        emit(virtual_call ? Op::CallMethod1 : Op::Call1, r.reg, virtual_call ? (u32)f->slot : f->index, regs[0]);
        return r;
    }
    if (virtual_call)
        emit(Op::CallMethod, r.reg, (u32)f->slot, total);
    else
        emit(Op::Call, r.reg, f->index, total);
    emit_args(regs, total);
    return r;
}

// The type a native's signature code [code] stands for (with [receiver] for
// codes that mean its element or key type).
Type* Compiler::native_type(char code, Type* receiver)
{
    Type* t = nullptr;
    switch (code) {
    case 'v': return m_types.void_type();
    case 'i': return m_types.int_type();
    case 'b': return m_types.boolean();
    case 's': return m_types.string();
    case 'y': return m_types.bytes();
    case 'o': {
        // An instance of any class (the host natives' object parameter).
        ClassSym* object = find_class("Object");
        return object ? object->type : m_types.error();
    }
    case 'E': return receiver ? receiver->elem : m_types.error();
    case 'K': return receiver ? receiver->key : m_types.error();
    case 'R': return receiver;
    case 'S': t = m_types.array_of(m_types.string()); break;
    case 'k': t = receiver ? m_types.array_of(receiver->key) : nullptr; break;
    case 'e': t = receiver ? m_types.array_of(receiver->elem) : nullptr; break;
    case 'I': t = m_types.array_of(m_types.int_type()); break;
    case 'F': {
        // A comparator of the receiver's elements: Func[int, E, E].
        if (!receiver)
            return m_types.error();
        Type* params[2] = { receiver->elem, receiver->elem };
        t = m_types.func_of(m_types.int_type(), params, 2);
        break;
    }
    default: return m_types.error();
    }
    if (!t) {
        oom();
        return m_types.error();
    }
    return t;
}

// Compiles a call of native function [native] with the arguments of [e]
// (on [receiver] of [receiver_type] for methods), checking argument types.
Operand Compiler::call_native(Expr* e, i32 native, Operand* receiver, Type* receiver_type, i32 dest)
{
    Type* params[8];
    const char* sig = native_params(native, receiver_type, params);
    u32 argc = (u32)str_length(sig) - 1;
    u16 regs[9];
    args_into(e, params, argc, regs, receiver);
    u32 total = argc + (receiver ? 1 : 0);
    for (u32 i = receiver ? 1 : 0; i < total; i++)
        free_reg(regs[i]);
    if (receiver)
        release(*receiver);
    Type* rt = native_type(sig[0], receiver_type);
    Operand r = rt->kind == TypeKind::Void ? Operand { rt, 0, false } : target_reg(dest, rt);
    type_index(rt);   // The verifier types the result (String[], K[], E[]) from the table.
    m_line = e->line;
    emit(Op::CallNative, r.reg, (u32)native, total, rt->kind == TypeKind::Void ? 0 : 1);
    emit_args(regs, total);
    return r;
}

// Compiles a call of a function value [callee] with the arguments of [e].
Operand Compiler::call_value(Expr* e, Operand callee, i32 dest)
{
    Type* ft = callee.type;
    u16* regs = arena_array<u16>(e->arg_count + 1);
    if (!regs)
        return Operand { ft->elem, 0, false };
    args_into(e, ft->params, e->arg_count, regs, nullptr);
    for (u32 i = 0; i < e->arg_count; i++)
        free_reg(regs[i]);
    release(callee);
    Operand r = ft->elem->kind == TypeKind::Void ? Operand { ft->elem, 0, false } : target_reg(dest, ft->elem);
    m_line = e->line;
    emit(Op::CallValue, r.reg, callee.reg, e->arg_count);
    emit_args(regs, e->arg_count);
    return r;
}

// Compiles a call as the checker resolved it: a function value, a method of
// `this`, a static or top-level function, an accessor of `this`, super(...)
// in a constructor, assert, or a form with a receiver (method_call()).
Operand Compiler::call_expr(Expr* e, i32 dest)
{
    Expr* callee = e->a;
    switch (e->res) {
    case ResNothing:
        return void_operand();
    case ResCallValue:
        return call_value(e, expr(callee), dest);
    case ResCallSuper:
        if (callee->kind == ExprKind::Super) {
            Operand self { m_fs->cls->type, 0, false };
            return call_function(e, m_functions[e->symbol], &self, false, dest);
        }
        break;
    case ResCallMethodOfThis: {
        Operand self { m_fs->cls->type, 0, false };
        return call_function(e, m_functions[e->symbol], &self, true, dest);
    }
    case ResCallFunction:
        if (callee->kind != ExprKind::Member)
            return call_function(e, m_functions[e->symbol], nullptr, false, dest);
        break;
    case ResAccessorGetOfThis:
    case ResAccessorSetOfThis:
        return accessor_call(e, Operand { m_fs->cls->type, 0, false }, dest);
    case ResAssert: {
        Operand c = expr(e->args[0], m_types.boolean());
        m_line = e->line;
        emit(Op::Assert, c.reg);
        release(c);
        return void_operand();
    }
    default:
        break;
    }
    return method_call(e, dest);
}

// Compiles `obj.name(args)` and `Class.name(args)` as the checker resolved
// them: System.p, String.valueOf and String.format, library natives and
// static methods by class name, super methods, and on a value its methods
// (virtual), function-valued fields, accessors, isNull, toString,
// getTypeId, splice and the natives of built-in types.
Operand Compiler::method_call(Expr* e, i32 dest)
{
    switch (e->res) {
    case ResPrint: {
        Operand v = expr(e->args[0]);
        if (v.type->kind == TypeKind::Class)
            v = string_of(v, e->args[0]);
        m_line = e->line;
        emit(Op::Print, v.reg, 0, 0, v.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(v.type));
        release(v);
        return void_operand();
    }
    case ResValueOf:
        // String.valueOf(x): the text of any value, as `"" + x` makes it.
        return to_string(expr(e->args[0]), e->args[0], dest);
    case ResFormat:
        return format_call(e, dest);
    case ResCallNative:
        return call_native(e, (i32)e->symbol, nullptr, nullptr, dest);
    case ResCallFunction:
        return call_function(e, m_functions[e->symbol], nullptr, false, dest);
    case ResCallSuper: {
        Operand self { m_fs->cls->type, 0, false };
        return call_function(e, m_functions[e->symbol], &self, false, dest);
    }
    default:
        break;
    }
    Operand obj = expr(e->a->a);
    Type* t = obj.type;
    switch (e->res) {
    case ResIsNull: {
        release(obj);
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::IsNull, r.reg, obj.reg);
        return r;
    }
    case ResCallMethod:
        return call_function(e, m_functions[e->symbol], &obj, true, dest);
    case ResCallField: {
        Type* ft = t->cls->fields[e->symbol].type;
        Operand fv { ft, alloc_reg(true), true };
        emit(Op::GetField, fv.reg, obj.reg, e->symbol);
        release(obj);
        return call_value(e, fv, dest);
    }
    case ResAccessorGet:
    case ResAccessorSet:
        return accessor_call(e, obj, dest);
    case ResToString:
        return to_string(obj, e, dest);
    case ResTypeIdOf: {
        // The dynamic type: an Object may hold a box, a string, a subclass...
        release(obj);
        Operand r = target_reg(dest, m_types.int_type());
        emit(Op::TypeId, r.reg, obj.reg);
        return r;
    }
    case ResTypeIdStatic: {
        // Konoha's type id; the static type is the dynamic one for these types.
        release(obj);
        Operand r = target_reg(dest, m_types.int_type());
        load_int(r.reg, static_type_id(t));
        return r;
    }
    case ResSplice:
        return splice_call(e, obj, dest);
    default:
        return call_native(e, (i32)e->symbol, &obj, t, dest);
    }
}

// Compiles splice(start, count, items...) (JavaScript's, Konoha's) on the
// array [obj]: the items travel as an array literal of the element type to
// Array.__splice.
Operand Compiler::splice_call(Expr* e, Operand obj, i32 dest)
{
    Type* t = obj.type;
    u16 regs[4];
    regs[0] = obj.reg;
    regs[1] = alloc_reg(false);
    expr_into(e->args[0], regs[1], m_types.int_type());
    regs[2] = alloc_reg(false);
    expr_into(e->args[1], regs[2], m_types.int_type());
    Expr items = *e;
    items.kind = ExprKind::ArrayLit;
    items.args = e->args + 2;
    items.arg_count = e->arg_count - 2;
    regs[3] = alloc_reg(true);
    Operand list = array_literal(&items, t, regs[3]);
    if (list.reg != regs[3])
        emit_move(regs[3], list.reg);
    release(list);
    for (u32 i = 1; i < 4; i++)
        free_reg(regs[i]);
    release(obj);
    Operand r = target_reg(dest, t);
    m_line = e->line;
    emit(Op::CallNative, r.reg, (u32)find_native("Array", "__splice", 3), 4, 1);
    emit_args(regs, 4);
    return r;
}

// Compiles a call of one of Konoha's accessors (check_accessor()) on
// [obj]: a getter reads the field whose slot is [symbol], a setter stores
// its argument there.
Operand Compiler::accessor_call(Expr* e, Operand obj, i32 dest)
{
    if (e->res == ResAccessorGet || e->res == ResAccessorGetOfThis) {
        release(obj);
        Operand r = target_reg(dest, type_of(e));
        emit(Op::GetField, r.reg, obj.reg, e->symbol);
        return r;
    }
    Operand v = assigned_value(e->args[0], obj.type->cls->fields[e->symbol].type);
    m_line = e->line;
    emit(Op::SetField, obj.reg, e->symbol, v.reg);
    release(v);
    release(obj);
    return void_operand();
}

// Konoha's type id of a value of type [t] that is not a class (classes ask
// the VM: Op::TypeId): boolean 3, int 4, String 5, arrays 6, functions 9,
// Map 12, Bytes 13.
i64 Compiler::static_type_id(Type* t)
{
    switch (t->kind) {
    case TypeKind::Boolean: return 3;
    case TypeKind::Int: return 4;
    case TypeKind::String: return 5;
    case TypeKind::Array: return 6;
    case TypeKind::Func: return 9;
    case TypeKind::Map: return 12;
    case TypeKind::Bytes: return 13;
    default: return 0;
    }
}

// Compiles `new C(args)`: allocates the instance and calls the constructor
// the checker chose ([symbol]); built-in types: NewMap, an empty NewArray,
// Bytes's native.
Operand Compiler::new_expr(Expr* e, i32 dest)
{
    Type* t = type_of(e);
    if (t->kind == TypeKind::Map) {
        Operand r = target_reg(dest, t);
        u8 x = (u8)(value_kind(t->key) | (value_kind(t->elem) << 4));
        emit_imm(Op::NewMap, r.reg, (i32)type_index(t), x);
        return r;
    }
    if (t->kind == TypeKind::Array) {
        // new T[](capacity) (Konoha): empty; the capacity is evaluated, but
        // only a hint.
        if (e->arg_count == 1) {
            Operand capacity = expr(e->args[0], m_types.int_type());
            release(capacity);
        }
        Operand size { m_types.int_type(), alloc_reg(false), true };
        emit_imm(Op::LoadI, size.reg, 0);
        release(size);
        Operand r = target_reg(dest, t);
        type_index(t);
        emit(Op::NewArray, r.reg, size.reg, add_constant(null_value(t->elem), value_kind(t->elem), t->elem),
            value_kind(t->elem));
        return r;
    }
    if (t->kind == TypeKind::Bytes)
        return call_native(e, (i32)e->symbol, nullptr, nullptr, dest);
    // The object goes into a register of its own first: a destination that
    // is also an argument (p = new P(p)) must keep its value until the call.
    Operand obj { t, alloc_reg(true), true };
    emit(Op::NewObject, obj.reg, t->cls->id);
    Operand self { t, obj.reg, false };
    call_function(e, m_functions[e->symbol], &self, false, -1);
    if (dest >= 0) {
        emit_move((u16)dest, obj.reg);
        release(obj);
        return Operand { t, (u16)dest, false };
    }
    return obj;
}

// Compiles `new T[n]`: an array of [n] default values.
Operand Compiler::new_array_expr(Expr* e, i32 dest)
{
    Type* t = type_of(e);
    Type* elem = t->elem;
    Operand size = expr(e->a, m_types.int_type());
    release(size);
    Operand r = target_reg(dest, t);
    type_index(t);   // The verifier types the result as the array of the default's type.
    emit(Op::NewArray, r.reg, size.reg, add_constant(null_value(elem), value_kind(elem), elem), value_kind(elem));
    return r;
}

// Compiles `[a, b, ...]`; the element type comes from [expected] or the
// first element's type, widened (the elements so far boxed when it becomes
// Object) as later elements of other types come, as the checker found.
Operand Compiler::array_literal(Expr* e, Type* expected, i32 dest)
{
    Type* elem = expected && expected->kind == TypeKind::Array ? expected->elem : nullptr;
    bool inferred = !elem;
    u32 n = e->arg_count;
    Vector<u16> regs(m_memory);
    for (u32 i = 0; i < n; i++) {
        Expr* a = e->args[i];
        if (!elem) {
            Operand first = expr(a);
            elem = first.type;
            u16 t = alloc_for(elem);
            emit_move(t, first.reg);
            release(first);
            if (!regs.try_append(t))
                oom();
            continue;
        }
        if (!inferred) {
            u16 t = alloc_for(elem);
            expr_into(a, t, elem);
            if (!regs.try_append(t))
                oom();
            continue;
        }
        // Inferred from the first element: an element of another type makes
        // it a mixed literal, Object[] (Konoha), its elements so far boxed.
        Operand v = expr(a);
        if (!assignable(elem, v.type) && v.type->kind != TypeKind::Null) {
            Type* common = m_object->type;
            if (elem->kind == TypeKind::Class && v.type->kind == TypeKind::Class)
                if (ClassSym* c = common_superclass(elem->cls, v.type->cls))
                    common = c->type;
            if (boxes(common, elem)) {
                for (u16& r : regs) {
                    Operand boxed = box(Operand { elem, r, true }, -1);
                    r = boxed.reg;
                }
            }
            elem = common;
        }
        u16 t = alloc_for(elem);
        if (boxes(elem, v.type))
            box(v, t);
        else if (v.type->kind == TypeKind::Null) {
            release(v);
            load_null(t, elem);
        } else {
            emit_move(t, v.reg);
            release(v);
        }
        if (!regs.try_append(t))
            oom();
    }
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return Operand { type_of(e), 0, false };
    }
    for (u16 r : regs)
        free_reg(r);
    Operand r = target_reg(dest, t);
    u32 type = type_index(t);
    if (type > 0xffff)
        error_at(e, "too many types in the program for an array literal");
    emit(Op::ArrayLiteral, r.reg, type, n, value_kind(elem));
    emit_args(regs.data(), n);
    return r;
}

// Compiles String.format(format, args...). Natives take a fixed number of
// arguments of fixed types, so the arguments travel in two arrays built
// here: int[] pairs, (kind, value) for each argument (kind 0 int, 1
// boolean, 2 other, whose value is 0), and String[] texts, each
// argument's text (its own toString() for objects that have one); the
// native String.__format (core/lib/StringLib.cpp) checks the conversions
// against the kinds at run time.
Operand Compiler::format_call(Expr* e, i32 dest)
{
    u32 argc = e->arg_count;
    u16 regs[3];
    regs[0] = alloc_reg(true);
    expr_into(e->args[0], regs[0], m_types.string());
    Vector<u16> pairs(m_memory);
    Vector<u16> texts(m_memory);
    for (u32 i = 1; i < argc; i++) {
        Expr* arg = e->args[i];
        Operand v = expr(arg);
        u16 kind = alloc_reg(false);
        u16 value = alloc_reg(false);
        u16 text = alloc_reg(true);
        if (!pairs.try_append(kind) || !pairs.try_append(value) || !texts.try_append(text))
            oom();
        bool number = v.type->kind == TypeKind::Int || v.type->kind == TypeKind::Boolean;
        emit_imm(Op::LoadI, kind, number ? (v.type->kind == TypeKind::Int ? 0 : 1) : 2);
        if (number)
            emit_move(value, v.reg);
        else
            emit_imm(Op::LoadI, value, 0);
        Operand s = to_string(v, arg, text);
        if (s.reg != text)
            emit_move(text, s.reg);
        release(s);
    }
    // Typed for the verifier: int[] and String[] from the type table (the
    // checker made both types).
    u32 int_array_type = type_index(m_types.array_of(m_types.int_type()));
    u32 string_array_type = type_index(m_types.array_of(m_types.string()));
    if (int_array_type > 0xffff || string_array_type > 0xffff)
        error_at(e, "too many types in the program for an array literal");
    regs[1] = alloc_reg(true);
    emit(Op::ArrayLiteral, regs[1], int_array_type, pairs.size(), KindInt);
    emit_args(pairs.data(), pairs.size());
    regs[2] = alloc_reg(true);
    emit(Op::ArrayLiteral, regs[2], string_array_type, texts.size(), KindRef);
    emit_args(texts.data(), texts.size());
    for (u16 r : pairs)
        free_reg(r);
    for (u16 r : texts)
        free_reg(r);
    for (u16 r : regs)
        free_reg(r);
    i32 native = find_native("String.", "__format", 3);
    Operand r = target_reg(dest, m_types.string());
    m_line = e->line;
    emit(Op::CallNative, r.reg, (u32)native, 3, 1);
    emit_args(regs, 3);
    return r;
}

}   // namespace ks::compiler
