// Declarations and symbols: classes (superclasses, fields, methods, vtables,
// the numbered class tree), top-level functions and their signatures, type
// references, and the runtime classes and null values the program needs.
#include "CompilerInternal.h"

namespace ks::compiler {

// The class named [name] (built-in or the script's), or null.
ClassSym* Compiler::find_class(const char* name)
{
    i64 id = m_class_index.find(name, [&](u32 i) { return str_equal(m_classes[i]->name, name); });
    return id >= 0 ? m_classes[(u32)id] : nullptr;
}

// The type a type reference names (int, boolean, String, arrays, maps,
// Func[...] and classes); reports unknown names and `void` where not
// [allow_void], and returns the error type then.
Type* Compiler::resolve_type(TypeRef* ref, bool allow_void)
{
    if (!ref)
        return m_types.error();
    Type* t = nullptr;
    const char* n = ref->name;
    if (ref->arg_count) {
        u32 count = ref->arg_count > kMaxParams ? kMaxParams : ref->arg_count;
        // On the arena, not the stack: this function recurses over nested types.
        Type** args = arena_array<Type*>(count);
        if (!args)
            return m_types.error();
        for (u32 i = 0; i < count; i++) {
            args[i] = resolve_type(ref->args[i], str_equal(n, "Func") && i == 0);
            if (args[i]->kind == TypeKind::Error)
                return args[i];
        }
        if (str_equal(n, "Array")) {
            if (count != 1) {
                error(ref->line, ref->column, "Array takes one type argument");
                return m_types.error();
            }
            t = m_types.array_of(args[0]);
        } else if (str_equal(n, "Map")) {
            if (count != 2) {
                error(ref->line, ref->column, "Map takes two type arguments: Map[K, V]");
                return m_types.error();
            }
            if (args[0]->kind != TypeKind::Int && args[0]->kind != TypeKind::String) {
                error(ref->line, ref->column, "Map keys must be int or String");
                return m_types.error();
            }
            t = m_types.map_of(args[0], args[1]);
        } else if (str_equal(n, "Func")) {
            t = m_types.func_of(args[0], args + 1, count - 1);
        } else {
            error(ref->line, ref->column, "'%s' takes no type arguments", n);
            return m_types.error();
        }
    } else if (str_equal(n, "int")) {
        t = m_types.int_type();
    } else if (str_equal(n, "boolean")) {
        t = m_types.boolean();
    } else if (str_equal(n, "void")) {
        t = m_types.void_type();
        if (!allow_void || ref->dims) {
            error(ref->line, ref->column, "'void' is not a type for values");
            return m_types.error();
        }
    } else if (str_equal(n, "String")) {
        t = m_types.string();
    } else if (str_equal(n, "Bytes")) {
        t = m_types.bytes();
    } else if (str_equal(n, "Array") || str_equal(n, "Map") || str_equal(n, "Func")) {
        error(ref->line, ref->column, "'%s' needs type arguments", n);
        return m_types.error();
    } else {
        ClassSym* c = find_class(n);
        if (!c) {
            error(ref->line, ref->column, "unknown type '%s'", n);
            return m_types.error();
        }
        t = c->type;
    }
    for (u32 i = 0; t && i < ref->dims; i++)
        t = m_types.array_of(t);
    if (!t) {
        oom();
        return m_types.error();
    }
    return t;
}

// Makes a ClassSym for every class of [program], refusing names that are
// taken (built-in types or another class); superclasses are resolved later.
void Compiler::declare_classes(SyntaxTree& program, bool prelude)
{
    // Definitions first; then forward declarations (`class C;`) of classes
    // that no definition declared, as empty classes.
    for (u32 pass = 0; pass < 2; pass++) {
        for (u32 i = 0; i < program.count; i++) {
            ClassDecl* d = program.item(i).klass;
            if (program.item(i).kind != ItemKind::Class || !d || d->forward != (pass == 1))
                continue;
            if (d->forward && find_class(d->name))
                continue;
            if (find_class(d->name) || find_library(d->name) || str_equal(d->name, "int") || str_equal(d->name, "Func")) {
                error(d->line, d->column, "class '%s' is already defined", d->name);
                continue;
            }
            ClassSym* c = m_arena->make<ClassSym>();
            if (!c) {
                oom();
                return;
            }
            if (prelude && str_equal(d->name, "BoxInt"))
                d->name = "int";
            else if (prelude && str_equal(d->name, "BoxBoolean"))
                d->name = "boolean";
            c->name = d->name;
            c->decl = d;
            c->builtin = prelude;
            c->line = d->line;
            c->column = d->column;
            c->fields.set_memory(m_memory);
            c->methods.set_memory(m_memory);
            c->ctors.set_memory(m_memory);
            c->vtable.set_memory(m_memory);
            c->type = m_types.class_type(c);
            c->id = m_classes.size();
            if (!c->type || !m_classes.try_append(c) || !m_class_index.add(c->name, c->id)) {
                oom();
                return;
            }
            if (!tick())
                return;
        }
    }
}

// Is [sub] [super] or a subclass of it? Once the class tree is numbered
// (number_classes()) a comparison of preorder numbers; before, a walk up the
// chain (only build_vtables() and later ask, after the numbering).
bool Compiler::is_subclass(ClassSym* sub, ClassSym* super)
{
    if (!sub || !super)
        return false;
    if (m_numbered)
        return super->pre <= sub->pre && sub->pre <= super->last;
    for (u32 guard = 0; sub && guard <= m_classes.size(); sub = sub->super, guard++)
        if (sub == super)
            return true;
    return false;
}

// Lays out the fields of [cls], superclass first. Iterative: the chain of
// unresolved ancestors is collected, then resolved from the top. A class is
// marked with the number of the call while on the chain, so that a cycle is
// seen without searching the chain (which made a long chain quadratic).
void Compiler::resolve_class(ClassSym* target)
{
    Vector<ClassSym*> chain(m_memory);
    u32 round = ++m_resolve_round;
    for (ClassSym* c = target; c && !c->resolved;) {
        if (c->mark == round) {
            error(c->line, c->column, "class '%s' inherits from itself", c->name);
            for (ClassSym* s : chain) {
                s->super = m_object;
            }
            c->super = c == m_object ? nullptr : m_object;
            break;
        }
        c->mark = round;
        if (!chain.try_append(c)) {
            oom();
            return;
        }
        c = c->super;
    }
    for (u32 i = chain.size(); i-- > 0;) {
        ClassSym* c = chain[i];
        if (c->resolved)
            continue;
        c->resolved = true;
        ClassDecl* d = c->decl;
        if (c->super) {
            if (!c->super->resolved)
                resolve_class(c->super);   // Only after a cycle was broken; depth 1.
            ClassSym* super = c->super;
            u32 own = d ? d->field_count : 0;
            if (m_failed)
                return;
            if (!c->fields.try_reserve(super->fields.size() + own)) {
                oom();
                return;
            }
            for (FieldSym& f : super->fields)
                if (!c->fields.try_append(f))
                    oom();
            // The superclass's index of names holds the same slots.
            if (super->field_index) {
                c->field_index = new_index();
                if (c->field_index && !c->field_index->copy_from(*super->field_index, own))
                    oom();
            }
            if (m_failed || !tick(super->fields.size() / 16 + 1))
                return;
        }
        for (u32 j = 0; d && j < d->field_count; j++) {
            FieldDecl* fd = &d->fields[j];
            if (find_field(c, fd->name)) {
                error(fd->line, fd->column, "field '%s' is already defined in '%s'", fd->name, c->name);
                continue;
            }
            FieldSym f { fd->name, resolve_type(fd->type), c->fields.size(), fd, c };
            if (f.type->kind == TypeKind::Void)
                f.type = m_types.error();
            add_field(c, f);
            if (!tick())
                return;
        }
    }
}

// Appends [field] to the fields of [cls] (its slot is the next one), and to
// the class's index of field names once it has kIndexFrom fields.
void Compiler::add_field(ClassSym* cls, const FieldSym& field)
{
    if (!cls->fields.try_append(field)) {
        oom();
        return;
    }
    u32 n = cls->fields.size();
    if (n < kIndexFrom)
        return;
    if (!cls->field_index) {
        cls->field_index = new_index();
        for (u32 i = 0; cls->field_index && i + 1 < n; i++)
            if (!cls->field_index->add(cls->fields[i].name, i))
                oom();
    }
    if (cls->field_index && !cls->field_index->add(field.name, n - 1))
        oom();
}

// The field [name] of [cls] (its own or inherited: a class's fields include
// its superclasses'), or null.
FieldSym* Compiler::find_field(ClassSym* cls, const char* name)
{
    if (cls->field_index) {
        i64 slot = cls->field_index->find(name, [&](u32 i) { return str_equal(cls->fields[i].name, name); });
        return slot >= 0 ? &cls->fields[(u32)slot] : nullptr;
    }
    for (FieldSym& f : cls->fields)
        if (str_equal(f.name, name))
            return &f;
    return nullptr;
}

// A new function symbol for [decl] (method of [owner] when set), added to
// the list of all functions; null when memory ran out.
FuncSym* Compiler::new_func_sym(FuncDecl* decl, const char* name, ClassSym* owner, bool prelude)
{
    FuncSym* f = m_arena->make<FuncSym>();
    if (!f) {
        oom();
        return nullptr;
    }
    f->name = name;
    f->decl = decl && decl->body ? decl : nullptr;
    f->first_decl = decl;
    f->owner = owner;
    f->static_class = nullptr;
    f->prelude = prelude;
    f->slot = -1;
    f->index = m_functions.size();
    if (!m_functions.try_append(f) || (!owner && !m_function_index.add(name, f->index))) {
        oom();
        return nullptr;
    }
    return f;
}

// Resolves the return and parameter types of [f] from its first
// declaration; false when memory ran out.
bool Compiler::resolve_signature(FuncSym* f)
{
    FuncDecl* d = f->first_decl;
    f->result = d && d->return_type ? resolve_type(d->return_type, true) : m_types.void_type();
    u32 n = d ? d->param_count : 0;
    if (n > kMaxParams) {
        error(d->line, d->column, "too many parameters (limit %d)", nullptr, nullptr, kMaxParams);
        n = kMaxParams;
    }
    f->param_count = n;
    f->params = arena_array<Type*>(n);
    if (n && !f->params) {
        f->param_count = 0;   // Nothing reads a null array as n types.
        return false;         // arena_array() reported it.
    }
    // Duplicate names: a scan for a few parameters, an index for many (up
    // to kMaxParams each, in every function).
    NameIndex* names = n >= kIndexFrom ? new_index() : nullptr;
    for (u32 i = 0; i < n; i++) {
        f->params[i] = resolve_type(d->params[i].type);
        const char* name = d->params[i].name;
        bool twice = false;
        if (names) {
            twice = names->find(name, [&](u32 j) { return str_equal(d->params[j].name, name); }) >= 0;
            if (!twice && !names->add(name, i))
                oom();
        } else {
            for (u32 j = 0; j < i && !twice; j++)
                twice = str_equal(d->params[j].name, name);
        }
        if (twice)
            error(d->params[i].line, d->params[i].column, "parameter '%s' is declared twice", name);
    }
    free_index(names);
    f->func_type = m_types.func_of(f->result, f->params, n);
    if (!f->func_type) {
        oom();
        return false;
    }
    return true;
}

// Do two signatures have the same parameter types?
static bool same_params(FuncSym* a, FuncSym* b)
{
    if (a->param_count != b->param_count)
        return false;
    for (u32 i = 0; i < a->param_count; i++)
        if (a->params[i] != b->params[i])
            return false;
    return true;
}

// The method [name] taking [argc] arguments that an instance of [cls] runs:
// its own or the nearest superclass's. Once the class's vtable is built,
// that is the vtable entry of that name (through the vtable's index when it
// is long), so a deep chain of classes is not walked at every call.
FuncSym* Compiler::find_method(ClassSym* cls, const char* name, u32 argc)
{
    if (cls && cls->vtable_built) {
        auto match = [&](u32 slot) {
            FuncSym* m = cls->vtable[slot];
            return m->param_count == argc && str_equal(m->name, name);
        };
        if (cls->vtable_index) {
            i64 slot = cls->vtable_index->find(name, match);
            return slot >= 0 ? cls->vtable[(u32)slot] : nullptr;
        }
        for (u32 slot = 0; slot < cls->vtable.size(); slot++)
            if (match(slot))
                return cls->vtable[slot];
        return nullptr;
    }
    for (u32 guard = 0; cls && guard <= m_classes.size(); cls = cls->super, guard++)
        if (FuncSym* m = find_own_method(cls, name, argc))
            return m;
    return nullptr;
}

// The method [name] taking [argc] arguments declared by [cls] itself, or null.
FuncSym* Compiler::find_own_method(ClassSym* cls, const char* name, u32 argc)
{
    auto match = [&](u32 i) {
        FuncSym* m = cls->methods[i];
        return m->first_decl->param_count == argc && str_equal(m->name, name);
    };
    if (cls->method_index) {
        i64 i = cls->method_index->find(name, match);
        return i >= 0 ? cls->methods[(u32)i] : nullptr;
    }
    for (u32 i = 0; i < cls->methods.size(); i++)
        if (match(i))
            return cls->methods[i];
    return nullptr;
}

// Adds [decl] to class [cls]: a constructor (one per parameter count) or a
// method (overloaded by parameter count); a prototype and its definition
// share one symbol, and a second definition is an error.
void Compiler::declare_method(ClassSym* cls, FuncDecl* decl, bool prelude)
{
    if (decl->is_constructor) {
        FuncSym* f = nullptr;
        for (FuncSym* existing : cls->ctors)
            if (existing->first_decl->param_count == decl->param_count)
                f = existing;
        if (f) {
            if (f->decl && decl->body) {
                error(decl->line, decl->column, "constructor of '%s' with %d parameters is already defined", cls->name,
                    nullptr, decl->param_count);
                return;
            }
            if (decl->body)
                f->decl = decl;
            return;
        }
        f = new_func_sym(decl, cls->name, cls, prelude);
        if (!f)
            return;
        f->is_ctor = true;
        if (!cls->ctors.try_append(f))
            oom();
        return;
    }
    if (FuncSym* existing = find_own_method(cls, decl->name, decl->param_count)) {
        if (existing->prelude && !prelude && decl->body) {
            // A script's handler replaces the built-in default body; the
            // signature must stay the one the host calls.
            FuncSym probe = *existing;
            probe.first_decl = decl;
            probe.params = nullptr;
            resolve_signature(&probe);
            resolve_signature(existing);
            if (!same_params(&probe, existing) || probe.result != existing->result)
                error(decl->line, decl->column, "'%s.%s' must keep the signature of the built-in handler",
                    cls->name, decl->name);
            existing->decl = decl;
            existing->first_decl = decl;
            existing->prelude = false;
            return;
        }
        if (existing->decl && decl->body) {
            error(decl->line, decl->column, "method '%s.%s' is already defined", cls->name, decl->name);
            return;
        }
        if (decl->body)
            existing->decl = decl;
        existing->first_decl->annotations |= decl->annotations;
        return;
    }
    FuncSym* f = new_func_sym(decl, decl->name, cls, prelude);
    if (!f)
        return;
    if (!cls->methods.try_append(f)) {
        oom();
        return;
    }
    // Past kIndexFrom methods, an index of their names for the check above.
    u32 n = cls->methods.size();
    if (n < kIndexFrom)
        return;
    if (!cls->method_index) {
        cls->method_index = new_index();
        for (u32 i = 0; cls->method_index && i + 1 < n; i++)
            if (!cls->method_index->add(cls->methods[i]->name, i))
                oom();
    }
    if (cls->method_index && !cls->method_index->add(f->name, n - 1))
        oom();
}

// "cls.name" in a buffer reused by the next call (null when memory ran out).
const char* Compiler::qualified(const char* cls, const char* name)
{
    m_qualified.clear();
    m_qualified.append(cls);
    m_qualified.append_char('.');
    m_qualified.append(name);
    if (m_qualified.has_failed()) {
        oom();
        return nullptr;
    }
    return m_qualified.data();
}

// A static method of [cls] (`static R name(...)`, or Konoha's @Static, in
// the body or as `@Static R Class.name(...)` outside): a function without a
// receiver named "Class.name", found by Class.name(...) and, inside the
// class and its subclasses, by its bare name. A prototype and its
// definition share one symbol, as for functions.
void Compiler::declare_static(ClassSym* cls, FuncDecl* d, bool prelude)
{
    if (d->is_constructor) {
        error(d->line, d->column, "a constructor cannot be static");
        return;
    }
    const char* q = qualified(cls->name, d->name);
    const char* name = q ? m_arena->copy_string(q, str_length(q)) : nullptr;
    if (!name) {
        oom();
        return;
    }
    i64 found = m_function_index.find(name, [&](u32 k) {
        FuncSym* f = m_functions[k];
        return f->first_decl && f->first_decl->param_count == d->param_count && str_equal(f->name, name);
    });
    FuncSym* existing = found >= 0 ? m_functions[(u32)found] : nullptr;
    if (existing) {
        if (existing->decl && d->body) {
            error(d->line, d->column, "static method '%s' with %d parameters is already defined", name, nullptr,
                d->param_count);
            return;
        }
        if (d->body)
            existing->decl = d;
        return;
    }
    FuncSym* f = new_func_sym(d, name, nullptr, prelude);
    if (f) {
        f->static_class = cls;
        m_static_count++;
    }
}

// The globals of the class constants of every script class, named
// "Class.NAME" (their initializers run at the start of <main>, see
// init_class_constants()). A `static` field that is not const is refused:
// shared state is a top-level variable.
void Compiler::declare_class_constants()
{
    for (ClassSym* c : m_classes) {
        ClassDecl* d = c->decl;
        if (!d || c->builtin || !tick(d->constant_count / 16 + 1))
            continue;
        for (u32 i = 0; i < d->constant_count && !m_failed; i++) {
            FieldDecl* fd = &d->constants[i];
            if (!fd->is_const) {
                error(fd->line, fd->column, "a static field must be const (a class constant: static const int N = 1); "
                                            "shared state is a top-level variable");
                continue;
            }
            if (find_field(c, fd->name))
                error(fd->line, fd->column, "'%s' is already a field of '%s'", fd->name, c->name);
            const char* q = qualified(c->name, fd->name);
            const char* name = q ? m_arena->copy_string(q, str_length(q)) : nullptr;
            if (!name) {
                oom();
                return;
            }
            if (find_global(name)) {
                error(fd->line, fd->column, "constant '%s' is already declared", name);
                continue;
            }
            GlobalSym g { name, resolve_type(fd->type), m_globals.size(), true, true };
            if (!m_globals.try_append(g) || !m_global_index.add(g.name, g.index)
                || !m_class_constants.try_append(ClassConstant { c, fd, g.index })) {
                oom();
                return;
            }
            m_static_count++;
        }
    }
}

// The class whose static methods and constants bare names reach here: the
// class of the method or static method being compiled, or of the constant
// whose initializer is.
ClassSym* Compiler::static_scope()
{
    if (m_const_class)
        return m_const_class;
    if (!m_fs)
        return nullptr;
    if (m_fs->cls)
        return m_fs->cls;
    return m_fs->sym ? m_fs->sym->static_class : nullptr;
}

// The static method [name] taking [argc] arguments of [cls] or, as in Java,
// of a superclass (the nearest). [other_count] (if given) tells whether one
// of that name takes another number of arguments. The walk up the chain is
// charged to the compile meter.
FuncSym* Compiler::static_function(ClassSym* cls, const char* name, u32 argc, bool* other_count)
{
    if (other_count)
        *other_count = false;
    for (ClassSym* k = cls; k && m_static_count && tick(); k = k->super) {
        const char* q = qualified(k->name, name);
        if (!q)
            return nullptr;
        if (FuncSym* f = find_function(q, argc))
            return f;
        if (other_count && function_name_exists(q))
            *other_count = true;
    }
    return nullptr;
}

// The class constant [name] of [cls] or of a superclass (the nearest).
GlobalSym* Compiler::class_constant(ClassSym* cls, const char* name)
{
    for (ClassSym* k = cls; k && m_static_count && tick(); k = k->super) {
        const char* q = qualified(k->name, name);
        if (!q)
            return nullptr;
        if (GlobalSym* g = find_global(q))
            return g;
    }
    return nullptr;
}

// The class that [e] names when it is the receiver of `Class.NAME` or
// `Class.f(...)`: a bare name that no local, global or field of the
// current class takes. Null otherwise.
ClassSym* Compiler::class_receiver(Expr* e)
{
    if (e->kind != ExprKind::Name || find_local(e->name) || find_global(e->name)
        || (m_fs->cls && find_field(m_fs->cls, e->name)))
        return nullptr;
    return find_class(e->name);
}

// The top-level function [name] taking [argc] arguments, or null.
FuncSym* Compiler::find_function(const char* name, u32 argc)
{
    i64 id = m_function_index.find(name, [&](u32 i) {
        return m_functions[i]->param_count == argc && str_equal(m_functions[i]->name, name);
    });
    return id >= 0 ? m_functions[(u32)id] : nullptr;
}

// Whether any top-level function is named [name] (with any parameter count).
bool Compiler::function_name_exists(const char* name)
{
    return m_function_index.find(name, [&](u32 i) { return str_equal(m_functions[i]->name, name); }) >= 0;
}

// A built-in class is compiled only if the script can reach it: the script
// names it, or a reachable built-in class names it or extends it. The others
// keep their id, fields and null value (the VM raises built-in exceptions by
// id), but none of their methods is compiled: nothing could call them, and an
// empty script stays small.
void Compiler::mark_unused_builtins()
{
    for (u32 i = 0; i < m_prelude.count; i++) {
        ClassDecl* d = m_prelude.item(i).klass;
        ClassSym* c = d ? find_class(d->name) : nullptr;
        // all_names holds the capitalized identifiers only: the built-in
        // classes are capitalized but for the box classes `int` and
        // `boolean`, keywords that no identifier spells.
        if (c && c != m_object)
            c->unused = !m_program.all_names.may_contain(d->name, str_length(d->name));
    }
    // Only built-in classes can be unused, and they come first in m_classes.
    u32 builtins = 0;
    while (builtins < m_classes.size() && m_classes[builtins]->builtin)
        builtins++;
    for (bool changed = true; changed;) {
        changed = false;
        for (u32 i = 0; i < m_prelude.count; i++) {
            ClassDecl* d = m_prelude.item(i).klass;
            ClassSym* c = d ? find_class(d->name) : nullptr;
            if (!c || c->unused)
                continue;
            for (u32 k = 0; k < builtins; k++) {
                ClassSym* other = m_classes[k];
                bool reached = other == c->super
                    || m_prelude.item(i).names.may_contain(other->name, str_length(other->name));
                if (other->unused && reached) {
                    other->unused = false;
                    changed = true;
                }
            }
        }
    }
}

// Declares the methods of every class of [program] (in bodies, then
// `R Class.name(...)` definitions outside) and the top-level functions.
void Compiler::declare_functions(SyntaxTree& program, bool prelude)
{
    // Methods inside class bodies first, then outside definitions.
    for (u32 i = 0; i < program.count && !m_failed && tick(); i++) {
        ClassDecl* d = program.item(i).klass;
        if (program.item(i).kind != ItemKind::Class || !d)
            continue;
        ClassSym* c = find_class(d->name);
        if (!c || c->decl != d || c->unused)
            continue;
        for (u32 j = 0; j < d->method_count && !m_failed && tick(); j++) {
            FuncDecl* m = d->methods[j];
            if (m->is_static || (m->annotations & AnnotationStatic))
                declare_static(c, m, prelude);
            else
                declare_method(c, m, prelude);
        }
    }
    for (u32 i = 0; i < program.count && !m_failed && tick(); i++) {
        FuncDecl* d = program.item(i).func;
        if (program.item(i).kind != ItemKind::Func || !d)
            continue;
        if (d->owner) {
            ClassSym* c = find_class(d->owner);
            if (!c && (find_library(d->owner) || str_equal(d->owner, "int") || str_equal(d->owner, "boolean"))) {
                error(d->line, d->column, "methods cannot be added to built-in type '%s'", d->owner);
                continue;
            }
            if (!c) {
                error(d->line, d->column, "unknown class '%s'", d->owner);
                continue;
            }
            // Device is the one built-in class meant to be extended this way
            // (seed 001: `void Device.open() { ... }`).
            if (c->builtin && !prelude && !str_equal(c->name, "Device")) {
                error(d->line, d->column, "methods cannot be added to built-in class '%s'", d->owner);
                continue;
            }
            if (d->is_static || (d->annotations & AnnotationStatic))
                declare_static(c, d, prelude);
            else
                declare_method(c, d, prelude);
            continue;
        }
        if (d->annotations & AnnotationStatic)
            error(d->line, d->column, "@Static is for methods of a class; a top-level function needs nothing");
        i64 found = m_function_index.find(d->name, [&](u32 k) {
            FuncSym* f = m_functions[k];
            return f->first_decl && f->first_decl->param_count == d->param_count && str_equal(f->name, d->name);
        });
        FuncSym* existing = found >= 0 ? m_functions[(u32)found] : nullptr;
        if (existing) {
            if (existing->decl && d->body) {
                error(d->line, d->column, "function '%s' with %d parameters is already defined", d->name, nullptr,
                    d->param_count);
                continue;
            }
            if (d->body)
                existing->decl = d;
            continue;
        }
        if (find_class(d->name))
            error(d->line, d->column, "'%s' is a class name", d->name);
        new_func_sym(d, d->name, nullptr, prelude);
    }
}

// Numbers the class tree once every superclass is final (cycles broken):
// preorder numbers and subtree ends for is_subclass(), depths and jump
// pointers for the common superclass of conditional expressions, and
// m_class_order, the order of build_vtables(). Iterative: a chain of classes
// may be as long as the script allows.
void Compiler::number_classes()
{
    for (u32 i = m_classes.size(); i-- > 0;) {
        ClassSym* c = m_classes[i];
        if (c->super) {
            c->next_sibling = c->super->first_child;
            c->super->first_child = c;
        }
    }
    Vector<ClassSym*> stack(m_memory);
    Vector<ClassSym*> preorder(m_memory);
    if (!preorder.try_reserve(m_classes.size())) {
        oom();
        return;
    }
    for (ClassSym* root : m_classes) {
        if (root->super)
            continue;
        root->depth = 0;
        root->jump = root;
        if (!stack.try_append(root)) {
            oom();
            return;
        }
        while (stack.size()) {
            ClassSym* c = stack.last();
            stack.pop();
            c->pre = c->last = preorder.size();
            if (!preorder.try_append(c)) {
                oom();
                return;
            }
            for (ClassSym* child = c->first_child; child; child = child->next_sibling) {
                // Skew-binary jump pointers (Myers 1983): jumps of lengths
                // 1, 1, 3, 1, 1, 3, 7, ... reach any ancestor in O(log depth).
                child->depth = c->depth + 1;
                ClassSym* j = c->jump;
                child->jump = c->depth - j->depth == j->depth - j->jump->depth ? j->jump : c;
                if (!stack.try_append(child)) {
                    oom();
                    return;
                }
            }
        }
    }
    if (preorder.size() != m_classes.size())
        return;   // Out of memory (a cycle left would be an engine bug): keep the walks.
    // Subtree ends: every class after its subclasses, in reverse preorder.
    for (u32 i = preorder.size(); i-- > 0;) {
        ClassSym* c = preorder[i];
        if (c->super && c->last > c->super->last)
            c->super->last = c->last;
    }
    m_numbered = true;
    // The vtable order: the classes in rounds, as a repeated pass over the
    // list would take them (a class once its superclass is done), which
    // keeps the diagnostics in the order they always had. A class comes in
    // its superclass's round when it follows it in the list, else in the
    // next; preorder has every superclass before its subclasses.
    Vector<u32> rounds(m_memory);
    Vector<u32> starts(m_memory);
    if (!rounds.try_resize(m_classes.size()) || !m_class_order.try_resize(m_classes.size())) {
        oom();
        return;
    }
    u32 last_round = 0;
    for (ClassSym* c : preorder) {
        u32 r = !c->super ? 0 : rounds[c->super->id] + (c->super->id < c->id ? 0 : 1);
        rounds[c->id] = r;
        last_round = max(last_round, r);
    }
    if (!starts.try_resize(last_round + 2)) {
        oom();
        return;
    }
    for (u32 i = 0; i < m_classes.size(); i++)
        starts[rounds[i] + 1]++;
    for (u32 r = 1; r < starts.size(); r++)
        starts[r] += starts[r - 1];
    for (u32 i = 0; i < m_classes.size(); i++)
        m_class_order[starts[rounds[i]]++] = m_classes[i];
    tick(m_classes.size() / 16 + 1);
}

// The vtable of [c], whose superclass's vtable is built: the superclass's
// slots, overridden by its own methods, then its new methods.
void Compiler::build_vtable(ClassSym* c)
{
    if (c->super) {
        if (!c->vtable.try_reserve(c->super->vtable.size() + c->methods.size())) {
            oom();
            return;
        }
        for (FuncSym* m : c->super->vtable)
            if (!c->vtable.try_append(m))
                oom();
        // An override keeps its slot and name: the superclass's index of
        // vtable names holds, and only new slots are added to it below.
        if (c->super->vtable_index) {
            c->vtable_index = new_index();
            if (c->vtable_index && !c->vtable_index->copy_from(*c->super->vtable_index, c->methods.size()))
                oom();
        }
    }
    for (FuncSym* m : c->methods) {
        FuncSym* overridden = c->super ? find_method(c->super, m->name, m->param_count) : nullptr;
        FuncDecl* d = m->first_decl;
        if (overridden) {
            if (!same_params(m, overridden) || !assignable(overridden->result, m->result)
                || (m->result->kind == TypeKind::Void) != (overridden->result->kind == TypeKind::Void)) {
                error(d->line, d->column, "'%s.%s' does not match the signature of the method it overrides",
                    c->name, m->name);
            }
            m->slot = overridden->slot;
            c->vtable[(u32)m->slot] = m;
        } else {
            if (d->annotations & AnnotationOverride)
                error(d->line, d->column, "'%s.%s' is marked @Override but overrides nothing", c->name,
                    m->name);
            m->slot = (i32)c->vtable.size();
            if (!c->vtable.try_append(m))
                oom();
            if (c->vtable_index && !c->vtable_index->add(m->name, (u32)m->slot))
                oom();
        }
    }
    if (!c->vtable_index && c->vtable.size() >= kIndexFrom) {
        c->vtable_index = new_index();
        for (u32 slot = 0; c->vtable_index && slot < c->vtable.size(); slot++)
            if (!c->vtable_index->add(c->vtable[slot]->name, slot))
                oom();
    }
    c->vtable_built = !m_failed;
    tick(c->vtable.size() / 16 + 1);
}

// Resolves every signature, then builds every class's vtable, superclasses first.
void Compiler::build_vtables()
{
    // Signatures first (they may name any class), then slots, superclass first.
    for (u32 i = 0; i < m_functions.size() && !m_failed && tick(); i++)
        resolve_signature(m_functions[i]);
    // Without the order, memory ran short and the compile fails anyway.
    if (m_class_order.size() != m_classes.size())
        return;
    for (u32 i = 0; i < m_class_order.size() && !m_failed; i++)
        build_vtable(m_class_order[i]);
}

// The nearest class that both [a] and [b] are (the common superclass of the
// arms of `c ? a : b`): both brought to the same depth, then up together, by
// jump pointers where they do not meet yet (the depth of a class's jump
// depends only on its own depth, so equal depths jump alike).
ClassSym* Compiler::common_superclass(ClassSym* a, ClassSym* b)
{
    if (!m_numbered) {
        while (a && !is_subclass(b, a))
            a = a->super;
        return a;
    }
    if (a->depth < b->depth) {
        ClassSym* t = a;
        a = b;
        b = t;
    }
    while (a->depth > b->depth)
        a = a->jump->depth >= b->depth ? a->jump : a->super;
    while (a != b) {
        if (a->jump != b->jump) {
            a = a->jump;
            b = b->jump;
        } else {
            a = a->super;
            b = b->super;
        }
    }
    return a;
}

// Whether a value of type [from] may be stored where [to] is expected
// (same type, null into a reference, subclass into superclass, any class
// into Object, ...). The error type is assignable both ways.
bool Compiler::assignable(Type* to, Type* from)
{
    if (to == from || to->kind == TypeKind::Error || from->kind == TypeKind::Error)
        return true;
    if (from->kind == TypeKind::Null)
        return is_reference(to);
    // Every value is an Object (Konoha): strings, arrays, maps, Bytes and
    // functions as they are; ints and booleans boxed (see boxes()).
    if (to->kind == TypeKind::Class && to->cls == m_object && is_reference(from))
        return true;
    if (to->kind == TypeKind::Class && from->kind == TypeKind::Class)
        return is_subclass(from->cls, to->cls);
    // Object accepts every reference.
    if (to->kind == TypeKind::Class && to->cls == m_object && is_reference(from))
        return true;
    return false;
}

// The global variable named [name], or null.
GlobalSym* Compiler::find_global(const char* name)
{
    i64 id = m_global_index.find(name, [&](u32 i) { return str_equal(m_globals[i].name, name); });
    return id >= 0 ? &m_globals[(u32)id] : nullptr;
}

// The constant that is the null object of reference type [t] (each built-in
// reference type has a frozen empty instance; classes use 0).
u64 Compiler::null_value(Type* t)
{
    switch (t->kind) {
    case TypeKind::String: return m_out->null_string;
    case TypeKind::Bytes: return m_out->null_bytes;
    case TypeKind::Array: return m_out->null_array;
    case TypeKind::Map: return m_out->null_map;
    case TypeKind::Func: return m_out->null_func;
    case TypeKind::Class: return t->cls->rt ? from_obj(t->cls->rt->null_instance) : m_out->null_string;
    default: return 0;
    }
}

// Makes the runtime classes (RtClass: name, superclass, field kinds,
// vtable) and the null values the program needs; false when memory ran out.
bool Compiler::build_runtime_classes()
{
    Program* p = m_out;
    // Null values of the built-in reference types: permanent, empty, frozen.
    if (!m_heap->make_null_values(p)) {
        oom();
        return false;
    }

    u32 n = m_classes.size();
    p->classes = static_cast<RtClass**>(p->arena.alloc_zeroed(sizeof(RtClass*) * (n ? n : 1)));
    if (!p->classes) {
        oom();
        return false;
    }
    p->class_count = n;
    // First every class and its null instance, then the field defaults
    // (which refer to other classes' null instances).
    for (ClassSym* c : m_classes) {
        RtClass* rt = static_cast<RtClass*>(p->arena.alloc_zeroed(sizeof(RtClass)));
        if (!rt) {
            oom();
            return false;
        }
        p->classes[c->id] = rt;
        c->rt = rt;
        // Built-in classes point at static names instead of copies (an empty
        // script's program stays within its pages); the boxes are `int` and
        // `boolean`.
        if (c->id == ClassBoxInt || c->id == ClassBoxBoolean)
            rt->name = c->id == ClassBoxInt ? "int" : "boolean";
        else if (c->builtin && prelude_class_name(c->id) && str_equal(c->name, prelude_class_name(c->id)))
            rt->name = prelude_class_name(c->id);
        else
            rt->name = persist(c->name);
        rt->id = c->id;
        // An unused built-in class keeps no fields unless it is an
        // exception (the VM makes those by id, with their message) or a box
        // (made by the compiler's boxing, not by name): nothing can make or
        // read an instance of the others.
        bool boxed = c->id == ClassBoxInt || c->id == ClassBoxBoolean;
        rt->field_count = c->unused && !is_subclass(c, m_exception) && !boxed ? 0 : c->fields.size();
        rt->to_string_slot = -1;
        rt->message_field = -1;
        RtClass* super_rt = c->super ? c->super->rt : nullptr;
        if (rt->field_count && c->builtin && super_rt && super_rt->field_count == rt->field_count) {
            // A built-in class with only its superclass's fields (the
            // exceptions) shares its field tables: an empty script's program
            // stays small. They hold the same values for both.
            rt->field_kinds = super_rt->field_kinds;
            rt->field_types = super_rt->field_types;
            rt->field_defaults = super_rt->field_defaults;
            rt->field_names = super_rt->field_names;
        } else if (rt->field_count) {
            rt->field_kinds = static_cast<u8*>(p->arena.alloc_zeroed(rt->field_count));
            rt->field_types = static_cast<u32*>(p->arena.alloc_zeroed(sizeof(u32) * rt->field_count));
            rt->field_defaults = static_cast<u64*>(p->arena.alloc_zeroed(sizeof(u64) * rt->field_count));
            rt->field_names = static_cast<const char**>(p->arena.alloc_zeroed(sizeof(char*) * rt->field_count));
            if (!rt->field_kinds || !rt->field_types || !rt->field_defaults || !rt->field_names) {
                oom();
                return false;
            }
        }
        rt->null_instance = m_heap->new_instance(rt);
        if (!rt->null_instance) {
            oom();
            return false;
        }
        rt->null_instance->header.flags |= ObjNull | ObjPermanent;
    }
    for (ClassSym* c : m_classes) {
        RtClass* rt = c->rt;
        rt->super = c->super ? c->super->rt : nullptr;
        u32 depth = 0;
        if (m_numbered) {
            depth = c->depth;
        } else {
            for (ClassSym* s = c->super; s && depth <= n; s = s->super)
                depth++;
        }
        rt->depth = depth;
        bool exception = is_subclass(c, m_exception);
        bool shared = rt->super && rt->field_count && rt->field_kinds == rt->super->field_kinds;
        for (u32 i = 0; i < rt->field_count; i++) {
            Type* t = c->fields[i].type;
            if (!shared) {
                rt->field_kinds[i] = value_kind(t);
                rt->field_types[i] = type_index(t);
                rt->field_defaults[i] = null_value(t);
            }
            rt->null_instance->fields[i] = rt->field_defaults[i];
            if (exception && str_equal(c->fields[i].name, "message"))
                rt->message_field = (i32)i;
        }
        if (!tick(rt->field_count / 16 + 1))
            return false;
    }
    return true;
}

}   // namespace ks::compiler
