// The Map library: methods of Map<K, V>, an insertion-ordered hash map.
#include "MapLib.h"

namespace ks::lib {

// A string's hash, computed once (and charged then: a key made of many
// megabytes costs its bytes the first time it is hashed). Out of line, so
// that map lookups with cached hashes stay as lean as before.
static KS_NOINLINE u64 compute_string_hash(Vm& vm, StringObj* s)
{
    s->hash = hash_bytes(s->bytes, s->byte_length) | 1ull << 63;  // Non-zero; the low bits pick the index slot.
    vm.charge_units(s->byte_length >> 2);
    return s->hash;
}

static inline u64 string_hash(Vm& vm, StringObj* s) { return KS_LIKELY(s->hash) ? s->hash : compute_string_hash(vm, s); }


// An int key is its own hash (with the top bit set, so that no hash is 0),
// and its first index slot is the hash modulo index_size - 1, an odd number,
// as in Lua: nearby keys land in nearby slots, so sequential and clustered
// keys (the common case) probe memory that is already cached, while strides
// of powers of two still spread over every slot. Strings hash with FNV-1a.
static u64 key_hash(Vm& vm, MapObj* m, u64 key)
{
    if (m->header.aux == KindRef)
        return string_hash(vm, str(key));
    return key | 1ull << 63;
}

static u32 first_slot(u64 h, u32 index_size) { return ((u32)h ^ (u32)(h >> 32)) % (index_size - 1); }

// Puts entry number [entry] into the first free index slot for hash [h]
// (each probe past the first costs budget, as in map_find).
static void index_insert(Vm& vm, i32* index, u32 index_size, u64 h, u32 entry)
{
    u32 mask = index_size - 1;
    u32 j = first_slot(h, index_size);
    while (index[j] >= 0) {
        j = (j + 1) & mask;
        vm.charge_units(1);
    }
    index[j] = (i32)entry;
}

// Two different key objects of equal hash: equal strings, compared (and
// charged) byte for byte. Int keys are equal only when identical.
static KS_NOINLINE bool key_bytes_equal(Vm& vm, MapObj* m, u64 a, u64 b)
{
    if (m->header.aux != KindRef)
        return false;
    StringObj* s = str(a);
    StringObj* t = str(b);
    if (s->byte_length != t->byte_length)
        return false;
    vm.charge_bytes(s->byte_length);
    return mem_compare(s->bytes, t->bytes, s->byte_length) == 0;
}

// Keys chosen to collide make probe sequences long: each probe costs a unit
// of budget, so that such a script is stopped like any other long loop.
// String keys with equal hashes are compared, which costs their bytes
// (a long key looked up with an equal copy is compared in full each time).
static i64 map_find(Vm& vm, MapObj* m, u64 key, u64 h)
{
    if (!m->index_size)
        return -1;
    u32 mask = m->index_size - 1;
    u32 probes = 0;
    for (u32 i = first_slot(h, m->index_size);; i = (i + 1) & mask, probes++) {
        i32 e = m->index[i];
        if (e < 0)
            break;
        MapEntry& entry = m->entries[e];
        if (entry.hash == h && (entry.key == key || key_bytes_equal(vm, m, entry.key, key))) {
            vm.charge_units(probes);
            return e;
        }
    }
    vm.charge_units(probes);
    return -1;
}

static bool map_rebuild(Vm& vm, MapObj* m, u32 capacity)
{
    u32 index_size = 8;
    while (index_size < capacity * 2)
        index_size *= 2;
    MapEntry* entries = static_cast<MapEntry*>(vm.memory().alloc(sizeof(MapEntry) * capacity));
    i32* index = static_cast<i32*>(vm.memory().alloc(sizeof(i32) * index_size));
    if (!entries || !index) {
        vm.memory().free(entries);
        vm.memory().free(index);
        return false;
    }
    mem_set(index, 0xff, sizeof(i32) * index_size);
    u32 n = 0;
    for (u32 i = 0; i < m->used; i++) {
        if (!m->entries[i].hash)
            continue;
        entries[n] = m->entries[i];
        index_insert(vm, index, index_size, entries[n].hash, n);
        n++;
    }
    vm.memory().free(m->entries);
    vm.memory().free(m->index);
    m->entries = entries;
    m->index = index;
    m->capacity = capacity;
    m->index_size = index_size;
    m->used = n;
    m->count = n;
    return true;
}

bool m_get(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    i64 e = map_find(vm, m, a[1], key_hash(vm, m, a[1]));
    if (e >= 0) {
        *r = m->entries[e].value;
        return true;
    }
    // A missing key gives the value type's default. The null map is shared
    // by all map types and cannot know it.
    if (m->header.flags & ObjNull)
        return vm.raise(ClassNullReferenceException, "get from a null map");
    *r = m->missing;
    return true;
}

bool m_set(Vm& vm, u64* a, u64*)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    u64 h = key_hash(vm, m, a[1]);
    i64 e = map_find(vm, m, a[1], h);
    if (e >= 0) {
        m->entries[e].value = a[2];
        return true;
    }
    if (m->used == m->capacity) {
        u32 capacity = m->count * 2 < 8 ? 8 : m->count * 2;
        if (m->count >= 0x1fffffff || !map_rebuild(vm, m, capacity))
            return vm.raise_out_of_memory();
    }
    u32 slot = m->used++;
    m->entries[slot] = MapEntry { a[1], a[2], h };
    index_insert(vm, m->index, m->index_size, h, slot);
    m->count++;
    return true;
}

bool m_has(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    *r = map_find(vm, m, a[1], key_hash(vm, m, a[1])) >= 0;
    return true;
}

bool m_remove(Vm& vm, u64* a, u64* r)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    i64 e = map_find(vm, m, a[1], key_hash(vm, m, a[1]));
    *r = e >= 0;
    if (e >= 0) {
        // The index keeps pointing at the dead entry; lookups skip it
        // (its hash is 0) and the next rebuild drops it.
        m->entries[e].hash = 0;
        m->entries[e].key = 0;
        m->entries[e].value = 0;
        m->count--;
    }
    return true;
}

bool m_size(Vm&, u64* a, u64* r) { *r = map(a[0])->count; return true; }

bool m_clear(Vm& vm, u64* a, u64*)
{
    MapObj* m = map(a[0]);
    if (!check_mutable(vm, a[0]))
        return false;
    vm.memory().free(m->entries);
    vm.memory().free(m->index);
    m->entries = nullptr;
    m->index = nullptr;
    m->count = m->used = m->capacity = m->index_size = 0;
    return true;
}

// The walk covers removed entries too (they stay until the next rebuild).
static bool map_column(Vm& vm, u64* a, u64* r, bool keys)
{
    MapObj* m = map(a[0]);
    // A null map reads as empty: its keys and values are the null array
    // (empty and frozen, as a new array of the unknown element type could
    // not be).
    if (m->header.flags & ObjNull) {
        *r = vm.program().null_array;
        return true;
    }
    if (!pay_scan(vm, (u64)m->used * sizeof(MapEntry)))
        return false;
    const TypeEntry& type = vm.program().types[m->type];
    ArrayObj* out = vm.heap().new_array(m->count, keys ? (u8)m->header.aux : m->header.elem_kind, 0,
        vm.program().type_code(keys ? type.a : type.b));
    if (!out)
        return vm.raise_out_of_memory();
    u32 n = 0;
    for (u32 i = 0; i < m->used; i++)
        if (m->entries[i].hash)
            out->items[n++] = keys ? m->entries[i].key : m->entries[i].value;
    *r = from_obj(out);
    return true;
}

bool m_keys(Vm& vm, u64* a, u64* r) { return map_column(vm, a, r, true); }
bool m_values(Vm& vm, u64* a, u64* r) { return map_column(vm, a, r, false); }

// The display text of the map ("{a: 1}"), as `"" + m` gives it.
bool m_to_string(Vm& vm, u64* a, u64* r) { return ret_display(vm, a[0], KindRef, r); }

}
