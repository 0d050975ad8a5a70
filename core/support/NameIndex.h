// NameIndex: names to ids (several ids may share a name), for the symbol
// tables of the compiler, so that looking up a class, field, method, local,
// function, global or constant does not scan them all (a 1 MiB script may
// declare tens of thousands of each, and a scan per use made compile time
// quadratic).
//
// Open addressing over (hash, id) pairs. The caller confirms each candidate
// with its own comparison: find() walks the ids whose key hashes alike. Keys
// are hashed with a seed (random per compile when the host supplies one), so
// that a script cannot pick thousands of names that share one hash and turn
// every lookup back into a scan.
#pragma once

#include "Memory.h"

namespace ks {

// A hash of [n] bytes keyed by [seed]: FNV-1a from a secret starting state,
// then a mix that folds the high bits into the low ones. Plain FNV-1a is a
// T-function (its low bits depend only on low bits), so one colliding pair
// of prefixes yields any number of names whose low 32 bits collide, and the
// low bits pick the slot; after the fold every bit of the state counts, and
// states that collide under one seed are unrelated under another.
inline u64 hash_fold(u64 h)
{
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

// MurmurHash3's finalizer: a full avalanche, for keys that are not names.
inline u64 hash_finish(u64 h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

inline u64 hash_keyed(const void* data, usize n, u64 seed)
{
    const u8* p = static_cast<const u8*>(data);
    u64 h = 0xcbf29ce484222325ULL ^ seed;
    for (usize i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return hash_fold(h);
}

// hash_keyed() of the NUL-terminated [name], without measuring it first.
inline u64 hash_keyed_name(const char* name, u64 seed)
{
    u64 h = 0xcbf29ce484222325ULL ^ seed;
    for (const u8* p = reinterpret_cast<const u8*>(name); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return hash_fold(h);
}

// Mixes a 64-bit value (a pointer, a constant) with [seed]; for keys that
// are not names.
inline u64 hash_word(u64 x, u64 seed) { return hash_finish(x ^ seed); }

class NameIndex {
public:
    explicit NameIndex(Memory* memory, u64 seed = 0) : m_memory(memory), m_seed(seed) {}
    NameIndex(const NameIndex&) = delete;
    NameIndex& operator=(const NameIndex&) = delete;
    ~NameIndex() { m_memory->free(m_slots); }

    // Only before the first add(): the hashes of the entries depend on it.
    void set_seed(u64 seed) { m_seed = seed; }
    u64 seed() const { return m_seed; }
    u32 count() const { return m_count; }

    // The hash of a name (never 0: 0 marks an empty slot).
    u32 hash(const char* name) const { return nonzero(hash_keyed_name(name, m_seed)); }
    u32 hash_bytes_keyed(const void* bytes, usize n) const { return nonzero(hash_keyed(bytes, n, m_seed)); }
    u32 hash_value(u64 value) const { return nonzero(hash_word(value, m_seed)); }

    [[nodiscard]] bool add(const char* name, u32 id) { return add_hashed(hash(name), id); }

    // Makes this (empty) index a copy of [other], which has the same seed:
    // a subclass's index of fields or methods starts as its superclass's,
    // copied rather than rebuilt name by name. [more] entries may follow
    // without the table growing.
    [[nodiscard]] bool copy_from(const NameIndex& other, u32 more)
    {
        u32 size = other.m_size ? other.m_size : 16;
        while ((other.m_count + more) * 2 > size)
            size *= 2;
        if (size != other.m_size) {
            // Rehashed into a larger table: no growing step by step later.
            if (!resize(size))
                return false;
            for (u32 i = 0; i < other.m_size; i++)
                if (other.m_slots[i].hash)
                    insert(other.m_slots[i].hash, other.m_slots[i].id);
        } else {
            Slot* slots = static_cast<Slot*>(m_memory->alloc(sizeof(Slot) * size));
            if (!slots)
                return false;
            mem_copy(slots, other.m_slots, sizeof(Slot) * size);
            m_memory->free(m_slots);
            m_slots = slots;
            m_size = size;
        }
        m_count = other.m_count;
        return true;
    }

    // Adds [id] under a hash from one of the hash functions above.
    [[nodiscard]] bool add_hashed(u32 h, u32 id)
    {
        if ((m_count + 1) * 2 > m_size && !grow())
            return false;
        insert(h, id);
        m_count++;
        return true;
    }

    // Calls match(id) for each id under a name hashing like [name] until it
    // returns true; returns that id, or -1.
    template<typename Match>
    i64 find(const char* name, Match match) const
    {
        return find_hashed(hash(name), match);
    }

    template<typename Match>
    i64 find_hashed(u32 h, Match match) const
    {
        const u32* id = const_cast<NameIndex*>(this)->find_slot(h, match);
        return id ? (i64)*id : -1;
    }

    // As find_hashed(), but returns the id's place in the index (or null),
    // so that the caller can replace the id: the compiler's index of locals
    // points each name at its innermost declaration and moves it back out
    // when a scope ends.
    template<typename Match>
    u32* find_slot(u32 h, Match match)
    {
        if (!m_count)
            return nullptr;
        u32 mask = m_size - 1;
        for (u32 i = h & mask; m_slots[i].hash; i = (i + 1) & mask)
            if (m_slots[i].hash == h && match(m_slots[i].id))
                return &m_slots[i].id;
        return nullptr;
    }

private:
    struct Slot {
        u32 hash;   // 0: empty.
        u32 id;
    };

    static u32 nonzero(u64 h)
    {
        u32 x = (u32)h;
        return x ? x : 1;
    }

    void insert(u32 h, u32 id)
    {
        u32 mask = m_size - 1;
        u32 i = h & mask;
        while (m_slots[i].hash)
            i = (i + 1) & mask;
        m_slots[i] = Slot { h, id };
    }

    bool grow() { return resize(m_size ? m_size * 2 : 16); }

    // Moves the entries into a table of [size] slots (a power of two).
    bool resize(u32 size)
    {
        Slot* slots = static_cast<Slot*>(m_memory->alloc_zeroed(sizeof(Slot) * size));
        if (!slots)
            return false;
        Slot* old = m_slots;
        u32 old_size = m_size;
        m_slots = slots;
        m_size = size;
        for (u32 i = 0; i < old_size; i++)
            if (old[i].hash)
                insert(old[i].hash, old[i].id);
        m_memory->free(old);
        return true;
    }

    Memory* m_memory;
    u64 m_seed;
    Slot* m_slots { nullptr };
    u32 m_size { 0 };
    u32 m_count { 0 };
};

}
