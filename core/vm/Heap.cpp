#include "Heap.h"

#include "Opcodes.h"
#include "Program.h"

namespace ks {

static constexpr usize kMinCollectionGap = 256 * 1024;

void Heap::init(Memory* memory)
{
    m_memory = memory;
    m_objects = nullptr;
    m_objects_live = 0;
    m_objects_allocated = 0;
    m_collections = 0;
    m_next_collection = kMinCollectionGap;
    m_mark_top = 0;
    m_work = 0;
}

void* Heap::alloc_object(usize size, ObjKind kind)
{
    // While compiling, objects (constants, null values) go into the
    // program's arena: permanent, outside the collector's list.
    bool permanent = m_permanent != nullptr;
    ObjHeader* o = static_cast<ObjHeader*>(permanent ? m_permanent->alloc(size) : m_memory->alloc(size));
    if (!o)
        return nullptr;
    o->kind = kind;
    o->mark = 0;
    o->flags = permanent ? ObjPermanent : 0;
    o->elem_kind = 0;
    o->aux = 0;
    o->gc_next = permanent ? nullptr : m_objects;
    if (permanent)
        return o;
    m_objects = o;
    m_objects_live++;
    m_objects_allocated++;
    return o;
}

// Counts the characters of UTF-8 text (the bytes that are not 10xxxxxx
// continuation bytes) eight bytes at a time; returns whether all are ASCII.
// Every new string pays for this pass, which allocation charges at one unit
// per 16 bytes: a word at a time it costs about what the copy costs.
static bool utf8_count(const char* bytes, usize length, u32* out)
{
    constexpr u64 kHigh = 0x8080808080808080ull;
    u64 any_high = 0;
    usize continuation = 0;
    usize i = 0;
    for (; i + 8 <= length; i += 8) {
        u64 w;
        mem_copy(&w, bytes + i, 8);
        any_high |= w;
        if (w & kHigh) {
            // Bit 7 set and bit 6 clear: shifting left by one brings bit 6
            // under bit 7 of the same byte. One bit per byte, summed by a
            // multiplication (no popcount instruction needed).
            u64 marks = (w & ~(w << 1) & kHigh) >> 7;
            continuation += (usize)((marks * 0x0101010101010101ull) >> 56);
        }
    }
    for (; i < length; i++) {
        u8 c = (u8)bytes[i];
        any_high |= c;
        if ((c & 0xc0) == 0x80)
            continuation++;
    }
    *out = (u32)(length - continuation);
    return (any_high & kHigh) == 0;
}

StringObj* Heap::new_string(const char* bytes, usize length)
{
    if (length > 0x3fffffff)
        return nullptr;
    StringObj* s = static_cast<StringObj*>(alloc_object(sizeof(StringObj) + length + 1, ObjKind::String));
    if (!s)
        return nullptr;
    s->byte_length = (u32)length;
    mem_copy(s->bytes, bytes, length);
    s->bytes[length] = 0;
    s->hash = 0;
    u32 chars = 0;
    bool ascii = utf8_count(s->bytes, length, &chars);
    s->char_length = chars;
    if (ascii)
        s->header.flags |= ObjAscii;
    return s;
}

ArrayObj* Heap::new_array(u32 size, u8 elem_kind, u64 fill, u32 elem_type)
{
    // Buffer first: if the object allocation then fails, nothing is half made.
    u64* items = nullptr;
    if (size) {
        usize bytes;
        if (!size_mul(size, sizeof(u64), &bytes))
            return nullptr;
        items = static_cast<u64*>(m_memory->alloc(bytes));
        if (!items)
            return nullptr;
        for (u32 i = 0; i < size; i++)
            items[i] = fill;
    }
    ArrayObj* a = static_cast<ArrayObj*>(alloc_object(sizeof(ArrayObj), ObjKind::Array));
    if (!a) {
        m_memory->free(items);
        return nullptr;
    }
    a->header.elem_kind = elem_kind;
    a->size = size;
    a->capacity = size;
    a->items = items;
    a->elem_type = elem_type;
    return a;
}

bool Heap::array_reserve(ArrayObj* array, u32 capacity)
{
    if (capacity <= array->capacity)
        return true;
    u32 grown = array->capacity < 8 ? 8 : array->capacity;
    while (grown < capacity) {
        if (grown > 0x3fffffff)
            return false;
        grown *= 2;
    }
    u64* items = static_cast<u64*>(m_memory->alloc((usize)grown * sizeof(u64)));
    if (!items)
        return false;
    if (array->items) {
        mem_copy(items, array->items, (usize)array->size * sizeof(u64));
        m_memory->free(array->items);
    }
    array->items = items;
    array->capacity = grown;
    return true;
}

MapObj* Heap::new_map(u8 key_kind, u8 value_kind, u32 type)
{
    MapObj* m = static_cast<MapObj*>(alloc_object(sizeof(MapObj), ObjKind::Map));
    if (!m)
        return nullptr;
    m->header.elem_kind = value_kind;
    m->header.aux = key_kind;
    m->count = m->used = m->capacity = m->index_size = 0;
    m->entries = nullptr;
    m->index = nullptr;
    m->missing = 0;
    m->type = type;
    return m;
}

BytesObj* Heap::new_bytes(u32 size)
{
    u8* data = nullptr;
    if (size) {
        data = static_cast<u8*>(m_memory->alloc_zeroed(size));
        if (!data)
            return nullptr;
    }
    BytesObj* b = static_cast<BytesObj*>(alloc_object(sizeof(BytesObj), ObjKind::Bytes));
    if (!b) {
        m_memory->free(data);
        return nullptr;
    }
    b->size = size;
    b->capacity = size;
    b->data = data;
    return b;
}

bool Heap::bytes_reserve(BytesObj* bytes, u32 capacity)
{
    if (capacity <= bytes->capacity)
        return true;
    u32 grown = bytes->capacity < 16 ? 16 : bytes->capacity;
    while (grown < capacity) {
        if (grown > 0x3fffffff)
            return false;
        grown *= 2;
    }
    u8* data = static_cast<u8*>(m_memory->alloc(grown));
    if (!data)
        return false;
    if (bytes->data) {
        mem_copy(data, bytes->data, bytes->size);
        m_memory->free(bytes->data);
    }
    bytes->data = data;
    bytes->capacity = grown;
    return true;
}

InstanceObj* Heap::new_instance(RtClass* klass)
{
    usize size = sizeof(InstanceObj) + (usize)klass->field_count * sizeof(u64);
    InstanceObj* o = static_cast<InstanceObj*>(alloc_object(size, ObjKind::Instance));
    if (!o)
        return nullptr;
    o->header.aux = klass->id;
    o->klass = klass;
    if (klass->field_count)
        mem_copy(o->fields, klass->field_defaults, (usize)klass->field_count * sizeof(u64));
    return o;
}

FuncObj* Heap::new_func(u32 function_index)
{
    FuncObj* f = static_cast<FuncObj*>(alloc_object(sizeof(FuncObj), ObjKind::Func));
    if (!f)
        return nullptr;
    f->header.aux = function_index;
    return f;
}

void Heap::free_object(ObjHeader* o)
{
    switch (o->kind) {
    case ObjKind::Array:
        m_memory->free(reinterpret_cast<ArrayObj*>(o)->items);
        break;
    case ObjKind::Map:
        m_memory->free(reinterpret_cast<MapObj*>(o)->entries);
        m_memory->free(reinterpret_cast<MapObj*>(o)->index);
        break;
    case ObjKind::Bytes:
        m_memory->free(reinterpret_cast<BytesObj*>(o)->data);
        break;
    default:
        break;
    }
    o->kind = ObjKind::Freed;
    m_objects_live--;
    m_memory->free(o);
}

void Heap::destroy()
{
    ObjHeader* o = m_objects;
    while (o) {
        ObjHeader* next = o->gc_next;
        free_object(o);
        o = next;
    }
    m_objects = nullptr;
}

void Heap::begin_collection()
{
    m_mark_top = 0;
    m_work = 0;
}

// Whether [o] can hold references (a string or an int array is marked and
// done). Asked when the mark stack is full, before pointer reversal enters
// the object; the fast path pushes whatever it marks, which costs less than
// asking.
static bool has_children(ObjHeader* o)
{
    switch (o->kind) {
    case ObjKind::Array:
        return o->elem_kind == KindRef && reinterpret_cast<ArrayObj*>(o)->size != 0;
    case ObjKind::Map:
        return (o->aux == KindRef || o->elem_kind == KindRef) && reinterpret_cast<MapObj*>(o)->count != 0;
    case ObjKind::Instance:
        return reinterpret_cast<InstanceObj*>(o)->klass->field_count != 0;
    default:
        return false;
    }
}

// Bytes that scanning [o] reads: its reference slots or map entries.
static u64 scan_bytes(ObjHeader* o)
{
    switch (o->kind) {
    case ObjKind::Array:
        return (u64)reinterpret_cast<ArrayObj*>(o)->size * sizeof(u64);
    case ObjKind::Map:
        return (u64)reinterpret_cast<MapObj*>(o)->used * sizeof(MapEntry);
    case ObjKind::Instance:
        return (u64)reinterpret_cast<InstanceObj*>(o)->klass->field_count * sizeof(u64);
    default:
        return 0;
    }
}

// A root: marked and pushed. Roots are marked outside any scan, so a full
// stack is simply drained first.
void Heap::mark_value(u64 value)
{
    ObjHeader* o = as_obj(value);
    if (!o || o->mark || (o->flags & ObjPermanent))
        return;
    o->mark = 1;
    if (m_mark_top == kMarkStackSize)
        drain();
    m_mark_stack[m_mark_top++] = o;
}

// A child found by scan(): marked and pushed at [top] (the stack top, kept
// in a register by the caller: the mark byte store could alias the member);
// false, with the child marked but not pushed in [*full], when the stack is
// full.
KS_ALWAYS_INLINE bool Heap::mark_child(u64 value, u32& top, ObjHeader** full)
{
    ObjHeader* o = as_obj(value);
    if (!o || o->mark || (o->flags & ObjPermanent))
        return true;
    o->mark = 1;
    if (KS_LIKELY(top < kMarkStackSize)) {
        m_mark_stack[top++] = o;
        return true;
    }
    *full = o;
    return false;
}

// Marks the children of a marked object from its reference slot [from]
// (numbered as for ref_slot()), adding the bytes it reads to [work] on the
// first call (once the stack is full, every further child of a large array
// resumes the scan). Returns kScanDone, or, when a child found the stack
// full, the slot after it, for drain() to mark through that child and call
// again. Inlined into drain(), which runs once per collection: the object
// loop itself has no call, so no register is saved per object.
KS_ALWAYS_INLINE u32 Heap::scan(ObjHeader* o, u32 from, ObjHeader** full, u64& work)
{
    u32 top = m_mark_top;
    u32 next = kScanDone;
    switch (o->kind) {
    case ObjKind::Array: {
        ArrayObj* a = reinterpret_cast<ArrayObj*>(o);
        if (o->elem_kind != KindRef)
            break;
        u32 n = a->size;
        u64* items = a->items;
        if (!from)
            work += (u64)n * sizeof(u64);
        for (u32 i = from; i < n; i++) {
            if (KS_UNLIKELY(!mark_child(items[i], top, full))) {
                next = i + 1;
                break;
            }
        }
        break;
    }
    case ObjKind::Map: {
        MapObj* m = reinterpret_cast<MapObj*>(o);
        bool keys = o->aux == KindRef;
        bool values = o->elem_kind == KindRef;
        if (!keys && !values)
            break;
        u32 n = m->used;
        MapEntry* entries = m->entries;
        if (!from)
            work += (u64)n * sizeof(MapEntry);
        for (u32 i = from >> 1; i < n; i++) {
            if (!entries[i].hash)
                continue;
            if (keys && !(from & 1) && KS_UNLIKELY(!mark_child(entries[i].key, top, full))) {
                next = 2 * i + 1;
                break;
            }
            from = 0;
            if (values && KS_UNLIKELY(!mark_child(entries[i].value, top, full))) {
                next = 2 * i + 2;
                break;
            }
        }
        break;
    }
    case ObjKind::Instance: {
        InstanceObj* inst = reinterpret_cast<InstanceObj*>(o);
        RtClass* k = inst->klass;
        u32 n = k->field_count;
        const u8* kinds = k->field_kinds;
        if (!from)
            work += (u64)n * sizeof(u64);
        for (u32 i = from; i < n; i++) {
            if (kinds[i] == KindRef && KS_UNLIKELY(!mark_child(inst->fields[i], top, full))) {
                next = i + 1;
                break;
            }
        }
        break;
    }
    default:
        break;
    }
    m_mark_top = top;
    return next;
}

void Heap::drain()
{
    u64 work = 0;
    while (m_mark_top) {
        ObjHeader* o = m_mark_stack[--m_mark_top];
        ObjHeader* full;
        for (u32 from = 0; (from = scan(o, from, &full, work)) != kScanDone;)
            if (has_children(full))
                mark_deep(full);
    }
    m_work += work;
}

// Pointer-reversal marking numbers the reference slots of an object: array
// item i; map entry i / 2, its key (i even) or its value (i odd); field i.
static u64* ref_slot(ObjHeader* o, u32 i)
{
    switch (o->kind) {
    case ObjKind::Array:
        return &reinterpret_cast<ArrayObj*>(o)->items[i];
    case ObjKind::Map: {
        MapEntry& e = reinterpret_cast<MapObj*>(o)->entries[i >> 1];
        return (i & 1) ? &e.value : &e.key;
    }
    default:
        return &reinterpret_cast<InstanceObj*>(o)->fields[i];
    }
}

// The first slot of [o] numbered [*i] or more that holds a reference; sets
// [*i] to its number. Null when none is left. [o] must not be on the path
// (a map's aux is its key kind again).
static u64* next_ref_slot(ObjHeader* o, u32* i)
{
    u32 k = *i;
    switch (o->kind) {
    case ObjKind::Array: {
        ArrayObj* a = reinterpret_cast<ArrayObj*>(o);
        if (o->elem_kind != KindRef || k >= a->size)
            return nullptr;
        return &a->items[k];
    }
    case ObjKind::Map: {
        MapObj* m = reinterpret_cast<MapObj*>(o);
        bool keys = o->aux == KindRef;
        bool values = o->elem_kind == KindRef;
        for (; (k >> 1) < m->used; k++) {
            MapEntry& e = m->entries[k >> 1];
            if (!e.hash) {
                k |= 1;   // A removed entry: on to the next one's key.
                continue;
            }
            if ((k & 1) ? values : keys) {
                *i = k;
                return (k & 1) ? &e.value : &e.key;
            }
        }
        return nullptr;
    }
    case ObjKind::Instance: {
        InstanceObj* inst = reinterpret_cast<InstanceObj*>(o);
        RtClass* c = inst->klass;
        for (; k < c->field_count; k++) {
            if (c->field_kinds[k] == KindRef) {
                *i = k;
                return &inst->fields[k];
            }
        }
        return nullptr;
    }
    default:
        return nullptr;
    }
}

// While [o] is on the pointer-reversal path, aux holds the number of the
// slot the walk went down through (that slot holds the path back). What aux
// held before is known (0 for arrays, the class id for instances) or, for a
// map's key kind, kept in the mark byte meanwhile (non-zero: still marked).
static void save_slot(ObjHeader* o, u32 i)
{
    if (o->kind == ObjKind::Map)
        o->mark = (u8)(0x80 | o->aux);
    o->aux = i;
}

static u32 restore_slot(ObjHeader* o)
{
    u32 i = o->aux;
    if (o->kind == ObjKind::Map) {
        o->aux = o->mark & 0x7f;
        o->mark = 1;
    } else if (o->kind == ObjKind::Instance) {
        o->aux = reinterpret_cast<InstanceObj*>(o)->klass->id;
    } else {
        o->aux = 0;
    }
    return i;
}

// Marks everything reachable from [root] (marked, not on the stack) that
// is not marked yet, without a stack: going down a slot stores the parent
// in it, coming back restores it (Deutsch-Schorr-Waite). Each object is
// entered once and each of its slots looked at once, so a heap shaped to
// overflow the mark stack again and again costs linear time, where
// rescanning the heap after each overflow cost quadratic time. Objects on
// the mark stack and the one being scanned are marked: the walk never
// enters them, so it only rewrites slots of objects it entered, and puts
// every one back before it returns.
void Heap::mark_deep(ObjHeader* root)
{
    ObjHeader* parent = nullptr;
    ObjHeader* cur = root;
    u32 i = 0;
    m_work += scan_bytes(root);
    for (;;) {
        u64* slot = next_ref_slot(cur, &i);
        if (slot) {
            ObjHeader* child = as_obj(*slot);
            if (!child || child->mark || (child->flags & ObjPermanent)) {
                i++;
                continue;
            }
            child->mark = 1;
            if (!has_children(child)) {
                i++;
                continue;
            }
            save_slot(cur, i);
            *slot = from_obj(parent);
            parent = cur;
            cur = child;
            i = 0;
            m_work += scan_bytes(cur);
            continue;
        }
        if (!parent)
            return;
        ObjHeader* up = parent;
        u32 at = restore_slot(up);
        u64* back = ref_slot(up, at);
        parent = as_obj(*back);
        *back = from_obj(cur);
        cur = up;
        i = at + 1;
    }
}

void Heap::finish_collection()
{
    drain();
    m_work += (u64)m_objects_live * sizeof(ObjHeader);   // The sweep reads every header.
    ObjHeader** link = &m_objects;
    while (ObjHeader* o = *link) {
        if (o->mark || (o->flags & ObjPermanent)) {
            o->mark = 0;
            link = &o->gc_next;
        } else {
            *link = o->gc_next;
            free_object(o);
        }
    }
    m_collections++;
    usize used = m_memory->used();
    usize next = used * 2;
    if (next < used + kMinCollectionGap)
        next = used + kMinCollectionGap;
    // Collect well before the quota so that it is reached only by live data.
    usize quota = m_memory->quota();
    usize cap = quota - quota / 8;
    if (next > cap)
        next = used < cap ? cap : used;
    m_next_collection = next;
}

bool Heap::make_null_values(Program* p)
{
    StringObj* ns = new_string("", 0);
    // The null array and map are of every type: `as` gives them without
    // looking at their type.
    ArrayObj* na = new_array(0, KindInt, 0, 0);
    MapObj* nm = new_map(KindInt, KindInt, 0);
    BytesObj* nb = new_bytes(0);
    FuncObj* nf = new_func(0xffffffffu);
    if (!ns || !na || !nm || !nb || !nf)
        return false;
    ObjHeader* nulls[] = { &ns->header, &na->header, &nm->header, &nb->header, &nf->header };
    for (ObjHeader* o : nulls)
        o->flags |= ObjNull | ObjPermanent;
    p->null_string = from_obj(ns);
    p->null_array = from_obj(na);
    p->null_map = from_obj(nm);
    p->null_bytes = from_obj(nb);
    p->null_func = from_obj(nf);
    return true;
}

}
