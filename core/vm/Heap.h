// The garbage-collected heap of one state: a non-moving mark-and-sweep
// collector over objects allocated from the state's slab allocator.
//
// Invariants (see also Vm.cpp):
//  - Every object is on the gc_next list from allocation until it is swept.
//  - Collection happens only when the VM asks for it, at the start of an
//    instruction that allocates. At that moment every reference the program
//    can reach is in a root: a register the compiler typed as a reference
//    (such registers are cleared on frame entry and only ever hold
//    references), a global, a constant, the pending exception, or an object
//    reachable from those. An instruction or native never collects halfway.
//  - Marking uses a fixed mark stack of objects that can hold references.
//    A child found while the stack is full is marked with everything it
//    reaches by pointer reversal (Deutsch-Schorr-Waite: the path back is
//    kept in the reference slots being followed, and each object on it
//    remembers its slot in its header's aux word), so collection never
//    allocates, never recurses, and visits each object and slot a bounded
//    number of times whatever the shape of the heap.
//  - A collection counts its work (bytes of headers, references and map
//    entries it reads) for the VM to charge the budget with.
#pragma once

#include "../support/Arena.h"
#include "../support/Memory.h"
#include "Object.h"

namespace ks {

struct RtClass;
struct Program;

class Heap {
public:
    void init(Memory* memory);
    void destroy();   // Frees every object, permanent ones too.

    // Allocation; null when the memory quota or the pages run out.
    StringObj* new_string(const char* bytes, usize length);
    // [elem_type]: Program::type_code() of the element type.
    ArrayObj* new_array(u32 size, u8 elem_kind, u64 fill, u32 elem_type);
    // [type]: the map's type index.
    MapObj* new_map(u8 key_kind, u8 value_kind, u32 type);
    BytesObj* new_bytes(u32 size);
    InstanceObj* new_instance(RtClass* klass);
    FuncObj* new_func(u32 function_index);
    void make_permanent(ObjHeader* object) { object->flags |= ObjPermanent; }
    // The null values of the built-in reference types (String, array, map,
    // Bytes, Func) into [program]: permanent, empty, frozen. The compiler
    // and the bytecode reader both make them here. False when memory is short.
    bool make_null_values(Program* program);
    // While set (during compilation), new objects go into [arena] as
    // permanent objects that the arena frees with the program. Such objects
    // must not own other allocations (empty containers, strings, functions).
    void set_permanent_arena(BlockArena* arena) { m_permanent = arena; }

    // Container growth (the container is not moved; its buffer is).
    bool array_reserve(ArrayObj* array, u32 capacity);
    bool bytes_reserve(BytesObj* bytes, u32 capacity);

    // Collection: begin, mark roots, then finish (drains and sweeps).
    void begin_collection();
    void mark_value(u64 value);
    void finish_collection();
    // Bytes the last collection read: object headers swept, reference slots
    // and map entries scanned. Proportional to its running time.
    u64 collection_work() const { return m_work; }

    bool should_collect() const { return m_memory->used() > m_next_collection; }
    u64 collections() const { return m_collections; }
    usize live_objects() const { return m_objects_live; }
    u64 objects_allocated() const { return m_objects_allocated; }
    Memory* memory() { return m_memory; }

private:
    void* alloc_object(usize size, ObjKind kind);
    void free_object(ObjHeader* object);
    bool mark_child(u64 value, u32& top, ObjHeader** full);
    void mark_deep(ObjHeader* root);
    static constexpr u32 kScanDone = ~0u;
    u32 scan(ObjHeader* object, u32 from, ObjHeader** full, u64& work);
    void drain();

    Memory* m_memory;
    ObjHeader* m_objects;
    usize m_objects_live;
    u64 m_objects_allocated;
    u64 m_collections;
    usize m_next_collection;
    static constexpr u32 kMarkStackSize = 64;   // Overflow goes to mark_deep(), a little slower per object.
    ObjHeader* m_mark_stack[kMarkStackSize];
    u32 m_mark_top;
    u64 m_work;
    BlockArena* m_permanent { nullptr };
};

}
