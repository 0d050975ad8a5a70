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
//  - Marking uses a fixed mark stack; when it overflows, marking rescans the
//    heap for marked objects with unmarked children, so collection never
//    allocates and never recurses.
#pragma once

#include "../support/Arena.h"
#include "../support/Memory.h"
#include "Object.h"

namespace ks {

struct RtClass;
struct ProgramData;

class Heap {
public:
    void init(Memory* memory);
    void destroy();   // Frees every object, permanent ones too.

    // Allocation; null when the memory quota or the pages run out.
    StringObj* new_string(const char* bytes, usize length);
    ArrayObj* new_array(u32 size, u8 elem_kind, u64 fill);
    MapObj* new_map(u8 key_kind, u8 value_kind);
    BytesObj* new_bytes(u32 size);
    InstanceObj* new_instance(RtClass* klass);
    FuncObj* new_func(u32 function_index);
    void make_permanent(ObjHeader* object) { object->flags |= ObjPermanent; }
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

    bool should_collect() const { return m_memory->used() > m_next_collection; }
    u64 collections() const { return m_collections; }
    usize live_objects() const { return m_objects_live; }
    u64 objects_allocated() const { return m_objects_allocated; }
    Memory* memory() { return m_memory; }

private:
    void* alloc_object(usize size, ObjKind kind);
    void free_object(ObjHeader* object);
    void push_mark(ObjHeader* object);
    void scan(ObjHeader* object);
    void drain();

    Memory* m_memory;
    ObjHeader* m_objects;
    usize m_objects_live;
    u64 m_objects_allocated;
    u64 m_collections;
    usize m_next_collection;
    static constexpr u32 kMarkStackSize = 64;   // Overflow costs a rescan pass, never correctness.
    ObjHeader* m_mark_stack[kMarkStackSize];
    u32 m_mark_top;
    bool m_mark_overflow;
    BlockArena* m_permanent { nullptr };
};

}
