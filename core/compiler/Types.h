// Static types of the checker. Types are interned: two equal types are the
// same pointer, so comparisons are pointer comparisons.
#pragma once

#include "../support/Arena.h"
#include "../vm/Opcodes.h"

namespace ks {

struct ClassSym;

enum class TypeKind : u8 {
    Error,    // Poison: an expression that already failed to check.
    Void,
    Int,
    Boolean,
    Null,     // The type of the `null` literal before it meets a context.
    String,
    Bytes,
    Class,    // cls
    Array,    // elem
    Map,      // key, elem (value)
    Func,     // elem (return), params
};

struct Type {
    TypeKind kind;
    Type* elem;
    Type* key;
    ClassSym* cls;
    Type** params;
    u32 param_count;
    Type* next;   // Intern list.
};

inline bool is_reference(const Type* t)
{
    switch (t->kind) {
    case TypeKind::String: case TypeKind::Bytes: case TypeKind::Class: case TypeKind::Array:
    case TypeKind::Map: case TypeKind::Func: case TypeKind::Null:
        return true;
    default:
        return false;
    }
}

inline u8 value_kind(const Type* t)
{
    if (t->kind == TypeKind::Boolean)
        return KindBool;
    if (t->kind == TypeKind::Void)
        return KindVoid;
    return is_reference(t) ? KindRef : KindInt;
}

class TypeTable {
public:
    explicit TypeTable(Arena* arena) : m_arena(arena) {}
    bool init();

    Type* error() { return m_error; }
    Type* void_type() { return m_void; }
    Type* int_type() { return m_int; }
    Type* boolean() { return m_boolean; }
    Type* null_type() { return m_null; }
    Type* string() { return m_string; }
    Type* bytes() { return m_bytes; }

    // Null only when memory runs out.
    Type* array_of(Type* elem);
    Type* map_of(Type* key, Type* value);
    Type* func_of(Type* result, Type** params, u32 count);
    Type* class_type(ClassSym* cls);

    // Writes a readable name ("Map[String, int[]]") into [out] (size [n]).
    static void name(const Type* t, char* out, usize n);

private:
    Type* make(TypeKind kind);
    Arena* m_arena;
    Type* m_list { nullptr };
    Type* m_error {};
    Type* m_void {};
    Type* m_int {};
    Type* m_boolean {};
    Type* m_null {};
    Type* m_string {};
    Type* m_bytes {};
};

}
