// Expressions other than calls: each is checked and emitted together and
// returns an Operand, the register that holds its value and its static type.
// Literals, names, operators, assignment, conditional, instanceof/as/to and
// block expressions. Calls, member access and `new` are in Calls.cpp.
#include "CompilerInternal.h"

namespace ks::compiler {

// The operand of an expression that had an error: the error type, which
// silences follow-on errors.
Operand Compiler::error_operand()
{
    return Operand { m_types.error(), 0, false };
}

// The register for a result of [type]: [dest] when given (>= 0), otherwise
// a new temporary.
Operand Compiler::target_reg(i32 dest, Type* type)
{
    if (dest >= 0)
        return Operand { type, (u16)dest, false };
    return Operand { type, alloc_for(type), true };
}

// Compiles [e] into register [dest], checking it is assignable to
// [dest_type] (null becomes that type's null value).
void Compiler::expr_into(Expr* e, u16 dest, Type* dest_type, const char* context)
{
    // The function whose argument this is (args_into()), read before the
    // argument's own calls change it.
    FuncSym* func = m_arg_func;
    u32 index = m_arg_index;
    // An int or boolean into an Object is boxed: computed elsewhere, never
    // in [dest], whose register holds references.
    bool object = dest_type->kind == TypeKind::Class && dest_type->cls == m_object;
    Operand op = expr(e, dest_type, object ? -1 : (i32)dest);
    if (boxes(dest_type, op.type))
        op = box(op, dest);
    if (dest_type->kind == TypeKind::Error) {
        // A slot whose declaration failed (reported there) has no kind to
        // store into: the statement is tainted, never run (transcript mode).
        m_statement_errors++;
        if (op.reg != dest)
            release(op);
        return;
    }
    if (!assignable(dest_type, op.type)) {
        if (func && str_equal(context, "argument"))
            argument_error(e, op.type, dest_type, func, index);
        else
            type_error(e, "cannot use '%s' as '%s'", op.type, dest_type);
    } else if (op.type->kind == TypeKind::Void) {
        error(e->line, e->column, "a void value cannot be used");
    } else if (op.type->kind == TypeKind::Null) {
        release(op);
        load_null(dest, dest_type);
        return;
    }
    if (op.reg != dest && op.type->kind != TypeKind::Error)
        emit_move(dest, op.reg);
    if (op.reg != dest)
        release(op);
}

// Checks that [op] is assignable to [to]; a null literal becomes the null
// value of [to] in a new temporary.
Operand Compiler::coerce(Operand op, Type* to, Expr* at, const char* context)
{
    (void)context;
    if (boxes(to, op.type))
        return box(op, -1);
    if (to->kind == TypeKind::Error && op.type->kind != TypeKind::Error)
        m_statement_errors++;   // As in expr_into(): nothing may be stored there.
    if (!assignable(to, op.type)) {
        type_error(at, "cannot use '%s' as '%s'", op.type, to);
        return op;
    }
    if (op.type->kind == TypeKind::Null) {
        release(op);
        Operand r { to, alloc_for(to), true };
        load_null(r.reg, to);
        return r;
    }
    return op;
}

// Compiles expression [e] (into [dest] when >= 0; [expected] guides array
// literals and conditionals) and returns the operand holding its value.
// Bounds nesting depth so the native stack stays bounded.
Operand Compiler::expr(Expr* e, Type* expected, i32 dest)
{
    if (m_failed || !e || !tick_node())
        return error_operand();
    // A second guard behind the parser's nesting limit.
    if (m_expr_depth > 2 * m_options.max_nesting + 64) {
        error(e->line, e->column, "expression nested too deeply");
        return error_operand();
    }
    m_expr_depth++;
    u32 saved_line = m_line;
    m_line = e->line;
    Operand r;
    switch (e->kind) {
    case ExprKind::Error: r = error_operand(); break;
    case ExprKind::Int: case ExprKind::Bool: case ExprKind::Null: case ExprKind::String:
        r = literal(e, dest, expected);
        break;
    case ExprKind::Name: r = name_expr(e, dest); break;
    case ExprKind::This:
        if (!m_fs->cls) {
            error_at(e, "'this' is only valid inside methods and constructors");
            r = error_operand();
        } else {
            r = Operand { m_fs->cls->type, 0, false };
        }
        break;
    case ExprKind::Super:
        error_at(e, "'super' can only be called or used to call a method");
        r = error_operand();
        break;
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
    default: r = error_operand(); break;
    }
    m_line = saved_line;
    m_expr_depth--;
    // An expression that failed to check (here or in a declaration it uses)
    // taints its statement: in transcript mode such a statement is replaced,
    // never run with half-emitted code.
    if (r.type->kind == TypeKind::Error)
        m_statement_errors++;
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
        return error_operand();
    }
    m_heap->make_permanent(&fo->header);
    Operand r = target_reg(dest, f->func_type);
    emit_imm(Op::LoadK, r.reg, (i32)add_constant(from_obj(fo), KindRef, f->func_type));
    return r;
}

// Compiles a name: a local, a global (declared before this point), `this`,
// or a top-level function used as a value.
Operand Compiler::name_expr(Expr* e, i32 dest)
{
    if (Local* l = find_local(e->name))
        return Operand { l->type, l->reg, false };
    if (m_fs->cls) {
        if (FieldSym* f = find_field(m_fs->cls, e->name)) {
            Operand r = target_reg(dest, f->type);
            emit(Op::GetField, r.reg, 0, f->slot);
            return r;
        }
    }
    if (GlobalSym* g = class_constant(static_scope(), e->name)) {
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    if (GlobalSym* g = find_global(e->name)) {
        Operand r = target_reg(dest, g->type);
        emit_imm(Op::GetGlobal, r.reg, (i32)g->index);
        return r;
    }
    if (str_equal(e->name, "SCRIPT_ARGV"))
        return script_argv(e, dest);
    u32 constant_count;
    const BuiltinConstant* constants = builtin_constants(&constant_count);
    for (u32 i = 0; i < constant_count; i++) {
        const BuiltinConstant& c = constants[i];
        if (str_equal(e->name, c.name)) {
            Operand r = target_reg(dest, m_types.int_type());
            load_int(r.reg, c.value);
            return r;
        }
    }
    FuncSym* found = nullptr;
    u32 overloads = 0;
    m_function_index.find(e->name, [&](u32 i) {
        FuncSym* f = m_functions[i];
        if (!f->owner && str_equal(f->name, e->name)) {
            if (!found || f->index > found->index)
                found = f;
            overloads++;
        }
        return overloads > 1;
    });
    if (found && overloads == 1)
        return function_value(found, dest);
    if (found) {
        error_at(e, "'%s' is overloaded; a function value needs one function", e->name);
        return error_operand();
    }
    if (str_equal(e->name, "global")) {
        // Konoha's globals object exists here only as the `global.` prefix
        // (and a bare `global` statement, which does nothing).
        error_at(e, "'global' is not a value in kscript; a global variable is global.NAME (or just NAME)");
        return error_operand();
    }
    undefined_error(e, "undefined name '%s'", e->name, SuggestValues);
    return error_operand();
}

// SCRIPT_ARGV (Konoha): a new String[] of the script's arguments (after its
// file name), as the host gave them at load.
Operand Compiler::script_argv(Expr* e, i32 dest)
{
    u32 n = m_options.script_arg_count;
    if (n > kMaxParams * 200) {
        error_at(e, "too many script arguments");
        return error_operand();
    }
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
    Type* t = m_types.array_of(m_types.string());
    if (!t) {
        oom();
        return error_operand();
    }
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
    if (a.type->kind == TypeKind::Error)
        return a;
    release(a);
    if (e->op == Tok::Bang) {
        if (a.type->kind != TypeKind::Boolean)
            type_error(e, "'!' needs a boolean, not '%s'", a.type);
        Operand r = target_reg(dest, m_types.boolean());
        emit(Op::Not, r.reg, a.reg);
        return r;
    }
    if (a.type->kind != TypeKind::Int)
        type_error(e, e->op == Tok::Minus ? "'-' needs an int, not '%s'" : "'~' needs an int, not '%s'", a.type);
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
// [negate]); equality compares by type (ints, references, strings by
// contents). False after an error.
bool Compiler::compare_equal(Expr* e, Operand& a, Operand& b, u16 dest, bool negate)
{
    bool ne = (e->op == Tok::Ne) != negate;
    Type* ta = a.type;
    Type* tb = b.type;
    if (ta->kind == TypeKind::Error || tb->kind == TypeKind::Error)
        return false;
    if (e->op != Tok::Eq && e->op != Tok::Ne) {
        // Ordering comparisons: ints, and strings in code point order
        // (through String.compareTo, then the int comparison with 0).
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
            return true;
        }
        if (ta->kind != TypeKind::Int || tb->kind != TypeKind::Int) {
            type_error(e, "cannot order '%s' and '%s'", ta, tb);
            return false;
        }
        switch (e->op) {
        case Tok::Lt: emit(Op::Lt, dest, a.reg, b.reg); break;
        case Tok::Le: emit(Op::Le, dest, a.reg, b.reg); break;
        case Tok::Gt: emit(Op::Lt, dest, b.reg, a.reg); break;
        default: emit(Op::Le, dest, b.reg, a.reg); break;
        }
        if (negate)
            emit(Op::Not, dest, dest);
        return true;
    }
    if (ta->kind == TypeKind::Null || tb->kind == TypeKind::Null) {
        Operand& other = ta->kind == TypeKind::Null ? b : a;
        if (!is_reference(other.type)) {
            type_error(e, "cannot compare '%s' with null", other.type);
            return false;
        }
        emit(Op::IsNull, dest, other.reg);
        if (ne)
            emit(Op::Not, dest, dest);
        return true;
    }
    if (ta->kind == TypeKind::String && tb->kind == TypeKind::String) {
        emit(ne ? Op::NeStr : Op::EqStr, dest, a.reg, b.reg);
        return true;
    }
    bool ok = (ta == tb && !is_reference(ta)) || (is_reference(ta) && is_reference(tb) && (assignable(ta, tb) || assignable(tb, ta)));
    if (!ok) {
        type_error(e, "cannot compare '%s' and '%s'", ta, tb);
        return false;
    }
    emit(ne ? Op::Ne : Op::Eq, dest, a.reg, b.reg);
    return true;
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

// Whether [e] is an integer literal within [lo, hi] (fits an immediate operand).
static bool small_int(Expr* e, i64 lo = -32768, i64 hi = 32767)
{
    return e->kind == ExprKind::Int && e->int_value >= lo && e->int_value <= hi;
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
        if (a.type->kind == TypeKind::String && op == Tok::Plus) {
            Operand b = expr(e->b);
            release(b);
            release(a);
            Operand r = target_reg(dest, m_types.string());
            emit(Op::Concat, r.reg, a.reg, b.reg, KindInt);
            return r;
        }
        release(a);
        if (a.type->kind != TypeKind::Error)
            type_error(e, "'%s' needs ints, not '%s'", a.type);
        return error_operand();
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
    if (a.type->kind == TypeKind::Error || b.type->kind == TypeKind::Error) {
        release(b);
        release(a);
        return error_operand();
    }
    switch (op) {
    case Tok::Eq: case Tok::Ne: case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: {
        u16 r = dest >= 0 ? (u16)dest : alloc_reg(false);
        bool ok = compare_equal(e, a, b, r, false);
        release(b);
        release(a);
        if (!ok) {
            if (dest < 0)
                free_reg(r);
            return error_operand();
        }
        return Operand { m_types.boolean(), r, dest < 0 };
    }
    default:
        break;
    }
    if (op == Tok::Plus && a.type->kind == TypeKind::String) {
        if (b.type->kind == TypeKind::Void) {
            error_at(e->b, "a void value cannot be concatenated");
            return error_operand();
        }
        if (b.type->kind == TypeKind::Class)
            b = string_of(b, e->b);
        release(b);
        release(a);
        Operand r = target_reg(dest, m_types.string());
        emit(Op::Concat, r.reg, a.reg, b.reg, b.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(b.type));
        return r;
    }
    bool bitwise = op == Tok::Amp || op == Tok::Pipe || op == Tok::Caret;
    bool bools = bitwise && a.type->kind == TypeKind::Boolean && b.type->kind == TypeKind::Boolean;
    if (!bools && (a.type->kind != TypeKind::Int || b.type->kind != TypeKind::Int)) {
        operator_error(e, op, a.type, b.type);
        release(b);
        release(a);
        return error_operand();
    }
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
    u32 errors = m_statement_errors;
    condition_jump(e, false, &to_false);
    emit_imm(Op::LoadI, r.reg, 1);
    u32 to_end = emit_jump(Op::Jump);
    for (u32 p : to_false)
        patch_jump(p);
    emit_imm(Op::LoadI, r.reg, 0);
    patch_jump(to_end);
    if (m_statement_errors != errors) {
        release(r);
        return error_operand();
    }
    return r;
}

// The binary operator of compound assignment [t] (`+=` -> `+`), or
// Tok::Assign for plain `=`.
static Tok compound_base(Tok t)
{
    switch (t) {
    case Tok::PlusAssign: return Tok::Plus;
    case Tok::MinusAssign: return Tok::Minus;
    case Tok::StarAssign: return Tok::Star;
    case Tok::SlashAssign: return Tok::Slash;
    case Tok::PercentAssign: return Tok::Percent;
    case Tok::AmpAssign: return Tok::Amp;
    case Tok::PipeAssign: return Tok::Pipe;
    case Tok::CaretAssign: return Tok::Caret;
    case Tok::ShlAssign: return Tok::Shl;
    case Tok::ShrAssign: return Tok::Shr;
    default: return Tok::Assign;
    }
}

// Whether evaluating [e] may assign a variable: only assignments, ++/-- and
// block expressions can (a call cannot reach its caller's variables). Looks
// at most 32 nodes deep into the tree; past that it answers yes.
static bool may_assign(const Expr* e, u32* steps)
{
    if (!e)
        return false;
    if (*steps == 0)
        return true;
    (*steps)--;
    if (e->kind == ExprKind::Assign || e->kind == ExprKind::IncDec || e->kind == ExprKind::BlockExpr)
        return true;
    if (may_assign(e->a, steps) || may_assign(e->b, steps) || may_assign(e->c, steps))
        return true;
    for (u32 i = 0; i < e->arg_count; i++)
        if (may_assign(e->args[i], steps))
            return true;
    return false;
}

// may_assign() with a fresh bound on the depth searched.
static bool may_assign(const Expr* e)
{
    u32 steps = 32;
    return may_assign(e, &steps);
}

// The value of an assignment to a field or global of type [t], in any
// register (a variable's own, or a temporary), checked and converted.
Operand Compiler::assigned_value(Expr* value, Type* t)
{
    Operand v = coerce(expr(value, t), t, value, "assignment");
    if (v.type->kind == TypeKind::Error || !assignable(t, v.type)) {
        // Reported: a register of the right kind keeps the code well formed.
        release(v);
        return Operand { t, alloc_for(t), true };
    }
    v.type = t;
    return v;
}

// Declares the global that assignment `target = value` names (`global.x` or,
// [implicit], a bare name), of the value's type, and stores the value.
Operand Compiler::declare_global_by_assignment(Expr* target, Expr* value, bool implicit)
{
    Operand v = expr(value);
    Type* t = v.type;
    if (t->kind == TypeKind::Error)
        return v;
    if (t->kind == TypeKind::Null || t->kind == TypeKind::Void) {
        error_at(value, t->kind == TypeKind::Null ? "cannot infer the type of '%s' from null"
                                                  : "'%s' cannot hold a void value",
            target->name);
        release(v);
        return error_operand();
    }
    if (find_class(target->name) || str_equal(target->name, "System") || str_equal(target->name, "global")) {
        error_at(target, "'%s' cannot be used as a variable name", target->name);
        release(v);
        return error_operand();
    }
    // The name outlives the function body's syntax tree (lazy parsing).
    const char* name = m_arena->copy_string(target->name, str_length(target->name));
    GlobalSym g { name, t, m_globals.size(), false, true };
    if (!name || !m_globals.try_append(g) || !m_global_index.add(g.name, g.index)) {
        oom();
        release(v);
        return error_operand();
    }
    if (implicit) {
        char type_name[96];
        TypeTable::name(t, type_name, sizeof(type_name));
        m_diag->report(Severity::Info, target->line, target->column, "'%s' is declared as a global of type '%s'",
            target->name, type_name);
    }
    emit_imm(Op::SetGlobal, v.reg, (i32)g.index);
    return v;
}

// Compiles `target = value` and compound assignments to locals, globals,
// fields and elements; the value of the expression is the value stored.
Operand Compiler::assign_expr(Expr* e, i32 dest)
{
    (void)dest;
    Expr* target = e->a;
    Tok base = compound_base(e->op);
    // The new value, as an expression over the old one for compound forms:
    // `t op= v` is compiled as `t = t op v` with t evaluated once.
    Expr synthetic {};
    Expr* value = e->b;
    if (base != Tok::Assign) {
        synthetic = *e;
        synthetic.kind = ExprKind::Binary;
        synthetic.op = base;
        synthetic.a = target;
        synthetic.b = e->b;
        value = &synthetic;
    }
    if (target->kind == ExprKind::Name) {
        const char* name = target->name;
        if (Local* l = find_local(name)) {
            if (l->is_const || str_equal(name, "this")) {
                error_at(target, "cannot assign to constant '%s'", name);
                return error_operand();
            }
            Local copy = *l;
            expr_into(value, copy.reg, copy.type, "assignment");
            return Operand { copy.type, copy.reg, false };
        }
        // A field or global is stored from wherever the value is.
        if (m_fs->cls) {
            if (FieldSym* f = find_field(m_fs->cls, name)) {
                Operand v = assigned_value(value, f->type);
                emit(Op::SetField, 0, f->slot, v.reg);
                return v;
            }
        }
        if (class_constant(static_scope(), name)) {
            error_at(target, "cannot assign to constant '%s'", name);
            return error_operand();
        }
        if (GlobalSym* g = find_global(name)) {
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", name);
                return error_operand();
            }
            Operand v = assigned_value(value, g->type);
            emit_imm(Op::SetGlobal, v.reg, (i32)g->index);
            return v;
        }
        // After AllowImplicitGlobalVariable(true), `n = 124` at the top level
        // declares n (Konoha), with an info line.
        if (m_implicit_globals && m_fs->is_main && m_fs->scope_depth == 0 && base == Tok::Assign)
            return declare_global_by_assignment(target, value, true);
        undefined_error(target, "undefined name '%s'", name, SuggestValues);
        return error_operand();
    }
    if (target->kind == ExprKind::Member) {
        if (target->a->kind == ExprKind::Name && str_equal(target->a->name, "global") && !find_local("global")) {
            GlobalSym* g = find_global(target->name);
            if (!g && base == Tok::Assign)
                return declare_global_by_assignment(target, value, false);   // Konoha: `global.x = 1` declares x.
            if (!g) {
                error_at(target, "undefined global '%s'", target->name);
                return error_operand();
            }
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", target->name);
                return error_operand();
            }
            Operand v { g->type, alloc_for(g->type), true };
            expr_into(value, v.reg, g->type, "assignment");
            emit_imm(Op::SetGlobal, v.reg, (i32)g->index);
            return v;
        }
        if (ClassSym* c = class_receiver(target->a)) {
            if (class_constant(c, target->name))
                error_at(target, "cannot assign to constant '%s.%s'", c->name, target->name);
            else
                error_at(target, "'%s' has no constant '%s'", c->name, target->name);
            return error_operand();
        }
        Operand obj = expr(target->a);
        if (obj.type->kind == TypeKind::Error)
            return obj;
        if (obj.type->kind != TypeKind::Class) {
            type_error(target->a, "'%s' has no fields to assign", obj.type);
            release(obj);
            return error_operand();
        }
        FieldSym* f = find_field(obj.type->cls, target->name);
        if (!f) {
            member_error(target, "'%s' has no field '%s'", obj.type->cls->name, target->name, SuggestFields,
                obj.type->cls);
            release(obj);
            return error_operand();
        }
        // Keep the object in a register the value's evaluation cannot touch
        // (a variable's own register, unless the value may assign variables).
        u16 o = obj.reg;
        bool own = obj.temp;
        if (!own && may_assign(e->b)) {
            o = alloc_reg(true);
            emit_move(o, obj.reg);
            own = true;
        }
        Operand v { f->type, alloc_for(f->type), true };
        if (base != Tok::Assign) {
            // t.f op= v: read the field through the saved object.
            Operand old { f->type, alloc_for(f->type), true };
            emit(Op::GetField, old.reg, o, f->slot);
            compound_value(e, base, f->type, old.reg, v.reg);
            release(old);
        } else {
            expr_into(e->b, v.reg, f->type, "assignment");
        }
        emit(Op::SetField, o, f->slot, v.reg);
        if (own)
            free_reg(o);
        return v;
    }
    if (target->kind == ExprKind::Index) {
        Operand obj = expr(target->a);
        Type* t = obj.type;
        if (t->kind == TypeKind::Error)
            return obj;
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
        Type* val_type = t->kind == TypeKind::Array || t->kind == TypeKind::Map ? t->elem
            : t->kind == TypeKind::Bytes ? m_types.int_type() : nullptr;
        if (!val_type) {
            type_error(target->a, "'%s' cannot be indexed", t);
            if (own_o)
                free_reg(o);
            return error_operand();
        }
        u16 k;
        bool own_k = true;
        if (stable) {
            Operand key = coerce(expr(target->b, key_type), key_type, target->b, "index");
            k = key.reg;
            own_k = key.temp;
        } else {
            k = alloc_for(key_type);
            expr_into(target->b, k, key_type, "index");
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
            expr_into(e->b, v.reg, val_type, "assignment");
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
    error_at(target, "cannot assign to this expression");
    return error_operand();
}

// [dest] := [old] op e->b, for `t op= v` on a field or element of type [t].
void Compiler::compound_value(Expr* e, Tok base, Type* t, u16 old, u16 dest)
{
    Operand rhs = expr(e->b, t);
    if (t->kind == TypeKind::String && base == Tok::Plus) {
        if (rhs.type->kind == TypeKind::Class)
            rhs = string_of(rhs, e->b);
        emit(Op::Concat, dest, old, rhs.reg, rhs.type->kind == TypeKind::Null ? (u8)KindRef : value_kind(rhs.type));
    } else if (t->kind == TypeKind::Int && rhs.type->kind == TypeKind::Int) {
        emit(arithmetic_op(base), dest, old, rhs.reg);
    } else if (rhs.type->kind != TypeKind::Error) {
        type_error(e, "compound assignment cannot combine '%s' and '%s'", t, rhs.type);
    }
    release(rhs);
}

// Compiles `++t` and `--t` (also postfix) as `t += 1` / `t -= 1`.
Operand Compiler::incdec_expr(Expr* e)
{
    // ++t is t += 1 used as a statement.
    Expr one {};
    one.kind = ExprKind::Int;
    one.line = e->line;
    one.column = e->column;
    one.depth = 1;
    one.int_value = 1;
    Expr assign = *e;
    assign.kind = ExprKind::Assign;
    assign.op = e->op == Tok::PlusPlus ? Tok::PlusAssign : Tok::MinusAssign;
    assign.a = e->a;
    assign.b = &one;
    if (e->a->kind != ExprKind::Name && e->a->kind != ExprKind::Member && e->a->kind != ExprKind::Index) {
        error_at(e, "'++' and '--' need a variable, field or element");
        return error_operand();
    }
    Operand r = assign_expr(&assign, -1);
    if (r.type->kind != TypeKind::Int && r.type->kind != TypeKind::Error)
        type_error(e, "'++' and '--' need an int, not '%s'", r.type);
    release(r);
    return Operand { m_types.void_type(), 0, false };
}

// Compiles `c ? a : b`; the type is the common type of both branches.
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
    if (!expected && then_value.type->kind == TypeKind::Null) {
        error_at(e, "cannot infer the type of '?:' from null; give the variable a type");
        release(then_value);
        return error_operand();
    }
    if (t->kind == TypeKind::Void) {
        error_at(e, "'?:' branches cannot be void");
        release(then_value);
        return error_operand();
    }
    if (!known)
        r = target_reg(dest, t);
    if (then_value.type->kind == TypeKind::Null) {
        load_null(r.reg, t);
    } else {
        if (!assignable(t, then_value.type))
            type_error(e->b, "'?:' branch has type '%s', expected '%s'", then_value.type, t);
        emit_move(r.reg, then_value.reg);
    }
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
        if (!assignable(t, else_value.type)) {
            // Unify two classes to their common superclass.
            if (t->kind == TypeKind::Class && else_value.type->kind == TypeKind::Class && !expected) {
                ClassSym* c = common_superclass(t->cls, else_value.type->cls);
                if (c) {
                    t = c->type;
                    r.type = t;
                }
            }
            if (!assignable(t, else_value.type))
                type_error(e->c, "'?:' branches have different types ('%s' and '%s')", t, else_value.type);
        }
        emit_move(r.reg, else_value.reg);
        if (else_value.reg != r.reg)
            release(else_value);
    }
    patch_jump(to_end);
    return r;
}

// Compiles `x instanceof T` on the dynamic type of x (Konoha): for an Object
// (or another class) the VM looks (a class, a box for int and boolean, the
// kind of object for String, arrays, maps, Bytes and functions); for other
// static types the answer is known here (an int is an int, not a boolean),
// after x is evaluated for its effects.
Operand Compiler::instanceof_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    if (a.type->kind == TypeKind::Void || t->kind == TypeKind::Void || t->kind == TypeKind::Null) {
        error_at(e, "instanceof needs a value and a type");
        release(a);
        return error_operand();
    }
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

// Compiles `x as T`: a class downcast, checked when it runs (null casts to
// any reference type); from an Object also to int and boolean (unboxing) and
// to String, arrays, maps, Bytes and functions: CastType, which checks the
// full type (element, key, value and parameter types) when it runs
// (TypeCastException when x holds something else).
Operand Compiler::as_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    if (a.type->kind == TypeKind::Null && is_reference(t))
        return coerce(a, t, e, "cast");
    if (boxes(t, a.type))
        return box(a, dest);
    if (assignable(t, a.type)) {
        a.type = t;   // An upcast needs no check.
        return a;
    }
    // From an Object, `as` unboxes an int or boolean, and checks a String,
    // array, map, Bytes or function in full.
    if (a.type->kind == TypeKind::Class && a.type->cls == m_object
        && (t->kind == TypeKind::Int || t->kind == TypeKind::Boolean))
        return unbox(a, t, dest);
    if (a.type->kind == TypeKind::Class && a.type->cls == m_object && is_reference(t) && t->kind != TypeKind::Class
        && t->kind != TypeKind::Null)
        return checked_cast(a, t, e, dest);
    if (t->kind != TypeKind::Class || a.type->kind != TypeKind::Class || !is_subclass(t->cls, a.type->cls)) {
        type_error(e, "cannot cast '%s' to '%s'", a.type, t);
        release(a);
        return error_operand();
    }
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

// Compiles `x to T`: conversions between int, String and boolean.
Operand Compiler::to_expr(Expr* e, i32 dest)
{
    Operand a = expr(e->a);
    Type* t = resolve_type(e->type);
    if (a.type->kind == TypeKind::Error || t->kind == TypeKind::Error) {
        release(a);
        return error_operand();
    }
    TypeKind from = a.type->kind;
    TypeKind to = t->kind;
    if (a.type == t) {
        // A conversion that does nothing (Konoha prints an info line).
        m_diag->report(Severity::Info, e->line, e->column, "'%s' is already of that type; the conversion does nothing",
            to == TypeKind::Int ? "int" : to == TypeKind::Boolean ? "boolean" : to == TypeKind::String ? "String" : "value");
        return a;
    }
    if (from == TypeKind::Class && a.type->cls == m_object && (to == TypeKind::Int || to == TypeKind::Boolean))
        return object_to_scalar(a, t, e, dest);
    // From an Object to an array, map, Bytes or function type, `to` is `as`.
    if (from == TypeKind::Class && a.type->cls == m_object
        && (to == TypeKind::Array || to == TypeKind::Map || to == TypeKind::Bytes || to == TypeKind::Func))
        return checked_cast(a, t, e, dest);
    if (boxes(t, a.type))
        return box(a, dest);
    if (to == TypeKind::String && from != TypeKind::Void)
        return to_string(a, e, dest);
    if (from == TypeKind::String && (to == TypeKind::Int || to == TypeKind::Boolean)) {
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
    if (from == TypeKind::Boolean && to == TypeKind::Int) {
        a.type = t;   // Booleans are 0 and 1 already.
        return a;
    }
    // Between classes `to` is `as`: to a superclass as it is, to a subclass
    // checked when the program runs.
    if (from == TypeKind::Class && to == TypeKind::Class) {
        if (assignable(t, a.type)) {
            a.type = t;
            return a;
        }
        if (is_subclass(t->cls, a.type->cls))
            return downcast(a, t, dest);
    }
    type_error(e, "cannot convert '%s' to '%s'", a.type, t);
    release(a);
    return error_operand();
}

// Compiles `defined(...)`, true or false when compiled (Konoha): for a
// signature `defined(succ(int))`, whether a function (or a method of the
// class of `this`) of that name takes parameters of those types; for an
// expression, whether it compiles without error (a name, a class, a method,
// an operator on those operands), found by compiling it and dropping the
// code and the diagnostics.
Operand Compiler::defined_expr(Expr* e, i32 dest)
{
    bool yes = false;
    u32 diag_size = m_diag->size();
    u32 diag_errors = m_diag->error_count();
    u32 statement_errors = m_statement_errors;
    u32 fs_line = m_fs->diagnostic_line;
    if (e->int_value) {
        Type* types[64];
        u32 n = e->arg_count < 64 ? e->arg_count : 64;
        bool typed = e->arg_count < 64;
        for (u32 i = 0; i < n && typed; i++) {
            types[i] = resolve_type(e->args[i]->type);
            typed = types[i]->kind != TypeKind::Error;
        }
        auto matches = [&](FuncSym* f) {
            if (!f || !f->params)
                return f && n == 0;
            for (u32 i = 0; i < n; i++)
                if (f->params[i] != types[i])
                    return false;
            return true;
        };
        yes = typed
            && (matches(find_function(e->name, n)) || (m_fs->cls && matches(find_method(m_fs->cls, e->name, n))));
        m_diag->restore(diag_size, diag_errors);
    }
    if (!yes && e->a && e->a->kind == ExprKind::Name && names_only_a_class(e->a->name)) {
        yes = true;
    } else if (!yes && e->a) {
        u32 start = here();
        Operand v = expr(e->a);
        release(v);
        yes = m_diag->error_count() == diag_errors && v.type->kind != TypeKind::Error;
        drop_code_from(start);
    }
    m_diag->restore(diag_size, diag_errors);
    m_statement_errors = statement_errors;
    m_fs->diagnostic_line = fs_line;
    Operand r = target_reg(dest, m_types.boolean());
    emit_imm(Op::LoadI, r.reg, yes ? 1 : 0);
    return r;
}

// Compiles a block used as an expression: its statements, then its last
// expression statement gives the value.
Operand Compiler::block_expr(Expr* e, Type* expected, i32 dest)
{
    Block* b = e->block;
    if (!b || b->count == 0)
        return Operand { m_types.void_type(), 0, false };
    begin_scope();
    for (u32 i = 0; i + 1 < b->count; i++)
        statement(b->stmts[i]);
    Stmt* last = b->stmts[b->count - 1];
    Operand r { m_types.void_type(), 0, false };
    if (last->kind == StmtKind::Expr && last->expr) {
        Operand v = expr(last->expr, expected);
        if (v.type->kind != TypeKind::Void && v.type->kind != TypeKind::Error) {
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
            if (v.type->kind == TypeKind::Error)
                r = v;
            release(v);
        }
    } else {
        statement(last);
    }
    end_scope();
    return r;
}

}   // namespace ks::compiler
