// Member access, indexing, calls (functions, methods, natives, function
// values), `new` and array literals.
#include "CompilerInternal.h"

namespace ks::compiler {

// Compiles `obj.name`: a field of a class instance, `global.x`, or a
// property of a built-in value (`s.length`, `a.length`, `a.size`).
KS_NOINLINE Operand Compiler::member_expr(Expr* e, i32 dest)
{
    if (e->a->kind == ExprKind::Name && str_equal(e->a->name, "global") && !find_local("global")) {
        GlobalSym* g = find_global(e->name);
        if (!g) {
            error_at(e, "undefined global '%s'", e->name);
            return error_operand();
        }
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    if (ClassSym* c = class_receiver(e->a)) {
        // A class constant: Class.NAME.
        GlobalSym* g = class_constant(c, e->name);
        if (!g) {
            error_at(e, "'%s' has no constant '%s'", c->name, e->name);
            return error_operand();
        }
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    Operand obj = expr(e->a);
    if (obj.type->kind == TypeKind::Error)
        return obj;
    if (obj.type->kind == TypeKind::Class) {
        FieldSym* f = find_field(obj.type->cls, e->name);
        if (!f) {
            member_error(e, "'%s' has no field '%s'", obj.type->cls->name, e->name, SuggestFields, obj.type->cls);
            release(obj);
            return error_operand();
        }
        release(obj);
        Operand r = target_reg(dest, f->type);
        emit(Op::GetField, r.reg, obj.reg, f->slot);
        return r;
    }
    // `s.length` and `a.length` / `a.size` read like properties too.
    const char* owner = native_owner(obj.type);
    if (owner && (str_equal(e->name, "length") || str_equal(e->name, "size"))) {
        i32 n = find_native(owner, e->name, 0);
        if (n >= 0)
            return call_native(e, n, &obj, obj.type, dest);
    }
    type_error(e->a, "'%s' has no fields", obj.type);
    release(obj);
    return error_operand();
}

// Compiles `a[i]` on arrays, maps, strings and Bytes.
Operand Compiler::index_expr(Expr* e, i32 dest)
{
    Operand obj = expr(e->a);
    Type* t = obj.type;
    if (t->kind == TypeKind::Error)
        return obj;
    if (t->kind == TypeKind::Array) {
        Operand ix = expr(e->b, m_types.int_type());
        if (ix.type->kind != TypeKind::Int)
            type_error(e->b, "array index must be int, not '%s'", ix.type);
        release(ix);
        release(obj);
        Operand r = target_reg(dest, t->elem);
        emit(Op::ArrayGet, r.reg, obj.reg, ix.reg);
        return r;
    }
    const char* owner = native_owner(t);
    if (owner && t->kind != TypeKind::Array) {
        i32 n = find_native(owner, "get", 1);
        if (n >= 0) {
            // Reuse the call path with a synthetic argument list.
            Expr call = *e;
            Expr* args[1] = { e->b };
            call.args = args;
            call.arg_count = 1;
            return call_native(&call, n, &obj, t, dest);
        }
    }
    type_error(e->a, "'%s' cannot be indexed", t);
    release(obj);
    return error_operand();
}

// Evaluates the arguments of [call] against [params] (null: any type) into
// fresh registers [regs], after the receiver's register if there is one.
// The caller frees every argument register after emitting the call.
void Compiler::args_into(Expr* call, Type** params, u32 count, u16* regs, Operand* receiver, FuncSym* func)
{
    u32 k = 0;
    if (receiver)
        regs[k++] = receiver->reg;
    FuncSym* outer_func = m_arg_func;
    u32 outer_index = m_arg_index;
    for (u32 i = 0; i < count; i++) {
        Expr* a = call->args[i];
        Type* pt = params ? params[i] : nullptr;
        if (!pt) {
            // "any" parameter.
            Operand op = expr(a);
            regs[k++] = op.reg;
            if (!op.temp) {
                // Keep a copy so that freeing below is uniform.
                u16 t = alloc_for(op.type->kind == TypeKind::Error ? m_types.int_type() : op.type);
                emit_move(t, op.reg);
                regs[k - 1] = t;
            }
            continue;
        }
        u16 t = alloc_for(pt);
        m_arg_func = func;
        m_arg_index = i;
        expr_into(a, t, pt, "argument");
        regs[k++] = t;
    }
    m_arg_func = outer_func;
    m_arg_index = outer_index;
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
        return error_operand();
    args_into(e, f->params, argc, regs, receiver, f);
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
    u32 count;
    const NativeInfo& info = native_table(&count)[native];
    const char* sig = info.signature;
    u32 argc = (u32)str_length(sig) - 1;
    Type* params[8];
    for (u32 i = 0; i < argc && i < 8; i++)
        params[i] = native_type(sig[i + 1], receiver_type);
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
    if (e->arg_count != ft->param_count) {
        error(e->line, e->column, "this function value takes %d arguments", nullptr, nullptr, ft->param_count);
        release(callee);
        return error_operand();
    }
    u16* regs = arena_array<u16>(e->arg_count + 1);
    if (!regs)
        return error_operand();
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

// Compiles `f(args)`: a local or global function value, a top-level
// function, a method of `this`, a built-in function (print, ...), or super(...)
// in a constructor.
Operand Compiler::call_expr(Expr* e, i32 dest)
{
    if (e->arg_count > kMaxParams) {
        error_at(e, "too many arguments");
        return error_operand();
    }
    Expr* callee = e->a;
    if (callee->kind == ExprKind::Member)
        return method_call(e, dest);
    if (callee->kind == ExprKind::Super) {
        // super(...) in a constructor.
        if (!m_fs->is_ctor || !m_fs->cls || !m_fs->cls->super) {
            error_at(e, "super(...) can only be called in a constructor");
            return error_operand();
        }
        ClassSym* sup = m_fs->cls->super;
        for (FuncSym* c : sup->ctors) {
            if (c->param_count == e->arg_count) {
                Operand self { m_fs->cls->type, 0, false };
                return call_function(e, c, &self, false, dest);
            }
        }
        if (sup == m_object && e->arg_count == 0)
            return Operand { m_types.void_type(), 0, false };
        error(e->line, e->column, "'%s' has no constructor with %d parameters", sup->name, nullptr, e->arg_count);
        return error_operand();
    }
    if (callee->kind == ExprKind::Name) {
        const char* name = callee->name;
        Local* l = find_local(name);
        GlobalSym* g = l ? nullptr : find_global(name);
        if ((l && l->type->kind == TypeKind::Func) || (g && g->type->kind == TypeKind::Func)) {
            Operand fv = expr(callee);
            return call_value(e, fv, dest);
        }
        if (!l && !g && str_equal(name, "AllowImplicitGlobalVariable") && !function_name_exists(name)) {
            // Konoha's switch: from here on, `n = 1` at the top level declares n.
            if (e->arg_count != 1 || e->args[0]->kind != ExprKind::Bool) {
                error_at(e, "AllowImplicitGlobalVariable takes true or false");
                return error_operand();
            }
            m_implicit_globals = e->args[0]->int_value != 0;
            return Operand { m_types.void_type(), 0, false };
        }
        if (!l && !g && str_equal(name, "Import") && !function_name_exists(name)) {
            error_at(e, "'Import' is not Konoha's import: write import(\"...\")");
            return error_operand();
        }
        if (!l && !g && str_equal(name, "assert")) {
            if (e->arg_count != 1) {
                error_at(e, "assert takes one boolean argument");
                return error_operand();
            }
            Operand c = expr(e->args[0], m_types.boolean());
            if (c.type->kind != TypeKind::Boolean)
                type_error(e->args[0], "assert needs a boolean, not '%s'", c.type);
            m_line = e->line;
            emit(Op::Assert, c.reg);
            release(c);
            return Operand { m_types.void_type(), 0, false };
        }
        if (m_fs->cls) {
            if (FuncSym* m = find_method(m_fs->cls, name, e->arg_count)) {
                Operand self { m_fs->cls->type, 0, false };
                return call_function(e, m, &self, true, dest);
            }
        }
        if (FuncSym* f = static_function(static_scope(), name, e->arg_count))
            return call_function(e, f, nullptr, false, dest);
        if (FuncSym* f = find_function(name, e->arg_count))
            return call_function(e, f, nullptr, false, dest);
        if (m_fs->cls) {
            Operand self { m_fs->cls->type, 0, false };
            Operand r;
            if (accessor_call(e, self, m_fs->cls, name, dest, &r))
                return r;
        }
        if (l || g) {
            error_at(e, "'%s' is not a function", name);
            return error_operand();
        }
        if (function_name_exists(name)) {
            FuncSym* found[3];
            u32 count = 0;
            m_function_index.find(name, [&](u32 i) {
                FuncSym* f = m_functions[i];
                if (!f->owner && str_equal(f->name, name) && count < 3)
                    found[count++] = f;
                return false;
            });
            arity_error(e, "no function '%s' takes %d arguments", name, e->arg_count, found, count);
        } else {
            undefined_error(e, "undefined function '%s'", name, SuggestFunctions);
        }
        return error_operand();
    }
    Operand fv = expr(callee);
    if (fv.type->kind == TypeKind::Func)
        return call_value(e, fv, dest);
    if (fv.type->kind != TypeKind::Error)
        type_error(callee, "'%s' is not a function", fv.type);
    release(fv);
    return error_operand();
}

// Compiles `obj.name(args)` and `Class.name(args)`: methods of classes
// (virtual unless final or super), natives of built-in types and static
// natives, and calls of function-valued fields.
Operand Compiler::method_call(Expr* e, i32 dest)
{
    Expr* callee = e->a;
    Expr* recv = callee->a;
    const char* name = callee->name;
    u32 argc = e->arg_count;
    if (recv->kind == ExprKind::Name && !find_local(recv->name) && !find_global(recv->name)
        && !(m_fs->cls && find_field(m_fs->cls, recv->name))) {
        const char* ns = recv->name;
        if (str_equal(ns, "System") && str_equal(name, "p")) {
            if (argc != 1) {
                error_at(e, "System.p takes one argument");
                return error_operand();
            }
            Operand v = expr(e->args[0]);
            if (v.type->kind == TypeKind::Void) {
                error_at(e->args[0], "a void value cannot be printed");
                return error_operand();
            }
            if (v.type->kind == TypeKind::Class)
                v = string_of(v, e->args[0]);
            m_line = e->line;
            emit(Op::Print, v.reg, 0, 0, v.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(v.type));
            release(v);
            return Operand { m_types.void_type(), 0, false };
        }
        // String.valueOf(x): the text of any value, as `"" + x` makes it.
        if (str_equal(ns, "String") && str_equal(name, "valueOf") && argc == 1) {
            Operand v = expr(e->args[0]);
            if (v.type->kind == TypeKind::Error)
                return v;
            if (v.type->kind == TypeKind::Void) {
                error_at(e->args[0], "a void value has no text");
                release(v);
                return error_operand();
            }
            return to_string(v, e->args[0], dest);
        }
        if (str_equal(ns, "String") && str_equal(name, "format"))
            return format_call(e, dest);
        const Library* library = find_library(ns);
        const char* owner = library ? library->function_owner : nullptr;
        if (owner) {
            // Natives named __* are the built-in classes' way to the host
            // (Device, Proc, Timer): no script may call them itself.
            if (name[0] == '_' && name[1] == '_' && !m_in_prelude) {
                error_at(e, "'%s.%s' is internal to the built-in classes", ns, name);
                return error_operand();
            }
            i32 n = find_native(owner, name, argc);
            if (n < 0) {
                error_at(e, "'%s' has no function '%s' with these arguments", ns, name);
                return error_operand();
            }
            return call_native(e, n, nullptr, nullptr, dest);
        }
        if (ClassSym* c = find_class(ns)) {
            bool other_count = false;
            if (FuncSym* f = static_function(c, name, argc, &other_count))
                return call_function(e, f, nullptr, false, dest);
            if (other_count) {
                const char* q = qualified(ns, name);
                FuncSym* found[3];
                u32 count = 0;
                m_function_index.find(q, [&](u32 i) {
                    FuncSym* f = m_functions[i];
                    if (str_equal(f->name, q) && count < 3)
                        found[count++] = f;
                    return false;
                });
                arity_error(e, "no static method '%s' takes %d arguments", q, argc, found, count);
            } else if (find_method(c, name, argc))
                error_at(e, "'%s.%s' is not a static method; call it on an instance", ns, name);
            else
                error_at(e, "'%s' has no static method '%s'", ns, name);
            return error_operand();
        }
    }
    if (recv->kind == ExprKind::Super) {
        if (!m_fs->cls || !m_fs->cls->super) {
            error_at(e, "'super' is only valid inside methods of a subclass");
            return error_operand();
        }
        FuncSym* m = find_method(m_fs->cls->super, name, argc);
        if (!m) {
            error_at(e, "'%s' has no method '%s'", m_fs->cls->super->name, name);
            return error_operand();
        }
        Operand self { m_fs->cls->type, 0, false };
        return call_function(e, m, &self, false, dest);
    }
    Operand obj = expr(recv);
    Type* t = obj.type;
    if (t->kind == TypeKind::Error)
        return obj;
    if (str_equal(name, "isNull") && argc == 0 && is_reference(t)) {
        release(obj);
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::IsNull, r.reg, obj.reg);
        return r;
    }
    if (t->kind == TypeKind::Class) {
        if (FuncSym* m = find_method(t->cls, name, argc))
            return call_function(e, m, &obj, true, dest);
        if (FieldSym* f = find_field(t->cls, name)) {
            if (f->type->kind == TypeKind::Func) {
                Operand fv { f->type, alloc_reg(true), true };
                emit(Op::GetField, fv.reg, obj.reg, f->slot);
                release(obj);
                return call_value(e, fv, dest);
            }
        }
        {
            Operand r;
            if (accessor_call(e, obj, t->cls, name, dest, &r))
                return r;
        }
        if (str_equal(name, "toString") && argc == 0) {
            Operand r = to_string(obj, e, dest);
            return r;
        }
        if (str_equal(name, "getTypeId") && argc == 0) {
            // The dynamic type: an Object may hold a box, a string, a subclass...
            release(obj);
            Operand r = target_reg(dest, m_types.int_type());
            emit(Op::TypeId, r.reg, obj.reg);
            return r;
        }
        FuncSym* found[3];
        u32 count = 0;
        for (FuncSym* m : t->cls->vtable)
            if (str_equal(m->name, name) && count < 3)
                found[count++] = m;
        if (count) {
            char what[128];
            usize n = 0;
            for (const char* p = t->cls->name; *p && n < 60; p++)
                what[n++] = *p;
            what[n++] = '.';
            for (const char* p = name; *p && n < 126; p++)
                what[n++] = *p;
            what[n] = 0;
            arity_error(e, "no method '%s' takes %d arguments", what, argc, found, count);
        } else {
            member_error(e, "'%s' has no method '%s'", t->cls->name, name, SuggestMethods, t->cls);
        }
        release(obj);
        return error_operand();
    }
    if ((t->kind == TypeKind::Int || t->kind == TypeKind::Boolean) && str_equal(name, "toString") && argc == 0)
        return to_string(obj, e, dest);
    if (name[0] == '_' && name[1] == '_' && !m_in_prelude) {
        error(e->line, e->column, "'%s' is internal to the built-in library", name);
        release(obj);
        return error_operand();
    }
    // splice(start, count, items...) (JavaScript's, Konoha's): the items
    // travel as an array literal of the element type to Array.__splice.
    if (t->kind == TypeKind::Array && argc >= 3 && str_equal(name, "splice")) {
        u16 regs[4];
        regs[0] = obj.reg;
        regs[1] = alloc_reg(false);
        expr_into(e->args[0], regs[1], m_types.int_type(), "splice start");
        regs[2] = alloc_reg(false);
        expr_into(e->args[1], regs[2], m_types.int_type(), "splice count");
        Expr items = *e;
        items.kind = ExprKind::ArrayLit;
        items.args = e->args + 2;
        items.arg_count = argc - 2;
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
    if (t->kind == TypeKind::Array && argc == 0 && str_equal(name, "sort") && t->elem->kind != TypeKind::Int
        && t->elem->kind != TypeKind::Boolean && t->elem->kind != TypeKind::String) {
        type_error(e, "sort() orders ints and Strings; sort '%s' with a comparator: sort(Func[int, T, T])", t);
        release(obj);
        return error_operand();
    }
    const char* owner = native_owner(t);
    if (owner) {
        i32 n = find_native(owner, name, argc);
        if (n >= 0)
            return call_native(e, n, &obj, t, dest);
    }
    if (t->kind != TypeKind::Void && t->kind != TypeKind::Null && argc == 0) {
        // Every value has toString() and getTypeId() (Konoha's type id; the
        // static type is the dynamic one for these types).
        if (str_equal(name, "toString"))
            return to_string(obj, e, dest);
        if (str_equal(name, "getTypeId")) {
            release(obj);
            Operand r = target_reg(dest, m_types.int_type());
            load_int(r.reg, static_type_id(t));
            return r;
        }
    }
    no_method_error(e, t, name, argc);
    release(obj);
    return error_operand();
}

// The field of [cls] that accessor name [rest] (after get, set or is) names:
// the field itself (`getage` -> age) or, capitalised, with its first letter
// lowered (`getAge` -> age).
FieldSym* Compiler::accessor_field(ClassSym* cls, const char* rest)
{
    if (!*rest)
        return nullptr;
    if (FieldSym* f = find_field(cls, rest))
        return f;
    if (rest[0] < 'A' || rest[0] > 'Z')
        return nullptr;
    char lowered[128];
    usize n = str_length(rest);
    if (n >= sizeof(lowered))
        return nullptr;
    mem_copy(lowered, rest, n + 1);
    lowered[0] = (char)(lowered[0] - 'A' + 'a');
    return find_field(cls, lowered);
}

// Konoha's accessors, when class [cls] defines no method [name]: a field
// `age` has getage()/getAge() and setage(v)/setAge(v), a boolean field
// `child` also ischild()/isChild(). Compiles the call [e] on [obj] into
// [*out] and returns true, or returns false when [name] is no accessor.
bool Compiler::accessor_call(Expr* e, Operand obj, ClassSym* cls, const char* name, i32 dest, Operand* out)
{
    u32 argc = e->arg_count;
    FieldSym* f = nullptr;
    if (argc == 0 && name[0] == 'g' && name[1] == 'e' && name[2] == 't')
        f = accessor_field(cls, name + 3);
    else if (argc == 0 && name[0] == 'i' && name[1] == 's') {
        f = accessor_field(cls, name + 2);
        if (f && f->type->kind != TypeKind::Boolean)
            f = nullptr;
    } else if (argc == 1 && name[0] == 's' && name[1] == 'e' && name[2] == 't')
        f = accessor_field(cls, name + 3);
    if (!f)
        return false;
    if (argc == 0) {
        release(obj);
        Operand r = target_reg(dest, f->type);
        emit(Op::GetField, r.reg, obj.reg, f->slot);
        *out = r;
        return true;
    }
    Operand v = assigned_value(e->args[0], f->type);
    m_line = e->line;
    emit(Op::SetField, obj.reg, f->slot, v.reg);
    release(v);
    release(obj);
    *out = Operand { m_types.void_type(), 0, false };
    return true;
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
// with the matching parameter count (built-in types: their natives).
Operand Compiler::new_expr(Expr* e, i32 dest)
{
    Type* t = resolve_type(e->type);
    if (t->kind == TypeKind::Error)
        return error_operand();
    if (t->kind == TypeKind::Map) {
        if (e->arg_count)
            error_at(e, "a new Map takes no arguments");
        Operand r = target_reg(dest, t);
        u8 x = (u8)(value_kind(t->key) | (value_kind(t->elem) << 4));
        emit_imm(Op::NewMap, r.reg, (i32)type_index(t), x);
        return r;
    }
    if (t->kind == TypeKind::Array) {
        // new T[](capacity) (Konoha): empty; the capacity is checked and
        // evaluated, but only a hint.
        if (e->arg_count > 1)
            error_at(e, "use new T[n] for an array of n elements");
        if (e->arg_count == 1) {
            Operand capacity = expr(e->args[0], m_types.int_type());
            if (capacity.type->kind != TypeKind::Int && capacity.type->kind != TypeKind::Error)
                type_error(e->args[0], "the capacity of new T[](n) must be an int, not '%s'", capacity.type);
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
    if (t->kind == TypeKind::Bytes) {
        i32 n = find_native("Bytes.", "new", e->arg_count);
        if (n < 0) {
            error_at(e, "new Bytes(n) takes the size");
            return error_operand();
        }
        return call_native(e, n, nullptr, nullptr, dest);
    }
    if (t->kind != TypeKind::Class) {
        type_error(e, "cannot create '%s' with new", t);
        return error_operand();
    }
    ClassSym* c = t->cls;
    FuncSym* ctor = nullptr;
    for (FuncSym* k : c->ctors)
        if (k->param_count == e->arg_count)
            ctor = k;
    if (!ctor) {
        error(e->line, e->column, "'%s' has no constructor with %d parameters", c->name, nullptr, e->arg_count);
        return error_operand();
    }
    // The object goes into a register of its own first: a destination that
    // is also an argument (p = new P(p)) must keep its value until the call.
    Operand obj { t, alloc_reg(true), true };
    emit(Op::NewObject, obj.reg, c->id);
    Operand self { t, obj.reg, false };
    call_function(e, ctor, &self, false, -1);
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
    Type* elem = resolve_type(e->type);
    if (elem->kind == TypeKind::Error)
        return error_operand();
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return error_operand();
    }
    Operand size = expr(e->a, m_types.int_type());
    if (size.type->kind != TypeKind::Int)
        type_error(e->a, "array size must be int, not '%s'", size.type);
    release(size);
    Operand r = target_reg(dest, t);
    type_index(t);   // The verifier types the result as the array of the default's type.
    emit(Op::NewArray, r.reg, size.reg, add_constant(null_value(elem), value_kind(elem), elem), value_kind(elem));
    return r;
}

// Compiles `[a, b, ...]`; the element type comes from [expected] or the
// first element's type.
Operand Compiler::array_literal(Expr* e, Type* expected, i32 dest)
{
    Type* elem = expected && expected->kind == TypeKind::Array ? expected->elem : nullptr;
    bool inferred = !elem;
    u32 n = e->arg_count;
    if (n > kMaxParams * 200) {
        error_at(e, "array literal is too long");
        return error_operand();
    }
    Vector<u16> regs(m_memory);
    for (u32 i = 0; i < n; i++) {
        Expr* a = e->args[i];
        if (!elem) {
            Operand first = expr(a);
            if (first.type->kind == TypeKind::Null || first.type->kind == TypeKind::Void) {
                error_at(a, "cannot infer the element type of this array literal");
                release(first);
                return error_operand();
            }
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
            expr_into(a, t, elem, "array element");
            if (!regs.try_append(t))
                oom();
            continue;
        }
        // Inferred from the first element: an element of another type makes
        // it a mixed literal, Object[] (Konoha), its elements so far boxed.
        Operand v = expr(a);
        if (v.type->kind == TypeKind::Void || v.type->kind == TypeKind::Error) {
            if (v.type->kind == TypeKind::Void)
                error_at(a, "a void value cannot be used");
            release(v);
            for (u16 r : regs)
                free_reg(r);
            return error_operand();
        }
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
    if (!elem) {
        error_at(e, "cannot infer the type of an empty array literal here");
        return error_operand();
    }
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return error_operand();
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
    if (argc < 1) {
        error_at(e, "String.format takes a format string and the values it formats");
        return error_operand();
    }
    u16 regs[3];
    regs[0] = alloc_reg(true);
    expr_into(e->args[0], regs[0], m_types.string(), "format");
    Vector<u16> pairs(m_memory);
    Vector<u16> texts(m_memory);
    bool ok = true;
    for (u32 i = 1; i < argc; i++) {
        Expr* arg = e->args[i];
        Operand v = expr(arg);
        if (v.type->kind == TypeKind::Error) {
            ok = false;
            continue;
        }
        if (v.type->kind == TypeKind::Void) {
            error_at(arg, "a void value cannot be formatted");
            release(v);
            ok = false;
            continue;
        }
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
    Type* int_array = m_types.array_of(m_types.int_type());
    Type* string_array = m_types.array_of(m_types.string());
    if (!int_array || !string_array)
        oom();
    if (!ok || m_failed || !int_array || !string_array) {
        for (u16 r : pairs)
            free_reg(r);
        for (u16 r : texts)
            free_reg(r);
        free_reg(regs[0]);
        return error_operand();
    }
    // Typed for the verifier: int[] and String[] from the type table.
    u32 int_array_type = type_index(int_array), string_array_type = type_index(string_array);
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
