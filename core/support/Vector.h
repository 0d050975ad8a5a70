// A growable array whose growth can fail: try_append() says so instead of
// throwing or aborting. Elements are moved with memcpy, so T must be trivially
// relocatable (every use in the engine is plain data or pointers).
#pragma once

#include "Memory.h"

namespace ks {

template<typename T>
class Vector {
public:
    Vector() = default;
    explicit Vector(Memory* memory) : m_memory(memory) {}
    Vector(const Vector&) = delete;
    Vector& operator=(const Vector&) = delete;
    ~Vector() { release(); }

    void set_memory(Memory* memory) { m_memory = memory; }

    [[nodiscard]] bool try_append(const T& value)
    {
        if (m_size == m_capacity && !try_grow(m_size + 1))
            return false;
        m_data[m_size++] = value;
        return true;
    }
    [[nodiscard]] bool try_resize(u32 size)
    {
        if (size > m_capacity && !try_grow(size))
            return false;
        for (u32 i = m_size; i < size; i++)
            m_data[i] = T();
        m_size = size;
        return true;
    }
    [[nodiscard]] bool try_reserve(u32 capacity) { return capacity <= m_capacity || try_grow(capacity); }

    T& operator[](u32 i) { return m_data[i]; }
    const T& operator[](u32 i) const { return m_data[i]; }
    T& last() { return m_data[m_size - 1]; }
    void pop() { m_size--; }
    void shrink(u32 size) { m_size = size; }
    void clear() { m_size = 0; }
    u32 capacity() const { return m_capacity; }
    // Exchanges contents with [other] (which allocates from the same memory).
    void swap(Vector& other)
    {
        T* data = m_data;
        u32 size = m_size, capacity = m_capacity;
        m_data = other.m_data;
        m_size = other.m_size;
        m_capacity = other.m_capacity;
        other.m_data = data;
        other.m_size = size;
        other.m_capacity = capacity;
    }
    u32 size() const { return m_size; }
    bool is_empty() const { return m_size == 0; }
    T* data() { return m_data; }
    const T* data() const { return m_data; }
    T* begin() { return m_data; }
    T* end() { return m_data + m_size; }

    void release()
    {
        if (m_data && m_memory)
            m_memory->free(m_data);
        m_data = nullptr;
        m_size = m_capacity = 0;
    }

    // Hand the buffer over to the caller (who frees it through Memory).
    T* leak(u32* size)
    {
        T* data = m_data;
        *size = m_size;
        m_data = nullptr;
        m_size = m_capacity = 0;
        return data;
    }

private:
    bool try_grow(u32 needed)
    {
        u32 capacity = m_capacity < 4 ? 4 : m_capacity;
        while (capacity < needed) {
            if (capacity > 0x7fffffffu / 2)
                return false;
            capacity *= 2;
        }
        usize bytes;
        if (!size_mul(capacity, sizeof(T), &bytes))
            return false;
        T* data = static_cast<T*>(m_memory->alloc(bytes));
        if (!data)
            return false;
        if (m_data) {
            mem_copy(static_cast<void*>(data), m_data, (usize)m_size * sizeof(T));
            m_memory->free(m_data);
        }
        m_data = data;
        m_capacity = capacity;
        return true;
    }

    Memory* m_memory { nullptr };
    T* m_data { nullptr };
    u32 m_size { 0 };
    u32 m_capacity { 0 };
};

}
