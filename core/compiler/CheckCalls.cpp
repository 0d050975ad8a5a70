// The checker for member access, indexing, calls (functions, methods,
// natives, function values, the built-in forms such as System.p and
// String.format), `new` and array literals: the checking half of Calls.cpp,
// which emits what is resolved here (Expr::res and symbol).
#include "CompilerInternal.h"

namespace ks::compiler {

// Checks `obj.name`: `global.x`, a class constant, a field, or a property
// of a built-in value (`s.length`, `a.size`).
KS_NOINLINE Type* Compiler::check_member(Expr* e)
{
    if (e->a->kind == ExprKind::Name && str_equal(e->a->name, "global") && !find_local("global")) {
        GlobalSym* g = find_global(e->name);
        if (!g) {
            error_at(e, "undefined global '%s'", e->name);
            return m_types.error();
        }
        e->res = ResGlobal;
        e->symbol = g->index;
        return g->type;
    }
    if (ClassSym* c = class_receiver(e->a)) {
        // A class constant: Class.NAME.
        GlobalSym* g = class_constant(c, e->name);
        if (!g) {
            error_at(e, "'%s' has no constant '%s'", c->name, e->name);
            return m_types.error();
        }
        e->res = ResGlobal;
        e->symbol = g->index;
        return g->type;
    }
    Type* obj = check(e->a);
    if (obj->kind == TypeKind::Error)
        return obj;
    if (obj->kind == TypeKind::Class) {
        FieldSym* f = find_field(obj->cls, e->name);
        if (!f) {
            member_error(e, "'%s' has no field '%s'", obj->cls->name, e->name, SuggestFields, obj->cls);
            return m_types.error();
        }
        e->res = ResField;
        e->symbol = f->slot;
        return f->type;
    }
    // `s.length` and `a.length` / `a.size` read like properties too.
    const char* owner = native_owner(obj);
    if (owner && (str_equal(e->name, "length") || str_equal(e->name, "size"))) {
        i32 n = find_native(owner, e->name, 0);
        if (n >= 0) {
            e->res = ResNative;
            e->symbol = (u32)n;
            return check_call_native(e, n, obj);
        }
    }
    type_error(e->a, "'%s' has no fields", obj);
    return m_types.error();
}

// Checks `a[i]` on arrays, and through the native `get` on maps, strings
// and Bytes.
Type* Compiler::check_index(Expr* e)
{
    Type* t = check(e->a);
    if (t->kind == TypeKind::Error)
        return t;
    if (t->kind == TypeKind::Array) {
        Type* ix = check(e->b, m_types.int_type());
        if (ix->kind != TypeKind::Int)
            type_error(e->b, "array index must be int, not '%s'", ix);
        e->res = ResElement;
        return t->elem;
    }
    const char* owner = native_owner(t);
    if (owner) {
        i32 n = find_native(owner, "get", 1);
        if (n >= 0) {
            Expr call = *e;
            Expr* args[1] = { e->b };
            call.args = args;
            call.arg_count = 1;
            e->res = ResNative;
            e->symbol = (u32)n;
            return check_call_native(&call, n, t);
        }
    }
    type_error(e->a, "'%s' cannot be indexed", t);
    return m_types.error();
}

// Checks the arguments of [call] against [params] (null: any type) of
// function [func] (null for natives and function values, whose messages
// do not name one).
void Compiler::check_args(Expr* call, Type** params, u32 count, FuncSym* func)
{
    for (u32 i = 0; i < count; i++) {
        Type* pt = params ? params[i] : nullptr;
        if (!pt)
            check(call->args[i]);
        else
            check_into(call->args[i], pt, "argument", func, i);
    }
}

// Checks a call of script function [f] with the arguments of [e]; the
// type is its result's.
Type* Compiler::check_call_function(Expr* e, FuncSym* f)
{
    check_args(e, f->params, e->arg_count, f);
    return f->result->kind == TypeKind::Void ? m_types.void_type() : f->result;
}

// The parameter types of native [native] (on a receiver of
// [receiver_type] for methods) into [params] (at most 8); its signature,
// whose first letter is its result's type and the rest its parameters'.
const char* Compiler::native_params(i32 native, Type* receiver_type, Type** params)
{
    u32 count;
    const char* sig = native_table(&count)[native].signature;
    u32 argc = (u32)str_length(sig) - 1;
    for (u32 i = 0; i < argc && i < 8; i++)
        params[i] = native_type(sig[i + 1], receiver_type);
    return sig;
}

// Checks a call of native [native] with the arguments of [e] (on a
// receiver of [receiver_type] for methods); the type is its result's.
Type* Compiler::check_call_native(Expr* e, i32 native, Type* receiver_type)
{
    Type* params[8];
    const char* sig = native_params(native, receiver_type, params);
    u32 argc = (u32)str_length(sig) - 1;
    check_args(e, params, argc, nullptr);
    return native_type(sig[0], receiver_type);
}

// Checks a call of a function value of type [ft] with the arguments of [e].
Type* Compiler::check_call_value(Expr* e, Type* ft)
{
    if (e->arg_count != ft->param_count) {
        error(e->line, e->column, "this function value takes %d arguments", nullptr, nullptr, ft->param_count);
        return m_types.error();
    }
    check_args(e, ft->params, e->arg_count, nullptr);
    return ft->elem;
}

// Checks `f(args)`: a function value in a local or global, a built-in form
// (assert, AllowImplicitGlobalVariable), a method of `this`, a static or
// top-level function, an accessor of `this`, super(...) in a constructor,
// or any expression of a function type.
Type* Compiler::check_call(Expr* e)
{
    if (e->arg_count > kMaxParams) {
        error_at(e, "too many arguments");
        return m_types.error();
    }
    Expr* callee = e->a;
    if (callee->kind == ExprKind::Member)
        return check_method_call(e);
    if (callee->kind == ExprKind::Super) {
        // super(...) in a constructor.
        if (!m_fs->is_ctor || !m_fs->cls || !m_fs->cls->super) {
            error_at(e, "super(...) can only be called in a constructor");
            return m_types.error();
        }
        ClassSym* sup = m_fs->cls->super;
        for (FuncSym* c : sup->ctors) {
            if (c->param_count == e->arg_count) {
                e->res = ResCallSuper;
                e->symbol = c->index;
                return check_call_function(e, c);
            }
        }
        if (sup == m_object && e->arg_count == 0) {
            e->res = ResNothing;
            return m_types.void_type();
        }
        error(e->line, e->column, "'%s' has no constructor with %d parameters", sup->name, nullptr, e->arg_count);
        return m_types.error();
    }
    if (callee->kind == ExprKind::Name) {
        const char* name = callee->name;
        Local* l = find_local(name);
        GlobalSym* g = l ? nullptr : find_global(name);
        if ((l && l->type->kind == TypeKind::Func) || (g && g->type->kind == TypeKind::Func)) {
            Type* ft = check(callee);
            e->res = ResCallValue;
            return check_call_value(e, ft);
        }
        if (!l && !g && str_equal(name, "AllowImplicitGlobalVariable") && !function_name_exists(name)) {
            // Konoha's switch: from here on, `n = 1` at the top level declares n.
            if (e->arg_count != 1 || e->args[0]->kind != ExprKind::Bool) {
                error_at(e, "AllowImplicitGlobalVariable takes true or false");
                return m_types.error();
            }
            m_implicit_globals = e->args[0]->int_value != 0;
            e->res = ResNothing;
            return m_types.void_type();
        }
        if (!l && !g && str_equal(name, "Import") && !function_name_exists(name)) {
            error_at(e, "'Import' is not Konoha's import: write import(\"...\")");
            return m_types.error();
        }
        if (!l && !g && str_equal(name, "assert")) {
            if (e->arg_count != 1) {
                error_at(e, "assert takes one boolean argument");
                return m_types.error();
            }
            Type* c = check(e->args[0], m_types.boolean());
            if (c->kind != TypeKind::Boolean)
                type_error(e->args[0], "assert needs a boolean, not '%s'", c);
            e->res = ResAssert;
            return m_types.void_type();
        }
        if (m_fs->cls) {
            if (FuncSym* m = find_method(m_fs->cls, name, e->arg_count)) {
                e->res = ResCallMethodOfThis;
                e->symbol = m->index;
                return check_call_function(e, m);
            }
        }
        FuncSym* f = static_function(static_scope(), name, e->arg_count);
        if (!f)
            f = find_function(name, e->arg_count);
        if (f) {
            e->res = ResCallFunction;
            e->symbol = f->index;
            return check_call_function(e, f);
        }
        if (m_fs->cls) {
            Type* r;
            if (check_accessor(e, m_fs->cls, name, &r)) {
                e->res = e->res == ResAccessorGet ? ResAccessorGetOfThis : ResAccessorSetOfThis;
                return r;
            }
        }
        if (l || g) {
            error_at(e, "'%s' is not a function", name);
            return m_types.error();
        }
        if (function_name_exists(name)) {
            FuncSym* found[3];
            u32 count = 0;
            m_function_index.find(name, [&](u32 i) {
                FuncSym* k = m_functions[i];
                if (!k->owner && str_equal(k->name, name) && count < 3)
                    found[count++] = k;
                return false;
            });
            arity_error(e, "no function '%s' takes %d arguments", name, e->arg_count, found, count);
        } else {
            undefined_error(e, "undefined function '%s'", name, SuggestFunctions);
        }
        return m_types.error();
    }
    Type* ft = check(callee);
    if (ft->kind == TypeKind::Func) {
        e->res = ResCallValue;
        return check_call_value(e, ft);
    }
    if (ft->kind != TypeKind::Error)
        type_error(callee, "'%s' is not a function", ft);
    return m_types.error();
}

// Checks `obj.name(args)` and `Class.name(args)`: System.p, String.valueOf
// and String.format, library natives and static methods by class name,
// super methods, and on a value its methods, function-valued fields,
// accessors, the natives of built-in types and what every value has
// (isNull, toString, getTypeId).
Type* Compiler::check_method_call(Expr* e)
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
                return m_types.error();
            }
            Type* v = check(e->args[0]);
            if (v->kind == TypeKind::Void) {
                error_at(e->args[0], "a void value cannot be printed");
                return m_types.error();
            }
            e->res = ResPrint;
            return m_types.void_type();
        }
        // String.valueOf(x): the text of any value, as `"" + x` makes it.
        if (str_equal(ns, "String") && str_equal(name, "valueOf") && argc == 1) {
            Type* v = check(e->args[0]);
            if (v->kind == TypeKind::Error)
                return v;
            if (v->kind == TypeKind::Void) {
                error_at(e->args[0], "a void value has no text");
                return m_types.error();
            }
            e->res = ResValueOf;
            return m_types.string();
        }
        if (str_equal(ns, "String") && str_equal(name, "format")) {
            e->res = ResFormat;
            return check_format(e);
        }
        const Library* library = find_library(ns);
        const char* owner = library ? library->function_owner : nullptr;
        if (owner) {
            // Natives named __* are the built-in classes' way to the host
            // (Device, Proc, Timer): no script may call them itself.
            if (name[0] == '_' && name[1] == '_' && !m_in_prelude) {
                error_at(e, "'%s.%s' is internal to the built-in classes", ns, name);
                return m_types.error();
            }
            i32 n = find_native(owner, name, argc);
            if (n < 0) {
                error_at(e, "'%s' has no function '%s' with these arguments", ns, name);
                return m_types.error();
            }
            e->res = ResCallNative;
            e->symbol = (u32)n;
            return check_call_native(e, n, nullptr);
        }
        if (ClassSym* c = find_class(ns)) {
            bool other_count = false;
            if (FuncSym* f = static_function(c, name, argc, &other_count)) {
                e->res = ResCallFunction;
                e->symbol = f->index;
                return check_call_function(e, f);
            }
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
            return m_types.error();
        }
    }
    if (recv->kind == ExprKind::Super) {
        if (!m_fs->cls || !m_fs->cls->super) {
            error_at(e, "'super' is only valid inside methods of a subclass");
            return m_types.error();
        }
        FuncSym* m = find_method(m_fs->cls->super, name, argc);
        if (!m) {
            error_at(e, "'%s' has no method '%s'", m_fs->cls->super->name, name);
            return m_types.error();
        }
        e->res = ResCallSuper;
        e->symbol = m->index;
        return check_call_function(e, m);
    }
    Type* t = check(recv);
    if (t->kind == TypeKind::Error)
        return t;
    if (str_equal(name, "isNull") && argc == 0 && is_reference(t)) {
        e->res = ResIsNull;
        return m_types.boolean();
    }
    if (t->kind == TypeKind::Class) {
        if (FuncSym* m = find_method(t->cls, name, argc)) {
            e->res = ResCallMethod;
            e->symbol = m->index;
            return check_call_function(e, m);
        }
        if (FieldSym* f = find_field(t->cls, name)) {
            if (f->type->kind == TypeKind::Func) {
                e->res = ResCallField;
                e->symbol = f->slot;
                return check_call_value(e, f->type);
            }
        }
        Type* r;
        if (check_accessor(e, t->cls, name, &r))
            return r;
        if (str_equal(name, "toString") && argc == 0) {
            e->res = ResToString;
            return m_types.string();
        }
        if (str_equal(name, "getTypeId") && argc == 0) {
            // The dynamic type: an Object may hold a box, a string, a subclass...
            e->res = ResTypeIdOf;
            return m_types.int_type();
        }
        method_error(e, t->cls, name);
        return m_types.error();
    }
    if ((t->kind == TypeKind::Int || t->kind == TypeKind::Boolean) && str_equal(name, "toString") && argc == 0) {
        e->res = ResToString;
        return m_types.string();
    }
    if (name[0] == '_' && name[1] == '_' && !m_in_prelude) {
        error(e->line, e->column, "'%s' is internal to the built-in library", name);
        return m_types.error();
    }
    // splice(start, count, items...): the items travel as an array literal
    // of the element type to Array.__splice.
    if (t->kind == TypeKind::Array && argc >= 3 && str_equal(name, "splice")) {
        check_into(e->args[0], m_types.int_type(), "splice start");
        check_into(e->args[1], m_types.int_type(), "splice count");
        Expr items = *e;
        items.kind = ExprKind::ArrayLit;
        items.args = e->args + 2;
        items.arg_count = argc - 2;
        check_array_literal(&items, t);
        e->res = ResSplice;
        return t;
    }
    if (t->kind == TypeKind::Array && argc == 0 && str_equal(name, "sort") && t->elem->kind != TypeKind::Int
        && t->elem->kind != TypeKind::Boolean && t->elem->kind != TypeKind::String) {
        type_error(e, "sort() orders ints and Strings; sort '%s' with a comparator: sort(Func[int, T, T])", t);
        return m_types.error();
    }
    const char* owner = native_owner(t);
    if (owner) {
        i32 n = find_native(owner, name, argc);
        if (n >= 0) {
            e->res = ResCallNativeOn;
            e->symbol = (u32)n;
            return check_call_native(e, n, t);
        }
    }
    if (t->kind != TypeKind::Void && t->kind != TypeKind::Null && argc == 0) {
        // Every value has toString() and getTypeId() (Konoha's type id; the
        // static type is the dynamic one for these types).
        if (str_equal(name, "toString")) {
            e->res = ResToString;
            return m_types.string();
        }
        if (str_equal(name, "getTypeId")) {
            e->res = ResTypeIdStatic;
            return m_types.int_type();
        }
    }
    no_method_error(e, t, name, argc);
    return m_types.error();
}

// Reports that class [cls] has no method [name] taking the arguments of
// call [e]: the ones of that name it has, or a name it may have meant. Out
// of line: its buffers stay off the stack of the checker's recursion.
KS_NOINLINE void Compiler::method_error(Expr* e, ClassSym* cls, const char* name)
{
    FuncSym* found[3];
    u32 count = 0;
    for (FuncSym* m : cls->vtable)
        if (str_equal(m->name, name) && count < 3)
            found[count++] = m;
    if (count) {
        char what[128];
        usize n = 0;
        for (const char* p = cls->name; *p && n < 60; p++)
            what[n++] = *p;
        what[n++] = '.';
        for (const char* p = name; *p && n < 126; p++)
            what[n++] = *p;
        what[n] = 0;
        arity_error(e, "no method '%s' takes %d arguments", what, e->arg_count, found, count);
    } else {
        member_error(e, "'%s' has no method '%s'", cls->name, name, SuggestMethods, cls);
    }
}

// Konoha's accessors, when class [cls] defines no method [name] (see
// accessor_field()): checks the call [e] and returns true with its type in
// [*out] and ResAccessorGet or ResAccessorSet (the field's slot in
// [symbol]) on [e], or returns false when [name] is no accessor.
bool Compiler::check_accessor(Expr* e, ClassSym* cls, const char* name, Type** out)
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
    e->symbol = f->slot;
    if (argc == 0) {
        e->res = ResAccessorGet;
        *out = f->type;
        return true;
    }
    check_assigned(e->args[0], f->type);
    e->res = ResAccessorSet;
    *out = m_types.void_type();
    return true;
}

// Checks `new C(args)` (the constructor with that many parameters), `new
// Map[K, V]()`, `new T[](capacity)` and `new Bytes(n)`.
Type* Compiler::check_new(Expr* e)
{
    Type* t = resolve_type(e->type);
    if (t->kind == TypeKind::Error)
        return t;
    if (t->kind == TypeKind::Map) {
        if (e->arg_count)
            error_at(e, "a new Map takes no arguments");
        return t;
    }
    if (t->kind == TypeKind::Array) {
        // new T[](capacity) (Konoha): empty; the capacity is only a hint.
        if (e->arg_count > 1)
            error_at(e, "use new T[n] for an array of n elements");
        if (e->arg_count == 1) {
            Type* capacity = check(e->args[0], m_types.int_type());
            if (capacity->kind != TypeKind::Int && capacity->kind != TypeKind::Error)
                type_error(e->args[0], "the capacity of new T[](n) must be an int, not '%s'", capacity);
        }
        return t;
    }
    if (t->kind == TypeKind::Bytes) {
        i32 n = find_native("Bytes.", "new", e->arg_count);
        if (n < 0) {
            error_at(e, "new Bytes(n) takes the size");
            return m_types.error();
        }
        e->res = ResCallNative;
        e->symbol = (u32)n;
        return check_call_native(e, n, nullptr);
    }
    if (t->kind != TypeKind::Class) {
        type_error(e, "cannot create '%s' with new", t);
        return m_types.error();
    }
    FuncSym* ctor = nullptr;
    for (FuncSym* k : t->cls->ctors)
        if (k->param_count == e->arg_count)
            ctor = k;
    if (!ctor) {
        error(e->line, e->column, "'%s' has no constructor with %d parameters", t->cls->name, nullptr, e->arg_count);
        return m_types.error();
    }
    e->res = ResCallFunction;
    e->symbol = ctor->index;
    check_call_function(e, ctor);
    return t;
}

// Checks `new T[n]`.
Type* Compiler::check_new_array(Expr* e)
{
    Type* elem = resolve_type(e->type);
    if (elem->kind == TypeKind::Error)
        return elem;
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return m_types.error();
    }
    Type* size = check(e->a, m_types.int_type());
    if (size->kind != TypeKind::Int)
        type_error(e->a, "array size must be int, not '%s'", size);
    return t;
}

// Checks `[a, b, ...]`: the element type is [expected]'s, or the first
// element's, widened (to a common superclass, or Object) by elements of
// other types.
Type* Compiler::check_array_literal(Expr* e, Type* expected)
{
    Type* elem = expected && expected->kind == TypeKind::Array ? expected->elem : nullptr;
    bool inferred = !elem;
    u32 n = e->arg_count;
    if (n > kMaxParams * 200) {
        error_at(e, "array literal is too long");
        return m_types.error();
    }
    for (u32 i = 0; i < n; i++) {
        Expr* a = e->args[i];
        if (!elem) {
            Type* first = check(a);
            if (first->kind == TypeKind::Null || first->kind == TypeKind::Void) {
                error_at(a, "cannot infer the element type of this array literal");
                return m_types.error();
            }
            elem = first;
            continue;
        }
        if (!inferred) {
            check_into(a, elem, "array element");
            continue;
        }
        Type* v = check(a);
        if (v->kind == TypeKind::Void || v->kind == TypeKind::Error) {
            if (v->kind == TypeKind::Void)
                error_at(a, "a void value cannot be used");
            return m_types.error();
        }
        if (!assignable(elem, v) && v->kind != TypeKind::Null) {
            Type* common = m_object->type;
            if (elem->kind == TypeKind::Class && v->kind == TypeKind::Class)
                if (ClassSym* c = common_superclass(elem->cls, v->cls))
                    common = c->type;
            elem = common;
        }
    }
    if (!elem) {
        error_at(e, "cannot infer the type of an empty array literal here");
        return m_types.error();
    }
    Type* t = m_types.array_of(elem);
    if (!t) {
        oom();
        return m_types.error();
    }
    return t;
}

// Checks String.format(format, args...): a String format, and values that
// are not void.
Type* Compiler::check_format(Expr* e)
{
    u32 argc = e->arg_count;
    if (argc < 1) {
        error_at(e, "String.format takes a format string and the values it formats");
        return m_types.error();
    }
    check_into(e->args[0], m_types.string(), "format");
    bool ok = true;
    for (u32 i = 1; i < argc; i++) {
        Expr* arg = e->args[i];
        Type* v = check(arg);
        if (v->kind == TypeKind::Error) {
            ok = false;
        } else if (v->kind == TypeKind::Void) {
            error_at(arg, "a void value cannot be formatted");
            ok = false;
        }
    }
    Type* int_array = m_types.array_of(m_types.int_type());
    Type* string_array = m_types.array_of(m_types.string());
    if (!int_array || !string_array)
        oom();
    if (!ok || m_failed || !int_array || !string_array)
        return m_types.error();
    return m_types.string();
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

}   // namespace ks::compiler
