// Bump allocation for the compiler's short-lived data (tokens, AST, types):
// freed all at once when compilation ends. alloc() returns null on failure.
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
            mem_copy(p, s, n);
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

private:
    struct Chunk {
        Chunk* next;
    };
    static constexpr usize kChunkSize = 2032;
    static constexpr usize kHeader = (sizeof(Chunk) + 15) & ~(usize)15;   // Keeps objects 16-byte aligned.
    Memory* m_memory;
    Chunk* m_chunks { nullptr };
    u8* m_cursor { nullptr };
    usize m_left { 0 };
};

}
