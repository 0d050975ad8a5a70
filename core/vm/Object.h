// Heap objects. Every object starts with an ObjHeader; the GC threads all
// objects of a heap through gc_next and marks with mark.
//
// Null: every reference type has a null value that is a real object with
// the ObjNull flag, never a null pointer. For a class it is the class's
// default instance (fields at their defaults), for String the empty string,
// for arrays, maps and Bytes an empty frozen container, for Func a function
// that raises NullReferenceException. So no VM path dereferences a null
// pointer, and scripts that use null values get defaults or a clean exception.
#pragma once

#include "../support/Types.h"

namespace ks {

enum class ObjKind : u8 {
    Freed = 0,   // Set by the sweeper before the memory is returned.
    String,
    Array,
    Map,
    Bytes,
    Func,
    Instance,
};

enum ObjFlags : u8 {
    ObjNull = 1u << 0,       // The null value of its type.
    ObjPermanent = 1u << 1,  // Owned by the program (constants, null values): never swept.
    ObjAscii = 1u << 2,      // String: every character is one byte.
};

struct ObjHeader {
    ObjKind kind;
    u8 mark;
    u8 flags;
    u8 elem_kind;   // Array: ValueKind of elements. Map: value kind (key kind in key_kind).
    u32 aux;        // Instance: class id. Map: key kind. Func: function index.
    ObjHeader* gc_next;
};

struct StringObj {
    ObjHeader header;
    u32 byte_length;
    u32 char_length;
    u64 hash;        // 0 until computed.
    char bytes[];    // NUL-terminated.
};

struct ArrayObj {
    ObjHeader header;
    u32 size;
    u32 capacity;
    u64* items;
    u32 elem_type;   // Program::type_code() of the element type, set at creation: what
                     // `as` and `instanceof` check (a String[] is no A[]).
};

struct MapEntry {
    u64 key;
    u64 value;
    u64 hash;        // 0 marks a removed entry (hashes are forced non-zero).
};

// An insertion-ordered hash map: entries in order, plus an open-addressing
// index of entry numbers (−1 empty).
struct MapObj {
    ObjHeader header;
    u32 count;       // Live entries.
    u32 used;        // Entries used, including removed ones.
    u32 capacity;    // Entry capacity.
    u32 index_size;  // Power of two, or 0.
    MapEntry* entries;
    i32* index;
    u64 missing;     // What get() returns for a missing key (the value type's default).
    u32 type;        // The map's type (an index of Program::types), set at creation:
                     // what `as` and `instanceof` check.
};

struct BytesObj {
    ObjHeader header;
    u32 size;
    u32 capacity;
    u8* data;
};

struct FuncObj {
    ObjHeader header;   // aux: function index.
};

struct RtClass;

struct InstanceObj {
    ObjHeader header;   // aux: class id.
    RtClass* klass;
    u64 fields[];
};

inline ObjHeader* as_obj(u64 v) { return reinterpret_cast<ObjHeader*>((uptr)v); }
inline u64 from_obj(const void* o) { return (u64)(uptr)o; }

}
