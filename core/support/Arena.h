// Bump allocation for the compiler's short-lived data (names, syntax trees,
// types): freed all at once when compilation ends, or by reset() between
// units of work. alloc() returns null on failure.
#pragma once

#include "Memory.h"

namespace ks {

class Arena {
public:
    explicit Arena(Memory* memory) : m_memory(memory) {}
    Arena(const Arena&) = delete;
    ~Arena() { release(); }

    void* alloc(usize size)
    {
        if (size > ((usize)1 << 40))
            return nullptr;
        size = (size + 15) & ~(usize)15;
        if (size > m_left) {
            usize chunk = size + kHeader > kChunkSize ? size + kHeader : kChunkSize;
            Chunk* c = static_cast<Chunk*>(m_memory->alloc(chunk));
            if (!c)
                return nullptr;
            c->next = m_chunks;
            c->size = chunk;
            m_chunks = c;
            m_cursor = reinterpret_cast<u8*>(c) + kHeader;
            m_left = chunk - kHeader;
        }
        void* p = m_cursor;
        m_cursor += size;
        m_left -= size;
        return p;
    }

    template<typename T, typename... Args>
    T* make(Args&&... args)
    {
        void* p = alloc(sizeof(T));
        return p ? new (KsPlace {}, p) T(static_cast<Args&&>(args)...) : nullptr;
    }

    // Copy [n] bytes into the arena with a terminating NUL.
    char* copy_string(const char* s, usize n)
    {
        char* p = static_cast<char*>(alloc(n + 1));
        if (p) {
            // Most copies are names of a few bytes: no call for those.
            if (n <= 16) {
                for (usize i = 0; i < n; i++)
                    p[i] = s[i];
            } else {
                mem_copy(p, s, n);
            }
            p[n] = 0;
        }
        return p;
    }

    void release()
    {
        while (m_chunks) {
            Chunk* next = m_chunks->next;
            m_memory->free(m_chunks);
            m_chunks = next;
        }
        m_left = 0;
        m_cursor = nullptr;
    }

    // Frees everything allocated so far but keeps the newest chunk for what
    // comes next: an arena reset between units of work (a function body's
    // syntax tree) reuses the same, cache-warm memory each time.
    void reset()
    {
        if (!m_chunks)
            return;
        Chunk* keep = m_chunks;
        m_chunks = keep->next;
        release();
        keep->next = nullptr;
        m_chunks = keep;
        m_cursor = reinterpret_cast<u8*>(keep) + kHeader;
        m_left = keep->size - kHeader;
    }

private:
    struct Chunk {
        Chunk* next;
        usize size;   // Bytes, header included.
    };
    // Four pages less the slab's large-allocation header: chunks of 2032 bytes (a
    // kmalloc class) took a page each and left half of it unused.
    static constexpr usize kChunkSize = 4 * 4096 - 128;
    static constexpr usize kHeader = (sizeof(Chunk) + 15) & ~(usize)15;   // Keeps objects 16-byte aligned.
    Memory* m_memory;
    Chunk* m_chunks { nullptr };
    u8* m_cursor { nullptr };
    usize m_left { 0 };
};

// Bump allocation in 1 KiB slab blocks for what lives as long as a loaded
// program (compiled code, classes, names): packed together instead of spread
// over a dozen size classes, and freed all at once. Plain data, so that it
// can sit in zeroed structures: init() and release() by hand. An object too
// big for a block gets a chunk of its own.
struct BlockArena {
    struct Chunk {
        u8 reserved[kRawBlockHeader];   // The slab's block header.
        Chunk* next;
        u64 own;        // 1: a chunk of its own from kmalloc, 0: a block.
    };
    static constexpr usize kHeader = sizeof(Chunk);
    static constexpr usize kRoom = kSlabBlockSize - kHeader;

    Memory* memory;
    Chunk* chunks;
    u8* cursor;
    usize left;

    void init(Memory* m)
    {
        memory = m;
        chunks = nullptr;
        cursor = nullptr;
        left = 0;
    }

    void* alloc(usize size)
    {
        size = (size + 7) & ~(usize)7;
        if (size > left) {
            if (size > kRoom / 2) {
                // Its own chunk; the current block stays in use.
                if (size > ((usize)1 << 40))
                    return nullptr;
                Chunk* c = static_cast<Chunk*>(memory->alloc(kHeader + size));
                if (!c)
                    return nullptr;
                c->own = 1;
                c->next = chunks;
                chunks = c;
                return reinterpret_cast<u8*>(c) + kHeader;
            }
            Chunk* c = static_cast<Chunk*>(memory->alloc_block());
            if (!c)
                return nullptr;
            c->own = 0;
            c->next = chunks;
            chunks = c;
            cursor = reinterpret_cast<u8*>(c) + kHeader;
            left = kRoom;
        }
        void* p = cursor;
        cursor += size;
        left -= size;
        return p;
    }

    void* alloc_zeroed(usize size) { return zero_filled(alloc(size), size); }

    // A copy of [size] bytes (null if [size] is 0 or memory is short).
    void* copy(const void* from, usize size)
    {
        if (!size)
            return nullptr;
        void* p = alloc(size);
        if (p)
            mem_copy(p, from, size);
        return p;
    }

    void release()
    {
        while (chunks) {
            Chunk* next = chunks->next;
            if (chunks->own)
                memory->free(chunks);
            else
                memory->free_block(chunks);
            chunks = next;
        }
        cursor = nullptr;
        left = 0;
    }
};

}
