// Static types of the checker. Types are interned: two equal types are the
// same pointer, so comparisons are pointer comparisons.
#pragma once

#include "../support/Arena.h"
#include "../support/NameIndex.h"
#include "../support/Vector.h"
#include "../vm/Opcodes.h"
#include "../vm/Program.h"

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
    Type* array_type;   // The interned array of this type, once made.
    u32 program_index;  // Index in the program's type table plus one; 0 until numbered.
    u32 id;             // In the TypeTable: by_id() gives the type back (0 is the error type).
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

// Interning: an array type hangs off its element type; maps and function
// types are found through a hash index (a scan of every type made so far, per
// lookup, made a script with thousands of classes or signatures compile in
// quadratic time).
class TypeTable {
public:
    TypeTable(Arena* arena, Memory* memory) : m_arena(arena), m_composites(memory), m_index(memory), m_all(memory) {}
    // Before init(): the seed of the hash index (see NameIndex).
    void set_seed(u64 seed) { m_index.set_seed(seed); }
    bool init();

    Type* error() { return m_error; }
    Type* void_type() { return m_void; }
    Type* int_type() { return m_int; }
    Type* boolean() { return m_boolean; }
    Type* null_type() { return m_null; }
    Type* string() { return m_string; }
    Type* bytes() { return m_bytes; }
    // The type numbered [id] (Type::id), as the checker's annotations hold it.
    Type* by_id(u32 id) { return m_all[id]; }

    // Null only when memory runs out.
    Type* array_of(Type* elem);
    Type* map_of(Type* key, Type* value);
    Type* func_of(Type* result, Type** params, u32 count);
    // A new type for a new class (each class gets exactly one).
    Type* class_type(ClassSym* cls);

    // Writes a readable name ("Map[String, int[]]") into [out] (size [n]).
    static void name(const Type* t, char* out, usize n);

private:
    Type* make(TypeKind kind);
    u32 composite_hash(TypeKind kind, Type* elem, Type* key, Type** params, u32 count) const;
    Arena* m_arena;
    Vector<Type*> m_composites;   // Map and function types, by id in m_index.
    NameIndex m_index;
    Vector<Type*> m_all;          // Every type made, by id.
    Type* m_error {};
    Type* m_void {};
    Type* m_int {};
    Type* m_boolean {};
    Type* m_null {};
    Type* m_string {};
    Type* m_bytes {};
};

// The program's type table (vm/Program.h, TypeEntry) as the compiler fills
// it: a type gets its index when the program first needs it (a parameter, a
// field, a constant, a NewMap...), after its parts, so every part's index is
// smaller than its own. Interned types give interned entries.
class ProgramTypes {
public:
    ProgramTypes(Memory* memory, TypeTable* types) : m_types(types), m_entries(memory), m_params(memory) {}
    // The index of [t], numbered (with its parts) if new; false when memory
    // runs out or the types nest deeper than any script can write.
    bool index_of(Type* t, u32* out) { return number(t, out, 0); }
    // Copies the table into [p]'s arena (Program::types).
    bool finish(Program* p);
    u32 size() const { return m_entries.size(); }

private:
    bool number(Type* t, u32* out, u32 depth);
    TypeTable* m_types;
    Vector<TypeEntry> m_entries;
    Vector<u32> m_params;          // Function types' parameter indexes, one run per function type.
};

}
