// The checker for expressions and calls: it walks an expression tree before
// any of its code is emitted, reports every type error, undefined name and
// info line, and annotates each node (Expr::type_id, res, symbol: see
// docs/internals.md, "Checker and emitter") so that the emitter
// (Expressions.cpp, Calls.cpp) finds names, methods and natives resolved
// and never meets an error. It visits the nodes in the order the emitter
// compiles them, so diagnostics come in that order. It emits nothing and
// touches nothing whose order shows in the bytecode (constants, the
// program's type table, registers). Statements are in CheckStatements.cpp.
#include "CompilerInternal.h"

namespace ks::compiler {

// Records [t] as the static type of [e] and returns it.
Type* Compiler::typed(Expr* e, Type* t)
{
    e->type_id = t->id;
    return t;
}

// Checks expression [e] ([expected] guides null, array literals,
// conditionals and block expressions, as in the emitter) and returns its
// type, the error type after an error. Nesting is bounded as expr()'s is.
Type* Compiler::check(Expr* e, Type* expected)
{
    if (!e) {
        // A missing expression: the parser reported it, and its statement
        // has an error.
        m_check_errors++;
        return m_types.error();
    }
    // Leaves first: they do not recurse, and their parent's tick covers them.
    Type* t;
    switch (e->kind) {
    case ExprKind::Error:
        // Reported by the parser (and maybe its shared, read-only node:
        // nothing is written to it).
        m_check_errors++;
        return m_types.error();
    case ExprKind::Name:
        e->conv = 0;
        t = check_name(e);
        if (KS_UNLIKELY(t->kind == TypeKind::Error))
            m_check_errors++;
        return typed(e, t);
    case ExprKind::Int: return typed(e, m_types.int_type());
    case ExprKind::Bool: return typed(e, m_types.boolean());
    case ExprKind::String: return typed(e, m_types.string());
    case ExprKind::Null: return typed(e, m_types.null_type());
    default: break;
    }
    e->res = ResNone;
    e->conv = 0;
    if (m_failed || !tick())
        return typed(e, m_types.error());
    // A second guard behind the parser's nesting limit.
    if (m_expr_depth > 2 * m_options.max_nesting + 64) {
        error(e->line, e->column, "expression nested too deeply");
        return typed(e, m_types.error());
    }
    m_expr_depth++;
    switch (e->kind) {
    case ExprKind::This:
        if (!m_fs->cls) {
            error_at(e, "'this' is only valid inside methods and constructors");
            t = m_types.error();
        } else {
            t = m_fs->cls->type;
        }
        break;
    case ExprKind::Super:
        error_at(e, "'super' can only be called or used to call a method");
        t = m_types.error();
        break;
    case ExprKind::Member: t = check_member(e); break;
    case ExprKind::Index: t = check_index(e); break;
    case ExprKind::Call: t = check_call(e); break;
    case ExprKind::New: t = check_new(e); break;
    case ExprKind::NewArray: t = check_new_array(e); break;
    case ExprKind::ArrayLit: t = check_array_literal(e, expected); break;
    case ExprKind::Unary: t = check_unary(e); break;
    case ExprKind::Binary:
        t = (e->op == Tok::AndAnd || e->op == Tok::OrOr) ? check_logical(e) : check_binary(e);
        break;
    case ExprKind::Assign: t = check_assign(e); break;
    case ExprKind::IncDec: t = check_incdec(e); break;
    case ExprKind::Conditional: t = check_conditional(e, expected); break;
    case ExprKind::InstanceOf: t = check_instanceof(e); break;
    case ExprKind::As: t = check_as(e); break;
    case ExprKind::To: t = check_to(e); break;
    case ExprKind::BlockExpr: t = check_block_expr(e, expected); break;
    case ExprKind::Defined: t = check_defined(e); break;
    default: t = m_types.error(); break;
    }
    m_expr_depth--;
    // An expression that failed to check (here or in a declaration it uses)
    // marks its statement as having an error.
    if (t->kind == TypeKind::Error)
        m_check_errors++;
    return typed(e, t);
}

// Checks [e] as a value stored into a slot of [dest_type] (a variable, a
// parameter, an element): assignable, not void; [context] names the slot
// in messages, [func] and [index] the function whose argument it is.
void Compiler::check_into(Expr* e, Type* dest_type, const char* context, FuncSym* func, u32 index)
{
    Type* t = check(e, dest_type);
    if (boxes(dest_type, t))
        t = m_object->type;
    if (dest_type->kind == TypeKind::Error) {
        // A slot whose declaration failed (reported there) has no kind to
        // store into: the statement has an error.
        m_check_errors++;
        return;
    }
    if (!assignable(dest_type, t)) {
        if (func && str_equal(context, "argument"))
            argument_error(e, t, dest_type, func, index);
        else
            type_error(e, "cannot use '%s' as '%s'", t, dest_type);
    } else if (t->kind == TypeKind::Void) {
        error(e->line, e->column, "a void value cannot be used");
    }
}

// Checks that a value of type [t] (of expression [at]) may be converted to
// [to] where the emitter coerce()s it; returns the converted type.
Type* Compiler::check_coerce(Type* t, Type* to, Expr* at)
{
    if (boxes(to, t))
        return m_object->type;
    if (to->kind == TypeKind::Error && t->kind != TypeKind::Error)
        m_check_errors++;   // As in check_into(): nothing may be stored there.
    if (!assignable(to, t)) {
        type_error(at, "cannot use '%s' as '%s'", t, to);
        return t;
    }
    return t->kind == TypeKind::Null ? to : t;
}

// Checks a name: a local, a field of `this`, a class constant, a global, a
// built-in constant, SCRIPT_ARGV, or a top-level function used as a value.
Type* Compiler::check_name(Expr* e)
{
    e->res = ResNone;
    if (Local* l = find_local(e->name)) {
        e->res = ResLocal;
        e->symbol = l->number;
        return l->type;
    }
    if (m_fs->cls) {
        if (FieldSym* f = find_field(m_fs->cls, e->name)) {
            e->res = ResField;
            e->symbol = f->slot;
            return f->type;
        }
    }
    GlobalSym* g = class_constant(static_scope(), e->name);
    if (!g)
        g = find_global(e->name);
    if (g) {
        e->res = ResGlobal;
        e->symbol = g->index;
        return g->type;
    }
    if (str_equal(e->name, "SCRIPT_ARGV")) {
        if (m_options.script_arg_count > kMaxParams * 200) {
            error_at(e, "too many script arguments");
            return m_types.error();
        }
        Type* t = m_types.array_of(m_types.string());
        if (!t) {
            oom();
            return m_types.error();
        }
        e->res = ResScriptArgv;
        return t;
    }
    u32 constant_count;
    const BuiltinConstant* constants = builtin_constants(&constant_count);
    for (u32 i = 0; i < constant_count; i++) {
        if (str_equal(e->name, constants[i].name)) {
            e->res = ResBuiltinConstant;
            e->symbol = i;
            return m_types.int_type();
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
    if (found && overloads == 1) {
        e->res = ResFunctionValue;
        e->symbol = found->index;
        return found->func_type;
    }
    if (found) {
        error_at(e, "'%s' is overloaded; a function value needs one function", e->name);
        return m_types.error();
    }
    if (str_equal(e->name, "global")) {
        // Konoha's globals object exists here only as the `global.` prefix
        // (and a bare `global` statement, which does nothing).
        error_at(e, "'global' is not a value in kscript; a global variable is global.NAME (or just NAME)");
        return m_types.error();
    }
    undefined_error(e, "undefined name '%s'", e->name, SuggestValues);
    return m_types.error();
}

// Checks `-x`, `!x` and `~x`.
Type* Compiler::check_unary(Expr* e)
{
    Type* a = check(e->a);
    if (a->kind == TypeKind::Error)
        return a;
    if (e->op == Tok::Bang) {
        if (a->kind != TypeKind::Boolean)
            type_error(e, "'!' needs a boolean, not '%s'", a);
        return m_types.boolean();
    }
    if (a->kind != TypeKind::Int)
        type_error(e, e->op == Tok::Minus ? "'-' needs an int, not '%s'" : "'~' needs an int, not '%s'", a);
    return m_types.int_type();
}

// Checks comparison [e] of values of types [ta] and [tb] as the emitter's
// compare_equal() will compile it; false after an error (reported unless
// an operand already had one).
bool Compiler::check_compare(Expr* e, Type* ta, Type* tb)
{
    if (ta->kind == TypeKind::Error || tb->kind == TypeKind::Error)
        return false;
    if (e->op != Tok::Eq && e->op != Tok::Ne) {
        if (ta->kind == TypeKind::String && tb->kind == TypeKind::String)
            return true;
        if (ta->kind != TypeKind::Int || tb->kind != TypeKind::Int) {
            type_error(e, "cannot order '%s' and '%s'", ta, tb);
            return false;
        }
        return true;
    }
    if (ta->kind == TypeKind::Null || tb->kind == TypeKind::Null) {
        Type* other = ta->kind == TypeKind::Null ? tb : ta;
        if (!is_reference(other)) {
            type_error(e, "cannot compare '%s' with null", other);
            return false;
        }
        return true;
    }
    if (ta->kind == TypeKind::String && tb->kind == TypeKind::String)
        return true;
    bool ok = (ta == tb && !is_reference(ta)) || (is_reference(ta) && is_reference(tb) && (assignable(ta, tb) || assignable(tb, ta)));
    if (!ok) {
        type_error(e, "cannot compare '%s' and '%s'", ta, tb);
        return false;
    }
    return true;
}

// Checks a binary operator: arithmetic and bitwise on ints (and bitwise on
// booleans), `+` on a String and any value, comparisons. The right operand
// of `x + k` / `x - k` with a small constant is checked only when the
// emitter compiles it (a String on the left).
Type* Compiler::check_binary(Expr* e)
{
    Tok op = e->op;
    if ((op == Tok::Plus || op == Tok::Minus) && small_int(e->b, -32767, 32767)) {
        Type* a = check(e->a);
        if (a->kind == TypeKind::Int)
            return m_types.int_type();
        if (a->kind == TypeKind::String && op == Tok::Plus) {
            check(e->b);
            return m_types.string();
        }
        if (a->kind != TypeKind::Error)
            type_error(e, "'%s' needs ints, not '%s'", a);
        return m_types.error();
    }
    Type* a = check(e->a);
    // The right side of a concatenation may be of any type: it gets no
    // expected type.
    bool concatenation = op == Tok::Plus && a->kind == TypeKind::String;
    Type* b = check(e->b, concatenation ? nullptr : a);
    if (a->kind == TypeKind::Error || b->kind == TypeKind::Error)
        return m_types.error();
    switch (op) {
    case Tok::Eq: case Tok::Ne: case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge:
        return check_compare(e, a, b) ? m_types.boolean() : m_types.error();
    default:
        break;
    }
    if (concatenation) {
        if (b->kind == TypeKind::Void) {
            error_at(e->b, "a void value cannot be concatenated");
            return m_types.error();
        }
        return m_types.string();
    }
    bool bitwise = op == Tok::Amp || op == Tok::Pipe || op == Tok::Caret;
    bool bools = bitwise && a->kind == TypeKind::Boolean && b->kind == TypeKind::Boolean;
    if (!bools && (a->kind != TypeKind::Int || b->kind != TypeKind::Int)) {
        operator_error(e, op, a, b);
        return m_types.error();
    }
    return bools ? m_types.boolean() : m_types.int_type();
}

// Checks `a && b` and `a || b`: both conditions.
Type* Compiler::check_logical(Expr* e)
{
    u32 errors = m_check_errors;
    check_condition(e);
    return m_check_errors != errors ? m_types.error() : m_types.boolean();
}

// Checks [cond] as a condition, as the emitter's condition_jump() compiles
// it: `!`, `&&` and `||` by their parts, comparisons of their operands, any
// other expression as a boolean.
void Compiler::check_condition(Expr* cond)
{
    m_line = cond->line;
    if (cond->kind == ExprKind::Unary && cond->op == Tok::Bang) {
        check_condition(cond->a);
        return;
    }
    if (cond->kind == ExprKind::Binary && (cond->op == Tok::AndAnd || cond->op == Tok::OrOr)) {
        check_condition(cond->a);
        check_condition(cond->b);
        return;
    }
    if (cond->kind == ExprKind::Binary
        && (cond->op == Tok::Lt || cond->op == Tok::Le || cond->op == Tok::Gt || cond->op == Tok::Ge
            || cond->op == Tok::Eq || cond->op == Tok::Ne)) {
        Type* a = check(cond->a);
        Type* b = check(cond->b, a);
        bool ints = (a->kind == TypeKind::Int && b->kind == TypeKind::Int)
            || ((cond->op == Tok::Eq || cond->op == Tok::Ne) && a->kind == TypeKind::Boolean
                && b->kind == TypeKind::Boolean);
        if (!ints)
            check_compare(cond, a, b);
        return;
    }
    Type* c = check(cond, m_types.boolean());
    if (c->kind != TypeKind::Boolean)
        type_error(cond, "condition must be boolean, not '%s'", c);
}

// Checks the value of an assignment to a field or global of type [t].
void Compiler::check_assigned(Expr* value, Type* t)
{
    check_coerce(check(value, t), t, value);
}

// Checks `target = value` where [target] (`global.x`, or a bare name when
// [implicit]) declares a global of the value's type, and declares it.
Type* Compiler::check_declare_global(Expr* e, Expr* target, Expr* value, bool implicit)
{
    Type* t = check(value);
    if (t->kind == TypeKind::Error)
        return t;
    if (t->kind == TypeKind::Null || t->kind == TypeKind::Void) {
        error_at(value, t->kind == TypeKind::Null ? "cannot infer the type of '%s' from null"
                                                  : "'%s' cannot hold a void value",
            target->name);
        return m_types.error();
    }
    if (find_class(target->name) || str_equal(target->name, "System") || str_equal(target->name, "global")) {
        error_at(target, "'%s' cannot be used as a variable name", target->name);
        return m_types.error();
    }
    // The name outlives the function body's syntax tree (lazy parsing).
    const char* name = m_arena->copy_string(target->name, str_length(target->name));
    GlobalSym g { name, t, m_globals.size(), false, true };
    if (!name || !m_globals.try_append(g) || !m_global_index.add(g.name, g.index)) {
        oom();
        return m_types.error();
    }
    if (implicit)
        report_implicit_global(target, t);
    e->res = ResDeclareGlobal;
    e->symbol = g.index;
    return t;
}

// The info line Konoha prints when `n = v` declares global [target] of
// type [t] (AllowImplicitGlobalVariable). Out of line: the name buffer stays
// off the stack of the checker's recursion.
KS_NOINLINE void Compiler::report_implicit_global(Expr* target, Type* t)
{
    char type_name[96];
    TypeTable::name(t, type_name, sizeof(type_name));
    m_diag->report(Severity::Info, target->line, target->column, "'%s' is declared as a global of type '%s'",
        target->name, type_name);
}

// Checks the new value of `t op= v` on a field or element of type [t].
void Compiler::check_compound_value(Expr* e, Tok base, Type* t)
{
    Type* rhs = check(e->b, t);
    if (t->kind == TypeKind::String && base == Tok::Plus)
        return;
    if (t->kind == TypeKind::Int && rhs->kind == TypeKind::Int)
        return;
    if (rhs->kind != TypeKind::Error)
        type_error(e, "compound assignment cannot combine '%s' and '%s'", t, rhs);
}

// The value [e] (`t = v` or `t op= v`) stores: v, or for a compound
// assignment `t op v`, built in [synthetic] (both passes build it alike).
Expr* Compiler::assigned_expr(Expr* e, Expr* synthetic)
{
    Tok base = compound_base(e->op);
    if (base == Tok::Assign)
        return e->b;
    *synthetic = *e;
    synthetic->kind = ExprKind::Binary;
    synthetic->op = base;
    synthetic->a = e->a;
    synthetic->b = e->b;
    return synthetic;
}

// Checks `target = value` and compound assignments to locals, fields,
// globals and elements; the type is the value's slot's.
Type* Compiler::check_assign(Expr* e)
{
    Expr* target = e->a;
    Tok base = compound_base(e->op);
    // `t op= v` is checked as `t = t op v`, as the emitter compiles it.
    Expr synthetic;
    Expr* value = assigned_expr(e, &synthetic);
    if (target->kind == ExprKind::Name) {
        const char* name = target->name;
        if (Local* l = find_local(name)) {
            if (l->is_const || str_equal(name, "this")) {
                error_at(target, "cannot assign to constant '%s'", name);
                return m_types.error();
            }
            Local copy = *l;   // The value may declare locals (a block expression).
            check_into(value, copy.type, "assignment");
            e->res = ResLocal;
            e->symbol = copy.number;
            return copy.type;
        }
        if (m_fs->cls) {
            if (FieldSym* f = find_field(m_fs->cls, name)) {
                check_assigned(value, f->type);
                e->res = ResField;
                e->symbol = f->slot;
                return f->type;
            }
        }
        if (class_constant(static_scope(), name)) {
            error_at(target, "cannot assign to constant '%s'", name);
            return m_types.error();
        }
        if (GlobalSym* g = find_global(name)) {
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", name);
                return m_types.error();
            }
            Type* t = g->type;
            u32 index = g->index;
            check_assigned(value, t);
            e->res = ResGlobal;
            e->symbol = index;
            return t;
        }
        // After AllowImplicitGlobalVariable(true), `n = 124` at the top level
        // declares n (Konoha), with an info line.
        if (m_implicit_globals && m_fs->is_main && m_fs->scope_depth == 0 && base == Tok::Assign)
            return check_declare_global(e, target, value, true);
        undefined_error(target, "undefined name '%s'", name, SuggestValues);
        return m_types.error();
    }
    if (target->kind == ExprKind::Member) {
        if (target->a->kind == ExprKind::Name && str_equal(target->a->name, "global") && !find_local("global")) {
            GlobalSym* g = find_global(target->name);
            if (!g && base == Tok::Assign)
                return check_declare_global(e, target, value, false);   // Konoha: `global.x = 1` declares x.
            if (!g) {
                error_at(target, "undefined global '%s'", target->name);
                return m_types.error();
            }
            if (g->is_const) {
                error_at(target, "cannot assign to constant '%s'", target->name);
                return m_types.error();
            }
            Type* t = g->type;
            u32 index = g->index;
            check_into(value, t, "assignment");
            e->res = ResGlobalMember;
            e->symbol = index;
            return t;
        }
        if (ClassSym* c = class_receiver(target->a)) {
            if (class_constant(c, target->name))
                error_at(target, "cannot assign to constant '%s.%s'", c->name, target->name);
            else
                error_at(target, "'%s' has no constant '%s'", c->name, target->name);
            return m_types.error();
        }
        Type* obj = check(target->a);
        if (obj->kind == TypeKind::Error)
            return obj;
        if (obj->kind != TypeKind::Class) {
            type_error(target->a, "'%s' has no fields to assign", obj);
            return m_types.error();
        }
        FieldSym* f = find_field(obj->cls, target->name);
        if (!f) {
            member_error(target, "'%s' has no field '%s'", obj->cls->name, target->name, SuggestFields, obj->cls);
            return m_types.error();
        }
        if (base != Tok::Assign)
            check_compound_value(e, base, f->type);
        else
            check_into(e->b, f->type, "assignment");
        e->res = ResField;
        e->symbol = f->slot;
        return f->type;
    }
    if (target->kind == ExprKind::Index) {
        Type* t = check(target->a);
        if (t->kind == TypeKind::Error)
            return t;
        bool stable = !may_assign(target->b) && !may_assign(e->b);
        Type* key_type = t->kind == TypeKind::Map ? t->key : m_types.int_type();
        Type* val_type = t->kind == TypeKind::Array || t->kind == TypeKind::Map ? t->elem
            : t->kind == TypeKind::Bytes ? m_types.int_type() : nullptr;
        if (!val_type) {
            type_error(target->a, "'%s' cannot be indexed", t);
            return m_types.error();
        }
        if (stable)
            check_coerce(check(target->b, key_type), key_type, target->b);
        else
            check_into(target->b, key_type, "index");
        if (base != Tok::Assign)
            check_compound_value(e, base, val_type);
        else
            check_into(e->b, val_type, "assignment");
        e->res = ResElement;
        return val_type;
    }
    error_at(target, "cannot assign to this expression");
    return m_types.error();
}

// `++t` / `--t` ([e], also postfix) as the assignment `t += 1` / `t -= 1`:
// [assign], whose right side is [one]. Both passes build it alike, on the
// native stack (the checker checks it, the emitter compiles it).
void Compiler::incdec_as_assign(const Expr* e, Expr* one, Expr* assign)
{
    *one = Expr {};
    one->kind = ExprKind::Int;
    one->line = e->line;
    one->column = e->column;
    one->int_value = 1;
    *assign = *e;
    assign->kind = ExprKind::Assign;
    assign->op = e->op == Tok::PlusPlus ? Tok::PlusAssign : Tok::MinusAssign;
    assign->a = e->a;
    assign->b = one;
}

// Checks `++t` and `--t` (also postfix) as `t += 1` / `t -= 1`; the
// assignment's resolution is kept on [e] for the emitter.
Type* Compiler::check_incdec(Expr* e)
{
    Expr one, assign;
    incdec_as_assign(e, &one, &assign);
    if (e->a->kind != ExprKind::Name && e->a->kind != ExprKind::Member && e->a->kind != ExprKind::Index) {
        error_at(e, "'++' and '--' need a variable, field or element");
        return m_types.error();
    }
    Type* r = check_assign(&assign);
    e->res = assign.res;
    e->symbol = assign.symbol;
    if (r->kind != TypeKind::Int && r->kind != TypeKind::Error)
        type_error(e, "'++' and '--' need an int, not '%s'", r);
    return m_types.void_type();
}

// Checks `c ? a : b`: the type is the context's, or the first arm's, or
// the common superclass of two classes.
Type* Compiler::check_conditional(Expr* e, Type* expected)
{
    check_condition(e->a);
    bool known = expected && expected->kind != TypeKind::Error && expected->kind != TypeKind::Void
        && expected->kind != TypeKind::Null;
    bool object = known && expected->kind == TypeKind::Class && expected->cls == m_object;
    Type* then_type = check(e->b, expected);
    if (object && boxes(expected, then_type))
        then_type = m_object->type;
    Type* t = expected && expected->kind != TypeKind::Error ? expected : then_type;
    if (!expected && then_type->kind == TypeKind::Null) {
        error_at(e, "cannot infer the type of '?:' from null; give the variable a type");
        return m_types.error();
    }
    if (t->kind == TypeKind::Void) {
        error_at(e, "'?:' branches cannot be void");
        return m_types.error();
    }
    if (then_type->kind != TypeKind::Null && !assignable(t, then_type))
        type_error(e->b, "'?:' branch has type '%s', expected '%s'", then_type, t);
    Type* else_type = check(e->c, t);
    if (object && boxes(t, else_type))
        else_type = m_object->type;
    if (else_type->kind != TypeKind::Null && !assignable(t, else_type)) {
        // Unify two classes to their common superclass.
        if (t->kind == TypeKind::Class && else_type->kind == TypeKind::Class && !expected) {
            if (ClassSym* c = common_superclass(t->cls, else_type->cls))
                t = c->type;
        }
        if (!assignable(t, else_type))
            type_error(e->c, "'?:' branches have different types ('%s' and '%s')", t, else_type);
    }
    return t;
}

// The operand ([a]) and the target type ([t], its id in [symbol]) of
// `x instanceof T`, `x as T` and `x to T`; false when either has an error.
bool Compiler::check_type_test(Expr* e, Type** a, Type** t)
{
    *a = check(e->a);
    *t = resolve_type(e->type);
    e->symbol = (*t)->id;
    return (*a)->kind != TypeKind::Error && (*t)->kind != TypeKind::Error;
}

// Checks `x instanceof T`; the tested type's id goes in [symbol].
Type* Compiler::check_instanceof(Expr* e)
{
    Type *a, *t;
    if (!check_type_test(e, &a, &t))
        return m_types.error();
    if (a->kind == TypeKind::Void || t->kind == TypeKind::Void || t->kind == TypeKind::Null) {
        error_at(e, "instanceof needs a value and a type");
        return m_types.error();
    }
    return m_types.boolean();
}

// Checks `x as T`: an upcast, a class downcast, boxing, and from an Object
// unboxing or a checked cast to another reference type.
Type* Compiler::check_as(Expr* e)
{
    Type *a, *t;
    if (!check_type_test(e, &a, &t))
        return m_types.error();
    if (a->kind == TypeKind::Null && is_reference(t))
        return check_coerce(a, t, e);
    if (boxes(t, a) || assignable(t, a))
        return t;
    bool from_object = a->kind == TypeKind::Class && a->cls == m_object;
    if (from_object && (t->kind == TypeKind::Int || t->kind == TypeKind::Boolean))
        return t;
    if (from_object && is_reference(t) && t->kind != TypeKind::Class && t->kind != TypeKind::Null)
        return t;
    if (t->kind != TypeKind::Class || a->kind != TypeKind::Class || !is_subclass(t->cls, a->cls)) {
        type_error(e, "cannot cast '%s' to '%s'", a, t);
        return m_types.error();
    }
    return t;
}

// Checks `x to T`: conversions between int, String and boolean, from an
// Object, and between classes.
Type* Compiler::check_to(Expr* e)
{
    Type *a, *t;
    if (!check_type_test(e, &a, &t))
        return m_types.error();
    TypeKind from = a->kind;
    TypeKind to = t->kind;
    if (a == t) {
        // A conversion that does nothing (Konoha prints an info line).
        m_diag->report(Severity::Info, e->line, e->column, "'%s' is already of that type; the conversion does nothing",
            to == TypeKind::Int ? "int" : to == TypeKind::Boolean ? "boolean" : to == TypeKind::String ? "String" : "value");
        return a;
    }
    bool from_object = from == TypeKind::Class && a->cls == m_object;
    if (from_object && (to == TypeKind::Int || to == TypeKind::Boolean))
        return t;
    if (from_object && (to == TypeKind::Array || to == TypeKind::Map || to == TypeKind::Bytes || to == TypeKind::Func))
        return t;
    if (boxes(t, a))
        return t;
    if (to == TypeKind::String && from != TypeKind::Void)
        return m_types.string();
    if (from == TypeKind::String && (to == TypeKind::Int || to == TypeKind::Boolean))
        return t;
    if ((from == TypeKind::Int && to == TypeKind::Boolean) || (from == TypeKind::Boolean && to == TypeKind::Int))
        return t;
    if (from == TypeKind::Class && to == TypeKind::Class && (assignable(t, a) || is_subclass(t->cls, a->cls)))
        return t;
    type_error(e, "cannot convert '%s' to '%s'", a, t);
    return m_types.error();
}

// Checks `defined(...)`, decided here (Konoha): for a signature
// `defined(succ(int))`, whether a function (or a method of the class of
// `this`) of that name takes parameters of those types; for an expression,
// whether it checks without error. Its diagnostics are dropped; the answer
// (0 or 1) goes in [symbol].
Type* Compiler::check_defined(Expr* e)
{
    bool yes = false;
    u32 diag_size = m_diag->size();
    u32 diag_errors = m_diag->error_count();
    u32 check_errors = m_check_errors;
    u32 fs_line = m_fs->diagnostic_line;
    if (e->int_value) {
        yes = defined_signature(e);
        m_diag->restore(diag_size, diag_errors);
    }
    if (!yes && e->a && e->a->kind == ExprKind::Name && names_only_a_class(e->a->name)) {
        yes = true;
    } else if (!yes && e->a) {
        Type* v = check(e->a);
        yes = m_diag->error_count() == diag_errors && v->kind != TypeKind::Error;
    }
    m_diag->restore(diag_size, diag_errors);
    m_check_errors = check_errors;
    m_fs->diagnostic_line = fs_line;
    e->symbol = yes ? 1 : 0;
    return m_types.boolean();
}

// Whether the signature of `defined(name(T, ...))` [e] is that of a
// function (or a method of the class of `this`). Out of line: its array of
// types stays off the stack of the checker's recursion.
KS_NOINLINE bool Compiler::defined_signature(Expr* e)
{
    Type* types[64];
    u32 n = e->arg_count < 64 ? e->arg_count : 64;
    bool typed_all = e->arg_count < 64;
    for (u32 i = 0; i < n && typed_all; i++) {
        types[i] = resolve_type(e->args[i]->type);
        typed_all = types[i]->kind != TypeKind::Error;
    }
    auto matches = [&](FuncSym* f) {
        if (!f || !f->params)
            return f && n == 0;
        for (u32 i = 0; i < n; i++)
            if (f->params[i] != types[i])
                return false;
        return true;
    };
    return typed_all
        && (matches(find_function(e->name, n)) || (m_fs->cls && matches(find_method(m_fs->cls, e->name, n))));
}

// Checks a block used as an expression: its statements in a scope of their
// own, then its last expression statement gives the value.
Type* Compiler::check_block_expr(Expr* e, Type* expected)
{
    Block* b = e->block;
    if (!b || b->count == 0)
        return m_types.void_type();
    begin_check_scope();
    for (u32 i = 0; i + 1 < b->count; i++)
        check_statement(b->stmts[i]);
    Stmt* last = b->stmts[b->count - 1];
    Type* r = m_types.void_type();
    if (last->kind == StmtKind::Expr && last->expr) {
        Type* v = check(last->expr, expected);
        if (v->kind == TypeKind::Error)
            r = v;
        else if (v->kind != TypeKind::Void)
            r = v->kind == TypeKind::Null && expected ? expected : v;
    } else {
        check_statement(last);
    }
    end_check_scope();
    return r;
}

}   // namespace ks::compiler
