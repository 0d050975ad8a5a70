// Text assembled piece by piece, for messages and string conversions.
// Growth failure is sticky: has_failed() tells the caller at the end.
#pragma once

#include "Memory.h"

namespace ks {

class StringBuilder {
public:
    explicit StringBuilder(Memory* memory) : m_memory(memory) {}
    StringBuilder(const StringBuilder&) = delete;
    ~StringBuilder()
    {
        if (m_data)
            m_memory->free(m_data);
    }

    void append(const char* s, usize n)
    {
        if (m_failed || !reserve(n))
            return;
        mem_copy(m_data + m_size, s, n);
        m_size += n;
        m_data[m_size] = 0;
    }
    void append(const char* s) { append(s, str_length(s)); }
    void append_char(char c) { append(&c, 1); }
    void append_int(i64 value)
    {
        char buffer[24];
        usize n = format_int(value, buffer);
        append(buffer, n);
    }

    // Writes the decimal form of [value] into [out] (24 bytes); returns its length.
    static usize format_int(i64 value, char* out)
    {
        char tmp[24];
        usize n = 0;
        u64 v = value < 0 ? (u64)0 - (u64)value : (u64)value;
        do {
            tmp[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        usize len = 0;
        if (value < 0)
            out[len++] = '-';
        while (n)
            out[len++] = tmp[--n];
        out[len] = 0;
        return len;
    }

    const char* data() const { return m_data ? m_data : ""; }
    usize size() const { return m_size; }
    bool has_failed() const { return m_failed; }
    void clear()
    {
        m_size = 0;
        if (m_data)
            m_data[0] = 0;
    }

private:
    bool reserve(usize n)
    {
        usize need;
        if (!size_add(m_size, n + 1, &need)) {
            m_failed = true;
            return false;
        }
        if (need <= m_capacity)
            return true;
        usize capacity = m_capacity ? m_capacity * 2 : 64;
        while (capacity < need)
            capacity *= 2;
        char* data = static_cast<char*>(m_memory->alloc(capacity));
        if (!data) {
            m_failed = true;
            return false;
        }
        if (m_data) {
            mem_copy(data, m_data, m_size + 1);
            m_memory->free(m_data);
        }
        m_data = data;
        m_capacity = capacity;
        return true;
    }

    Memory* m_memory;
    char* m_data { nullptr };
    usize m_size { 0 };
    usize m_capacity { 0 };
    bool m_failed { false };
};

}
