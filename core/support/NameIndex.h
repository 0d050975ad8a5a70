// NameIndex: names to ids (several ids may share a name), for the symbol
// tables of the compiler, so that looking up a function or a global does not
// scan them all (a 10,000-line script has thousands).
//
// Open addressing over (hash, id) pairs. The caller confirms each candidate
// with its own comparison: find() walks the ids whose name hashes alike.
#pragma once

#include "Memory.h"

namespace ks {

class NameIndex {
public:
    explicit NameIndex(Memory* memory) : m_memory(memory) {}
    NameIndex(const NameIndex&) = delete;
    NameIndex& operator=(const NameIndex&) = delete;
    ~NameIndex() { m_memory->free(m_slots); }

    static u32 hash(const char* name)
    {
        u32 h = (u32)hash_bytes(name, str_length(name));
        return h ? h : 1;
    }

    [[nodiscard]] bool add(const char* name, u32 id)
    {
        if ((m_count + 1) * 2 > m_size && !grow())
            return false;
        insert(hash(name), id);
        m_count++;
        return true;
    }

    // Calls match(id) for each id under a name hashing like [name] until it
    // returns true; returns that id, or -1.
    template<typename Match>
    i64 find(const char* name, Match match) const
    {
        if (!m_count)
            return -1;
        u32 h = hash(name);
        u32 mask = m_size - 1;
        for (u32 i = h & mask; m_slots[i].hash; i = (i + 1) & mask)
            if (m_slots[i].hash == h && match(m_slots[i].id))
                return m_slots[i].id;
        return -1;
    }

private:
    struct Slot {
        u32 hash;   // 0: empty.
        u32 id;
    };

    void insert(u32 h, u32 id)
    {
        u32 mask = m_size - 1;
        u32 i = h & mask;
        while (m_slots[i].hash)
            i = (i + 1) & mask;
        m_slots[i] = Slot { h, id };
    }

    bool grow()
    {
        u32 size = m_size ? m_size * 2 : 16;
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
    Slot* m_slots { nullptr };
    u32 m_size { 0 };
    u32 m_count { 0 };
};

}
