#include "Types.h"

#include "Compiler.h"

namespace ks {

Type* TypeTable::make(TypeKind kind)
{
    Type* t = m_arena->make<Type>();
    if (!t)
        return nullptr;
    mem_set(t, 0, sizeof(*t));
    t->kind = kind;
    return t;
}

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

Type* TypeTable::array_of(Type* elem)
{
    for (Type* t = m_list; t; t = t->next)
        if (t->kind == TypeKind::Array && t->elem == elem)
            return t;
    Type* t = make(TypeKind::Array);
    if (!t)
        return nullptr;
    t->elem = elem;
    t->next = m_list;
    m_list = t;
    return t;
}

Type* TypeTable::map_of(Type* key, Type* value)
{
    for (Type* t = m_list; t; t = t->next)
        if (t->kind == TypeKind::Map && t->key == key && t->elem == value)
            return t;
    Type* t = make(TypeKind::Map);
    if (!t)
        return nullptr;
    t->key = key;
    t->elem = value;
    t->next = m_list;
    m_list = t;
    return t;
}

Type* TypeTable::func_of(Type* result, Type** params, u32 count)
{
    for (Type* t = m_list; t; t = t->next) {
        if (t->kind != TypeKind::Func || t->elem != result || t->param_count != count)
            continue;
        bool same = true;
        for (u32 i = 0; i < count && same; i++)
            same = t->params[i] == params[i];
        if (same)
            return t;
    }
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
    t->next = m_list;
    m_list = t;
    return t;
}

Type* TypeTable::class_type(ClassSym* cls)
{
    for (Type* t = m_list; t; t = t->next)
        if (t->kind == TypeKind::Class && t->cls == cls)
            return t;
    Type* t = make(TypeKind::Class);
    if (!t)
        return nullptr;
    t->cls = cls;
    t->next = m_list;
    m_list = t;
    return t;
}

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

}
