#include "StaticTypes.h"

#include "Compiler.h"

namespace ks {

// A new type of [kind] in the arena, all else zero, numbered (Type::id) so
// that the checker's annotations can name it in 32 bits; null when memory
// ran out.
Type* TypeTable::make(TypeKind kind)
{
    Type* t = m_arena->make<Type>();
    if (!t)
        return nullptr;
    mem_set(t, 0, sizeof(*t));
    t->kind = kind;
    t->id = m_all.size();
    if (!m_all.try_append(t))
        return nullptr;
    return t;
}

// The types every program has; false when memory ran out.
bool TypeTable::init()
{
    m_error = make(TypeKind::Error);
    m_void = make(TypeKind::Void);
    m_int = make(TypeKind::Int);
    m_boolean = make(TypeKind::Boolean);
    m_null = make(TypeKind::Null);
    m_string = make(TypeKind::String);
    m_bytes = make(TypeKind::Bytes);
    return m_error && m_void && m_int && m_boolean && m_null && m_string && m_bytes;
}

// The one array type of [elem] (interned: equal types are one pointer).
Type* TypeTable::array_of(Type* elem)
{
    if (elem->array_type)
        return elem->array_type;
    Type* t = make(TypeKind::Array);
    if (!t)
        return nullptr;
    t->elem = elem;
    elem->array_type = t;
    return t;
}

// The index hash of a map or function type, from the identities of its parts.
u32 TypeTable::composite_hash(TypeKind kind, Type* elem, Type* key, Type** params, u32 count) const
{
    u64 h = hash_word((u64)kind * 0x9e3779b97f4a7c15ULL ^ (u64)(uptr)elem, 0);
    h = hash_word(h ^ (u64)(uptr)key, 0);
    for (u32 i = 0; i < count; i++)
        h = hash_word(h + (u64)(uptr)params[i], 0);
    return m_index.hash_value(h ^ count);
}

// The one Map[key, value] type (interned).
Type* TypeTable::map_of(Type* key, Type* value)
{
    u32 h = composite_hash(TypeKind::Map, value, key, nullptr, 0);
    i64 found = m_index.find_hashed(h, [&](u32 id) {
        Type* t = m_composites[id];
        return t->kind == TypeKind::Map && t->key == key && t->elem == value;
    });
    if (found >= 0)
        return m_composites[(u32)found];
    Type* t = make(TypeKind::Map);
    if (!t)
        return nullptr;
    t->key = key;
    t->elem = value;
    if (!m_composites.try_append(t) || !m_index.add_hashed(h, m_composites.size() - 1))
        return nullptr;
    return t;
}

// The one function type of [result] and [params] (interned).
Type* TypeTable::func_of(Type* result, Type** params, u32 count)
{
    u32 h = composite_hash(TypeKind::Func, result, nullptr, params, count);
    i64 found = m_index.find_hashed(h, [&](u32 id) {
        Type* t = m_composites[id];
        if (t->kind != TypeKind::Func || t->elem != result || t->param_count != count)
            return false;
        for (u32 i = 0; i < count; i++)
            if (t->params[i] != params[i])
                return false;
        return true;
    });
    if (found >= 0)
        return m_composites[(u32)found];
    Type* t = make(TypeKind::Func);
    if (!t)
        return nullptr;
    t->elem = result;
    t->param_count = count;
    if (count) {
        t->params = static_cast<Type**>(m_arena->alloc(sizeof(Type*) * count));
        if (!t->params)
            return nullptr;
        for (u32 i = 0; i < count; i++)
            t->params[i] = params[i];
    }
    if (!m_composites.try_append(t) || !m_index.add_hashed(h, m_composites.size() - 1))
        return nullptr;
    return t;
}

// The type of instances of [cls] (one per class).
Type* TypeTable::class_type(ClassSym* cls)
{
    Type* t = make(TypeKind::Class);
    if (!t)
        return nullptr;
    t->cls = cls;
    return t;
}

// [t] as written in kscript ("Map[String, int[]]"), cut to fit [n].
void TypeTable::name(const Type* t, char* out, usize n)
{
    // Written iteratively into a bounded buffer; nesting deeper than the
    // buffer simply gets clipped.
    usize len = 0;
    auto put = [&](const char* s) {
        while (*s && len + 1 < n)
            out[len++] = *s++;
    };
    // Recursion over type structure is bounded by the parser's nesting limit.
    struct Writer {
        static void write(const Type* t, decltype(put)& put, u32 depth)
        {
            if (depth > 16) {
                put("...");
                return;
            }
            switch (t->kind) {
            case TypeKind::Error: put("<error>"); break;
            case TypeKind::Void: put("void"); break;
            case TypeKind::Int: put("int"); break;
            case TypeKind::Boolean: put("boolean"); break;
            case TypeKind::Null: put("null"); break;
            case TypeKind::String: put("String"); break;
            case TypeKind::Bytes: put("Bytes"); break;
            case TypeKind::Class: put(t->cls->name); break;
            case TypeKind::Array:
                write(t->elem, put, depth + 1);
                put("[]");
                break;
            case TypeKind::Map:
                put("Map[");
                write(t->key, put, depth + 1);
                put(", ");
                write(t->elem, put, depth + 1);
                put("]");
                break;
            case TypeKind::Func:
                put("Func[");
                write(t->elem, put, depth + 1);
                for (u32 i = 0; i < t->param_count; i++) {
                    put(", ");
                    write(t->params[i], put, depth + 1);
                }
                put("]");
                break;
            }
        }
    };
    Writer::write(t, put, 0);
    out[len] = 0;
}

// [t]'s index in the program's type table (vm/Program.h), its parts
// numbered first (an entry names smaller indexes only); false when memory
// ran out or the type is nested too deeply.
bool ProgramTypes::number(Type* t, u32* out, u32 depth)
{
    if (t->program_index) {
        *out = t->program_index - 1;
        return true;
    }
    // The parser bounds type nesting far below this; the guard keeps the
    // recursion bounded whatever reaches it.
    if (depth > 256)
        return false;
    // The untyped null is the null String (what the compiler loads for
    // it); the error type of a failed compile is numbered as int.
    if (t->kind == TypeKind::Null || t->kind == TypeKind::Error) {
        if (!number(t->kind == TypeKind::Null ? m_types->string() : m_types->int_type(), out, depth + 1))
            return false;
        t->program_index = *out + 1;
        return true;
    }
    TypeEntry e {};
    switch (t->kind) {
    case TypeKind::Void: e.sort = TypeSort::Void; break;
    case TypeKind::Boolean: e.sort = TypeSort::Bool; break;
    case TypeKind::String: e.sort = TypeSort::String; break;
    case TypeKind::Bytes: e.sort = TypeSort::Bytes; break;
    case TypeKind::Class:
        e.sort = TypeSort::Class;
        e.a = t->cls->id;
        break;
    case TypeKind::Array:
        e.sort = TypeSort::Array;
        if (!number(t->elem, &e.a, depth + 1))
            return false;
        break;
    case TypeKind::Map:
        e.sort = TypeSort::Map;
        if (!number(t->key, &e.a, depth + 1) || !number(t->elem, &e.b, depth + 1))
            return false;
        break;
    case TypeKind::Func: {
        e.sort = TypeSort::Func;
        if (!number(t->elem, &e.a, depth + 1))
            return false;
        // Parts first (numbering them may add runs of their own), then
        // this type's run of parameters.
        for (u32 i = 0; i < t->param_count; i++) {
            u32 k;
            if (!number(t->params[i], &k, depth + 1))
                return false;
        }
        if (t->param_count > 0xffff)
            return false;
        e.b = m_params.size();
        e.param_count = (u16)t->param_count;
        for (u32 i = 0; i < t->param_count; i++)
            if (!m_params.try_append(t->params[i]->program_index - 1))
                return false;
        break;
    }
    default: e.sort = TypeSort::Int; break;   // int, and the error type of a failed compile.
    }
    if (!m_entries.try_append(e))
        return false;
    *out = m_entries.size() - 1;
    t->program_index = *out + 1;
    return true;
}

// Hands the type table to [p] (the verifier and the VM read it).
bool ProgramTypes::finish(Program* p)
{
    u32 n = m_entries.size();
    p->type_count = n;
    p->types = static_cast<TypeEntry*>(p->arena.copy(m_entries.data(), sizeof(TypeEntry) * n));
    p->type_param_count = m_params.size();
    p->type_params = static_cast<u32*>(p->arena.copy(m_params.data(), sizeof(u32) * m_params.size()));
    return (p->types || !n) && (p->type_params || !p->type_param_count);
}

}
