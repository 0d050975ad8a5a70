// The emitter for expressions other than calls: each returns an Operand,
// the register that holds its value and its static type. Literals, names,
// operators, assignment, conditional, instanceof/as/to and block
// expressions; calls, member access and `new` are in Calls.cpp. The tree
// was checked (Checker.cpp) and has no error: names, fields, globals and
// conversions come resolved in the annotations (Expr::res, symbol,
// type_id), and nothing here reports a type error. Only the limits of the
// code made (registers, types, size) are found here.
#include "CompilerInternal.h"

namespace ks::compiler {

// The register for a result of [type]: [dest] when given (>= 0), otherwise
// a new temporary.
Operand Compiler::target_reg(i32 dest, Type* type)
{
    if (dest >= 0)
        return Operand { type, (u16)dest, false };
    return Operand { type, alloc_for(type), true };
}

// Compiles [e] into register [dest] of [dest_type]: boxed when an int or
// boolean goes into an Object, the null of [dest_type] for a null literal.
void Compiler::expr_into(Expr* e, u16 dest, Type* dest_type)
{
    // An int or boolean into an Object is boxed: computed elsewhere, never
    // in [dest], whose register holds references.
    bool object = dest_type->kind == TypeKind::Class && dest_type->cls == m_object;
    Operand op = expr(e, dest_type, object ? -1 : (i32)dest);
    if (boxes(dest_type, op.type))
        op = box(op, dest);
    if (op.type->kind == TypeKind::Null) {
        release(op);
        load_null(dest, dest_type);
        return;
    }
    if (op.reg != dest) {
        emit_move(dest, op.reg);
        release(op);
    }
}

// [op] converted to [to] where it may stay in any register: boxed, or a
// null literal made the null value of [to] in a new temporary.
Operand Compiler::coerce(Operand op, Type* to)
{
    if (boxes(to, op.type))
        return box(op, -1);
    if (op.type->kind == TypeKind::Null) {
        release(op);
        Operand r { to, alloc_for(to), true };
        load_null(r.reg, to);
        return r;
    }
    return op;
}

// Compiles expression [e] (into [dest] when >= 0; [expected] guides null
// literals, array literals and conditionals, as it guided the checker) and
// returns the operand holding its value. The recursion follows the tree,
// whose depth the parser bounds (and the checker, which saw it first).
Operand Compiler::expr(Expr* e, Type* expected, i32 dest)
{
    // The checker passes the emitter no expression with an error. One that
    // arrives all the same (a bug) ends the compile with an internal error,
    // rather than code made from a node without annotations.
    if (KS_UNLIKELY(!e || e->kind == ExprKind::Error)) {
        if (!m_failed)
            error(e ? e->line : m_line, e ? e->column : 0, "internal error: an unchecked expression reached the emitter");
        m_failed = true;
        return Operand { m_types.error(), 0, false };
    }
    if (m_failed || !tick_node())
        return Operand { type_of(e), 0, false };
    // The commonest expression, a local, is its register: no code, no line.
    if (e->kind == ExprKind::Name && e->res == ResLocal)
        return Operand { type_of(e), local_reg(e->symbol), false };
    u32 saved_line = m_line;
    m_line = e->line;
    Operand r;
    switch (e->kind) {
    case ExprKind::Int: case ExprKind::Bool: case ExprKind::Null: case ExprKind::String:
        r = literal(e, dest, expected);
        break;
    case ExprKind::Name: r = name_expr(e, dest); break;
    case ExprKind::This: r = Operand { m_fs->cls->type, 0, false }; break;
    case ExprKind::Member: r = member_expr(e, dest); break;
    case ExprKind::Index: r = index_expr(e, dest); break;
    case ExprKind::Call: r = call_expr(e, dest); break;
    case ExprKind::New: r = new_expr(e, dest); break;
    case ExprKind::NewArray: r = new_array_expr(e, dest); break;
    case ExprKind::ArrayLit: r = array_literal(e, expected, dest); break;
    case ExprKind::Unary: r = unary_expr(e, dest); break;
    case ExprKind::Binary:
        r = (e->op == Tok::AndAnd || e->op == Tok::OrOr) ? logical_expr(e, dest) : binary_expr(e, dest);
        break;
    case ExprKind::Assign: r = assign_expr(e, dest); break;
    case ExprKind::IncDec: r = incdec_expr(e); break;
    case ExprKind::Conditional: r = conditional_expr(e, expected, dest); break;
    case ExprKind::InstanceOf: r = instanceof_expr(e, dest); break;
    case ExprKind::As: r = as_expr(e, dest); break;
    case ExprKind::To: r = to_expr(e, dest); break;
    case ExprKind::BlockExpr: r = block_expr(e, expected, dest); break;
    case ExprKind::Defined: r = defined_expr(e, dest); break;
    default: r = void_operand(); break;   // Error and a bare `super`: the checker refused them.
    }
    m_line = saved_line;
    return r;
}

// Whether a value of type [from] is boxed where type [to] is expected: an
// int or boolean stored as an Object.
bool Compiler::boxes(Type* to, Type* from)
{
    return to->kind == TypeKind::Class && to->cls == m_object
        && (from->kind == TypeKind::Int || from->kind == TypeKind::Boolean);
}

// [v], an int or boolean, boxed: a new instance of the built-in class `int`
// or `boolean` (ClassBoxInt, ClassBoxBoolean) holding it, typed Object, in
// [dest] (a reference register) or a new temporary.
Operand Compiler::box(Operand v, i32 dest)
{
    ClassSym* k = m_classes[v.type->kind == TypeKind::Int ? ClassBoxInt : ClassBoxBoolean];
    Operand r = target_reg(dest, m_object->type);
    emit(Op::NewObject, r.reg, k->id);
    emit(Op::SetField, r.reg, 0, v.reg);
    release(v);
    return r;
}

// The int or boolean ([t]) in the Object [v]: TypeCastException when [v]
// holds no box of that type; a null Object gives the default (0, false).
Operand Compiler::unbox(Operand v, Type* t, i32 dest)
{
    ClassSym* k = m_classes[t->kind == TypeKind::Int ? ClassBoxInt : ClassBoxBoolean];
    u16 checked = alloc_reg(true);
    emit(Op::Cast, checked, v.reg, k->id);
    release(v);
    Operand r = target_reg(dest, t);
    emit(Op::GetField, r.reg, checked, 0);
    free_reg(checked);
    return r;
}

// The type index of [t] (String, Bytes, an array, map or function type) as
// the c operand of IsType and CastType, which is 16 bits: a compile error
// for [e] beyond that.
u16 Compiler::type_operand(Type* t, Expr* e)
{
    u32 type = type_index(t);
    if (type > 0xffff) {
        error_at(e, "too many types in the program for a type test or cast");
        return 0;
    }
    return (u16)type;
}

// Compiles an int, boolean, string or null literal.
Operand Compiler::literal(Expr* e, i32 dest, Type* expected)
{
    switch (e->kind) {
    case ExprKind::Int: {
        Operand r = target_reg(dest, m_types.int_type());
        load_int(r.reg, e->int_value);
        return r;
    }
    case ExprKind::Bool: {
        Operand r = target_reg(dest, m_types.boolean());
        emit_imm(Op::LoadI, r.reg, (i32)e->int_value);
        return r;
    }
    case ExprKind::String: {
        Operand r = target_reg(dest, m_types.string());
        emit_imm(Op::LoadK, r.reg, (i32)string_constant(e->name, e->name_length));
        return r;
    }
    default: {
        // null: typed by its context when there is one.
        if (expected && is_reference(expected) && expected->kind != TypeKind::Null) {
            Operand r = target_reg(dest, expected);
            load_null(r.reg, expected);
            r.type = m_types.null_type();
            return r;
        }
        Operand r { m_types.null_type(), alloc_reg(true), true };
        emit_imm(Op::LoadK, r.reg, (i32)add_constant(m_out->null_string, KindRef, m_types.string()));
        return r;
    }
    }
}

// Loads function [f] as a value (a Func object) into [dest].
Operand Compiler::function_value(FuncSym* f, i32 dest)
{
    FuncObj* fo = m_heap->new_func(f->index);
    if (!fo) {
        oom();
        return Operand { f->func_type, 0, false };
    }
    m_heap->make_permanent(&fo->header);
    Operand r = target_reg(dest, f->func_type);
    emit_imm(Op::LoadK, r.reg, (i32)add_constant(from_obj(fo), KindRef, f->func_type));
    return r;
}

// Compiles a name as the checker resolved it: a local, a field of `this`,
// a global (or class constant), SCRIPT_ARGV, a built-in constant, or a
// top-level function used as a value.
Operand Compiler::name_expr(Expr* e, i32 dest)
{
    Type* t = type_of(e);
    switch (e->res) {
    case ResLocal:
        return Operand { t, local_reg(e->symbol), false };
    case ResField: {
        Operand r = target_reg(dest, t);
        emit(Op::GetField, r.reg, 0, e->symbol);
        return r;
    }
    case ResGlobal: {
        Operand r = target_reg(dest, t);
        emit_imm(Op::GetGlobal, r.reg, (i32)e->symbol);
        return r;
    }
    case ResScriptArgv:
        return script_argv(e, dest);
    case ResBuiltinConstant: {
        u32 constant_count;
        const BuiltinConstant* constants = builtin_constants(&constant_count);
        Operand r = target_reg(dest, t);
        load_int(r.reg, constants[e->symbol].value);
        return r;
    }
    default:
        return function_value(m_functions[e->symbol], dest);
    }
}

// SCRIPT_ARGV (Konoha): a new String[] of the script's arguments (after its
// file name), as the host gave them at load.
Operand Compiler::script_argv(Expr* e, i32 dest)
{
    u32 n = m_options.script_arg_count;
    Vector<u16> regs(m_memory);
    for (u32 i = 0; i < n; i++) {
        const char* arg = m_options.script_args[i] ? m_options.script_args[i] : "";
        u16 r = alloc_reg(true);
        emit_imm(Op::LoadK, r, (i32)string_constant(arg, str_length(arg)));
        if (!regs.try_append(r))
            oom();
    }
    for (u16 r : regs)
        free_reg(r);
    Type* t = type_of(e);
    Operand r = target_reg(dest, t);
    u32 type = type_index(t);
    if (type > 0xffff)
        error_at(e, "too many types in the program for an array literal");
    emit(Op::ArrayLiteral, r.reg, type, regs.size(), KindRef);
    emit_args(regs.data(), regs.size());
    return r;
}

// Compiles `-x`, `!x` and `~x`.
Operand Compiler::unary_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    release(a);
    if (e->op == Tok::Bang) {
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::Not, r.reg, a.reg);
        return r;
    }
    Operand r = target_reg(dest, m_types.int_type());
    emit(e->op == Tok::Minus ? Op::Neg : Op::BitNot, r.reg, a.reg);
    return r;
}

// The string form of a value: a call to toString() for classes that have
// one, the ToString instruction otherwise. Consumes [value].
Operand Compiler::to_string(Operand value, Expr* at, i32 dest)
{
    Type* t = value.type;
    if (t->kind == TypeKind::String)
        return value;
    if (t->kind == TypeKind::Class) {
        FuncSym* m = find_method(t->cls, "toString", 0);
        if (m && m->result->kind == TypeKind::String) {
            Expr call = *at;
            call.arg_count = 0;
            call.args = nullptr;
            return call_function(&call, m, &value, true, dest);
        }
    }
    release(value);
    Operand r = target_reg(dest, m_types.string());
    emit(Op::ToString, r.reg, value.reg, 0, t->kind == TypeKind::Null ? (u8)KindRef : value_kind(t));
    return r;
}

// The string form of [value] in a new temporary (see to_string()).
Operand Compiler::string_of(Operand value, Expr* at)
{
    return to_string(value, at, -1);
}

// Emits the comparison [e] of [a] and [b] into [dest] (negated when
// [negate]): ints in order, strings in code point order (through
// String.compareTo, then the int comparison with 0); equality by type
// (ints, references, strings by contents), null by IsNull.
void Compiler::compare_equal(Expr* e, Operand& a, Operand& b, u16 dest, bool negate)
{
    bool ne = (e->op == Tok::Ne) != negate;
    Type* ta = a.type;
    Type* tb = b.type;
    if (e->op != Tok::Eq && e->op != Tok::Ne) {
        if (ta->kind == TypeKind::String && tb->kind == TypeKind::String) {
            u16 regs[2] = { a.reg, b.reg };
            emit(Op::CallNative, dest, (u32)find_native("String", "compareTo", 1), 2, 1);
            emit_args(regs, 2);
            u16 zero = alloc_reg(false);
            emit_imm(Op::LoadI, zero, 0);
            switch (e->op) {
            case Tok::Lt: emit(Op::Lt, dest, dest, zero); break;
            case Tok::Le: emit(Op::Le, dest, dest, zero); break;
            case Tok::Gt: emit(Op::Lt, dest, zero, dest); break;
            default: emit(Op::Le, dest, zero, dest); break;
            }
            free_reg(zero);
            if (negate)
                emit(Op::Not, dest, dest);
            return;
        }
        switch (e->op) {
        case Tok::Lt: emit(Op::Lt, dest, a.reg, b.reg); break;
        case Tok::Le: emit(Op::Le, dest, a.reg, b.reg); break;
        case Tok::Gt: emit(Op::Lt, dest, b.reg, a.reg); break;
        default: emit(Op::Le, dest, b.reg, a.reg); break;
        }
        if (negate)
            emit(Op::Not, dest, dest);
        return;
    }
    if (ta->kind == TypeKind::Null || tb->kind == TypeKind::Null) {
        Operand& other = ta->kind == TypeKind::Null ? b : a;
        emit(Op::IsNull, dest, other.reg);
        if (ne)
            emit(Op::Not, dest, dest);
        return;
    }
    if (ta->kind == TypeKind::String && tb->kind == TypeKind::String) {
        emit(ne ? Op::NeStr : Op::EqStr, dest, a.reg, b.reg);
        return;
    }
    emit(ne ? Op::Ne : Op::Eq, dest, a.reg, b.reg);
}

// The instruction of a binary integer (or boolean bitwise) operator.
static Op arithmetic_op(Tok op)
{
    switch (op) {
    case Tok::Plus: return Op::Add;
    case Tok::Minus: return Op::Sub;
    case Tok::Star: return Op::Mul;
    case Tok::Slash: return Op::Div;
    case Tok::Percent: return Op::Mod;
    case Tok::Amp: return Op::BitAnd;
    case Tok::Pipe: return Op::BitOr;
    case Tok::Caret: return Op::BitXor;
    case Tok::Shl: return Op::Shl;
    default: return Op::Shr;
    }
}

// The form of an arithmetic instruction that takes K[c] as its right operand.
static Op with_constant(Op op)
{
    switch (op) {
    case Op::Add: return Op::AddK;
    case Op::Sub: return Op::SubK;
    case Op::Mul: return Op::MulK;
    case Op::Div: return Op::DivK;
    case Op::Mod: return Op::ModK;
    case Op::BitAnd: return Op::BitAndK;
    case Op::BitOr: return Op::BitOrK;
    case Op::BitXor: return Op::BitXorK;
    case Op::Shl: return Op::ShlK;
    default: return Op::ShrK;
    }
}

// Whether [op] is an arithmetic or bitwise binary operator.
static bool is_arithmetic(Tok op)
{
    switch (op) {
    case Tok::Plus: case Tok::Minus: case Tok::Star: case Tok::Slash: case Tok::Percent:
    case Tok::Amp: case Tok::Pipe: case Tok::Caret: case Tok::Shl: case Tok::Shr:
        return true;
    default:
        return false;
    }
}

// Compiles a binary operator expression: arithmetic and bitwise on ints,
// `+` on strings (concatenation with any value), comparisons, with
// immediate-operand forms for small constants.
Operand Compiler::binary_expr(Expr* e, i32 dest)
{
    Tok op = e->op;
    // x + k and x - k with a small constant: one instruction.
    if ((op == Tok::Plus || op == Tok::Minus) && small_int(e->b, -32767, 32767)) {
        Operand a = expr(e->a);
        if (a.type->kind == TypeKind::Int) {
            release(a);
            Operand r = target_reg(dest, m_types.int_type());
            i64 k = op == Tok::Plus ? e->b->int_value : -e->b->int_value;
            emit(Op::AddI, r.reg, a.reg, (u16)(i16)k);
            return r;
        }
        // A String (the checker allows nothing else).
        Operand b = expr(e->b);
        release(b);
        release(a);
        Operand r = target_reg(dest, m_types.string());
        emit(Op::Concat, r.reg, a.reg, b.reg, KindInt);
        return r;
    }
    Operand a = expr(e->a);
    if (a.type->kind == TypeKind::Int && is_arithmetic(op) && e->b->kind == ExprKind::Int
        && !((op == Tok::Slash || op == Tok::Percent) && (e->b->int_value == 0 || e->b->int_value == -1))) {
        // An int operation with a constant: the constant stays in the pool.
        // (Division by 0 or -1 takes the checked path below.)
        i32 k = int_constant_operand(e->b);
        if (k >= 0) {
            release(a);
            Operand r = target_reg(dest, m_types.int_type());
            emit(with_constant(arithmetic_op(op)), r.reg, a.reg, (u32)k);
            return r;
        }
    }
    // The right side of a concatenation may be of any type: it gets no
    // expected type (a String one made `"n " + (c ? 1 : 0)` ask both arms
    // for Strings).
    bool concatenation = op == Tok::Plus && a.type->kind == TypeKind::String;
    Operand b = expr(e->b, concatenation ? nullptr : a.type);
    switch (op) {
    case Tok::Eq: case Tok::Ne: case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: {
        u16 r = dest >= 0 ? (u16)dest : alloc_reg(false);
        compare_equal(e, a, b, r, false);
        release(b);
        release(a);
        return Operand { m_types.boolean(), r, dest < 0 };
    }
    default:
        break;
    }
    if (concatenation) {
        if (b.type->kind == TypeKind::Class)
            b = string_of(b, e->b);
        release(b);
        release(a);
        Operand r = target_reg(dest, m_types.string());
        emit(Op::Concat, r.reg, a.reg, b.reg, b.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(b.type));
        return r;
    }
    bool bools = a.type->kind == TypeKind::Boolean;
    release(b);
    release(a);
    Operand r = target_reg(dest, bools ? m_types.boolean() : m_types.int_type());
    emit(arithmetic_op(op), r.reg, a.reg, b.reg);
    return r;
}

// Compiles `a && b` and `a || b` with short-circuit jumps.
Operand Compiler::logical_expr(Expr* e, i32 dest)
{
    Operand r = target_reg(dest, m_types.boolean());
    Vector<u32> to_false(m_memory);
    condition_jump(e, false, &to_false);
    emit_imm(Op::LoadI, r.reg, 1);
    u32 to_end = emit_jump(Op::Jump);
    for (u32 p : to_false)
        patch_jump(p);
    emit_imm(Op::LoadI, r.reg, 0);
    patch_jump(to_end);
    return r;
}

// The value of an assignment to a field or global of type [t], in any
// register (a variable's own, or a temporary), converted.
Operand Compiler::assigned_value(Expr* value, Type* t)
{
    Operand v = coerce(expr(value, t), t);
    v.type = t;
    return v;
}

// Stores the value of assignment [e], which declares a global (`global.x =
// v`, or `x = v` after AllowImplicitGlobalVariable(true)): the checker
// declared it (index in [symbol]) of [value]'s type.
Operand Compiler::declare_global_by_assignment(Expr* e, Expr* value)
{
    Operand v = expr(value);
    emit_imm(Op::SetGlobal, v.reg, (i32)e->symbol);
    return v;
}

// Compiles `target = value` and compound assignments to locals, globals,
// fields and elements, as the checker resolved the target; the value of the
// expression is the value stored.
Operand Compiler::assign_expr(Expr* e, i32 dest)
{
    (void)dest;
    Expr* target = e->a;
    Tok base = compound_base(e->op);
    Type* t = type_of(e);
    // The new value, as an expression over the old one for compound forms:
    // `t op= v` is compiled as `t = t op v` with t evaluated once.
    Expr synthetic;
    Expr* value = assigned_expr(e, &synthetic);
    switch (e->res) {
    case ResDeclareGlobal:
        return declare_global_by_assignment(e, value);
    case ResLocal: {
        u16 reg = local_reg(e->symbol);
        expr_into(value, reg, t);
        return Operand { t, reg, false };
    }
    case ResGlobal: {
        // A field or global is stored from wherever the value is.
        Operand v = assigned_value(value, t);
        emit_imm(Op::SetGlobal, v.reg, (i32)e->symbol);
        return v;
    }
    case ResGlobalMember: {
        Operand v { t, alloc_for(t), true };
        expr_into(value, v.reg, t);
        emit_imm(Op::SetGlobal, v.reg, (i32)e->symbol);
        return v;
    }
    case ResField:
        if (target->kind == ExprKind::Name) {
            Operand v = assigned_value(value, t);
            emit(Op::SetField, 0, e->symbol, v.reg);
            return v;
        }
        return assign_field(e, base);
    default:
        return assign_element(e, base);
    }
}

// Compiles `obj.f = v` and `obj.f op= v` (field slot in [symbol]).
Operand Compiler::assign_field(Expr* e, Tok base)
{
    Expr* target = e->a;
    Type* t = type_of(e);
    Operand obj = expr(target->a);
    // Keep the object in a register the value's evaluation cannot touch
    // (a variable's own register, unless the value may assign variables).
    u16 o = obj.reg;
    bool own = obj.temp;
    if (!own && may_assign(e->b)) {
        o = alloc_reg(true);
        emit_move(o, obj.reg);
        own = true;
    }
    Operand v { t, alloc_for(t), true };
    if (base != Tok::Assign) {
        // t.f op= v: read the field through the saved object.
        Operand old { t, alloc_for(t), true };
        emit(Op::GetField, old.reg, o, e->symbol);
        compound_value(e, base, t, old.reg, v.reg);
        release(old);
    } else {
        expr_into(e->b, v.reg, t);
    }
    emit(Op::SetField, o, e->symbol, v.reg);
    if (own)
        free_reg(o);
    return v;
}

// Compiles `a[k] = v` and `a[k] op= v` on arrays, maps and Bytes.
Operand Compiler::assign_element(Expr* e, Tok base)
{
    Expr* target = e->a;
    Type* val_type = type_of(e);
    Operand obj = expr(target->a);
    Type* t = obj.type;
    // The container and the index stay in variables' own registers
    // unless the index or the value may assign variables.
    bool stable = !may_assign(target->b) && !may_assign(e->b);
    u16 o = obj.reg;
    bool own_o = obj.temp;
    if (!own_o && !stable) {
        o = alloc_reg(true);
        emit_move(o, obj.reg);
        own_o = true;
    }
    Type* key_type = t->kind == TypeKind::Map ? t->key : m_types.int_type();
    u16 k;
    bool own_k = true;
    if (stable) {
        Operand key = coerce(expr(target->b, key_type), key_type);
        k = key.reg;
        own_k = key.temp;
    } else {
        k = alloc_for(key_type);
        expr_into(target->b, k, key_type);
    }
    Operand v { val_type, alloc_for(val_type), true };
    if (base != Tok::Assign) {
        Operand old { val_type, alloc_for(val_type), true };
        if (t->kind == TypeKind::Array) {
            emit(Op::ArrayGet, old.reg, o, k);
        } else {
            const char* owner = native_owner(t);
            u16 regs[2] = { o, k };
            emit(Op::CallNative, old.reg, (u32)find_native(owner, "get", 1), 2, 1);
            emit_args(regs, 2);
        }
        compound_value(e, base, val_type, old.reg, v.reg);
        release(old);
    } else {
        expr_into(e->b, v.reg, val_type);
    }
    if (t->kind == TypeKind::Array) {
        emit(Op::ArraySet, o, k, v.reg);
    } else {
        const char* owner = native_owner(t);
        u16 regs[3] = { o, k, v.reg };
        emit(Op::CallNative, 0, (u32)find_native(owner, "set", 2), 3);
        emit_args(regs, 3);
    }
    if (own_k)
        free_reg(k);
    if (own_o)
        free_reg(o);
    return v;
}

// [dest] := [old] op e->b, for `t op= v` on a field or element of type [t]:
// a concatenation onto a String, or an int operation.
void Compiler::compound_value(Expr* e, Tok base, Type* t, u16 old, u16 dest)
{
    Operand rhs = expr(e->b, t);
    if (t->kind == TypeKind::String && base == Tok::Plus) {
        if (rhs.type->kind == TypeKind::Class)
            rhs = string_of(rhs, e->b);
        emit(Op::Concat, dest, old, rhs.reg, rhs.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(rhs.type));
    } else {
        emit(arithmetic_op(base), dest, old, rhs.reg);
    }
    release(rhs);
}

// Compiles `++t` and `--t` (also postfix) as `t += 1` / `t -= 1` on an int
// (the assignment's resolution is on [e]).
Operand Compiler::incdec_expr(Expr* e)
{
    Expr one, assign;
    incdec_as_assign(e, &one, &assign);
    assign.type_id = m_types.int_type()->id;
    Operand r = assign_expr(&assign, -1);
    release(r);
    return void_operand();
}

// Compiles `c ? a : b`; its type (the checker's) is the context's, the
// first arm's, or the common superclass of both.
Operand Compiler::conditional_expr(Expr* e, Type* expected, i32 dest)
{
    Vector<u32> to_else(m_memory);
    condition_jump(e->a, false, &to_else);
    // When the type is known, the result register comes first and each arm
    // computes straight into it.
    bool known = expected && expected->kind != TypeKind::Error && expected->kind != TypeKind::Void
        && expected->kind != TypeKind::Null;
    Operand r = known ? target_reg(dest, expected) : Operand {};
    // An arm that is an int or boolean is boxed into an Object: it is
    // computed elsewhere, never in the result's reference register.
    bool object = known && expected->kind == TypeKind::Class && expected->cls == m_object;
    i32 arm_dest = known && !object ? (i32)r.reg : -1;
    Operand then_value = expr(e->b, expected, arm_dest);
    if (object && boxes(expected, then_value.type))
        then_value = box(then_value, -1);
    Type* t = expected && expected->kind != TypeKind::Error ? expected : then_value.type;
    if (!known)
        r = target_reg(dest, t);
    if (then_value.type->kind == TypeKind::Null)
        load_null(r.reg, t);
    else
        emit_move(r.reg, then_value.reg);
    if (then_value.reg != r.reg)
        release(then_value);
    u32 to_end = emit_jump(Op::Jump);
    for (u32 p : to_else)
        patch_jump(p);
    Operand else_value = expr(e->c, t, arm_dest);
    if (object && boxes(t, else_value.type))
        else_value = box(else_value, -1);
    if (else_value.type->kind == TypeKind::Null) {
        release(else_value);
        load_null(r.reg, t);
    } else {
        emit_move(r.reg, else_value.reg);
        if (else_value.reg != r.reg)
            release(else_value);
    }
    r.type = type_of(e);
    patch_jump(to_end);
    return r;
}

// Compiles `x instanceof T` (T's type id in [symbol]) on the dynamic type
// of x (Konoha): for an Object (or another class) the VM looks (a class, a
// box for int and boolean, the kind of object for String, arrays, maps,
// Bytes and functions); for other static types the answer is known here
// (an int is an int, not a boolean), after x is evaluated for its effects.
Operand Compiler::instanceof_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = m_types.by_id(e->symbol);
    release(a);
    Operand r = target_reg(dest, m_types.boolean());
    if (a.type->kind == TypeKind::Class) {
        if (t->kind == TypeKind::Class && t->cls == m_object) {
            // Every value is an Object (also a string or array it holds).
            emit(Op::IsNull, r.reg, a.reg);
            emit(Op::Not, r.reg, r.reg);
        } else if (t->kind == TypeKind::Class)
            emit(Op::InstanceOf, r.reg, a.reg, t->cls->id);
        else if (t->kind == TypeKind::Int || t->kind == TypeKind::Boolean)
            emit(Op::InstanceOf, r.reg, a.reg, t->kind == TypeKind::Int ? ClassBoxInt : ClassBoxBoolean);
        else if (a.type->cls == m_object)
            emit(Op::IsType, r.reg, a.reg, type_operand(t, e));
        else
            emit_imm(Op::LoadI, r.reg, 0);   // An instance of a class is no String, array...
        return r;
    }
    // A value of a built-in type: the static type is the dynamic one (and
    // every value is an Object; a null is no instance of anything).
    bool yes = a.type == t || (t->kind == TypeKind::Class && t->cls == m_object);
    if (yes && is_reference(a.type)) {
        emit(Op::IsNull, r.reg, a.reg);
        emit(Op::Not, r.reg, r.reg);
        return r;
    }
    emit_imm(Op::LoadI, r.reg, yes ? 1 : 0);
    return r;
}

// Compiles `x as T` (T's type id in [symbol]): an upcast as it is, a class
// downcast checked when it runs (null casts to any reference type); from an
// Object also to int and boolean (unboxing) and to String, arrays, maps,
// Bytes and functions: CastType, which checks the full type (element, key,
// value and parameter types) when it runs (TypeCastException when x holds
// something else).
Operand Compiler::as_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = m_types.by_id(e->symbol);
    if (a.type->kind == TypeKind::Null && is_reference(t))
        return coerce(a, t);
    if (boxes(t, a.type))
        return box(a, dest);
    if (assignable(t, a.type)) {
        a.type = t;   // An upcast needs no check.
        return a;
    }
    bool from_object = a.type->kind == TypeKind::Class && a.type->cls == m_object;
    if (from_object && (t->kind == TypeKind::Int || t->kind == TypeKind::Boolean))
        return unbox(a, t, dest);
    if (from_object && t->kind != TypeKind::Class)
        return checked_cast(a, t, e, dest);
    return downcast(a, t, dest);
}

// [v] as its subclass [t]: Cast checks the object's class when the program
// runs (TypeCastException when it is not a [t]; null stays null).
Operand Compiler::downcast(Operand v, Type* t, i32 dest)
{
    release(v);
    Operand r = target_reg(dest, t);
    emit(Op::Cast, r.reg, v.reg, t->cls->id);
    return r;
}

// [v], an Object, as the String, array, map, Bytes or function type [t]:
// CastType (TypeCastException when it holds something else; a null gives
// the null of [t]).
Operand Compiler::checked_cast(Operand v, Type* t, Expr* e, i32 dest)
{
    u16 type = type_operand(t, e);
    release(v);
    Operand r = target_reg(dest, t);
    emit(Op::CastType, r.reg, v.reg, type);
    return r;
}

// `o to int` and `o to boolean` for an Object [v]: what it holds, converted
// as `to` converts that type: an int or boolean (true is 1, an int other
// than 0 is true), a String parsed like `s to int` (toInt(), toBoolean());
// anything else raises TypeCastException (the unboxing's); a null Object
// gives 0 or false.
Operand Compiler::object_to_scalar(Operand v, Type* t, Expr* e, i32 dest)
{
    bool to_int = t->kind == TypeKind::Int;
    u32 same = to_int ? ClassBoxInt : ClassBoxBoolean;
    u32 other = to_int ? ClassBoxBoolean : ClassBoxInt;
    u16 string_type = type_operand(m_types.string(), e);
    i32 parse = find_native("String", to_int ? "toInt" : "toBoolean", 0);
    Operand r = target_reg(dest, t);
    u16 test = alloc_reg(false);
    u16 held = alloc_reg(true);
    // The other primitive.
    emit(Op::InstanceOf, test, v.reg, other);
    u32 not_other = emit_jump(Op::JumpIfNot, test);
    emit(Op::Cast, held, v.reg, other);
    emit(Op::GetField, r.reg, held, 0);
    if (!to_int) {
        emit_imm(Op::LoadI, test, 0);
        emit(Op::Ne, r.reg, r.reg, test);
    }
    u32 done_other = emit_jump(Op::Jump);
    patch_jump(not_other);
    // A String.
    emit(Op::IsType, test, v.reg, string_type);
    u32 not_string = emit_jump(Op::JumpIfNot, test);
    emit(Op::CastType, held, v.reg, string_type);
    m_line = e->line;
    emit(Op::CallNative, r.reg, (u32)parse, 1, 1);
    emit_args(&held, 1);
    u32 done_string = emit_jump(Op::Jump);
    patch_jump(not_string);
    // The same primitive, or TypeCastException.
    emit(Op::Cast, held, v.reg, same);
    emit(Op::GetField, r.reg, held, 0);
    patch_jump(done_other);
    patch_jump(done_string);
    free_reg(held);
    free_reg(test);
    release(v);
    return r;
}

// Compiles `x to T` (T's type id in [symbol]): conversions between int,
// String and boolean, from an Object, and between classes (as `as`).
Operand Compiler::to_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = m_types.by_id(e->symbol);
    TypeKind from = a.type->kind;
    TypeKind to = t->kind;
    if (a.type == t)
        return a;   // The checker said it does nothing.
    bool from_object = from == TypeKind::Class && a.type->cls == m_object;
    if (from_object && (to == TypeKind::Int || to == TypeKind::Boolean))
        return object_to_scalar(a, t, e, dest);
    // From an Object to an array, map, Bytes or function type, `to` is `as`.
    if (from_object && (to == TypeKind::Array || to == TypeKind::Map || to == TypeKind::Bytes || to == TypeKind::Func))
        return checked_cast(a, t, e, dest);
    if (boxes(t, a.type))
        return box(a, dest);
    if (to == TypeKind::String)
        return to_string(a, e, dest);
    if (from == TypeKind::String) {
        i32 n = find_native("String", to == TypeKind::Int ? "toInt" : "toBoolean", 0);
        Expr call = *e;
        call.arg_count = 0;
        return call_native(&call, n, &a, a.type, dest);
    }
    if (from == TypeKind::Int && to == TypeKind::Boolean) {
        Operand zero { m_types.int_type(), alloc_reg(false), true };
        emit_imm(Op::LoadI, zero.reg, 0);
        release(zero);
        release(a);
        Operand r = target_reg(dest, t);
        emit(Op::Ne, r.reg, a.reg, zero.reg);
        return r;
    }
    // Booleans are 0 and 1 already; between classes `to` is `as`: to a
    // superclass as it is, to a subclass checked when the program runs.
    if ((from == TypeKind::Boolean && to == TypeKind::Int) || assignable(t, a.type)) {
        a.type = t;
        return a;
    }
    return downcast(a, t, dest);
}

// Compiles `defined(...)`: the checker decided it ([symbol] is 0 or 1).
Operand Compiler::defined_expr(Expr* e, i32 dest)
{
    Operand r = target_reg(dest, m_types.boolean());
    emit_imm(Op::LoadI, r.reg, (i32)e->symbol);
    return r;
}

// Compiles a block used as an expression: its statements, then its last
// expression statement gives the value.
Operand Compiler::block_expr(Expr* e, Type* expected, i32 dest)
{
    Block* b = e->block;
    if (!b || b->count == 0)
        return void_operand();
    begin_scope();
    for (u32 i = 0; i + 1 < b->count; i++)
        statement(b->stmts[i]);
    Stmt* last = b->stmts[b->count - 1];
    Operand r = void_operand();
    if (last->kind == StmtKind::Expr && last->expr) {
        Operand v = expr(last->expr, expected);
        if (v.type->kind != TypeKind::Void) {
            // Copy out of the block before its locals go away.
            r = target_reg(dest, v.type->kind == TypeKind::Null && expected ? expected : v.type);
            if (v.type->kind == TypeKind::Null && expected)
                load_null(r.reg, expected);
            else
                emit_move(r.reg, v.reg);
            if (v.reg != r.reg)
                release(v);
            if (v.type->kind == TypeKind::Null && !expected)
                r.type = v.type;
        } else {
            release(v);
        }
    } else {
        statement(last);
    }
    end_scope();
    return r;
}

}   // namespace ks::compiler
