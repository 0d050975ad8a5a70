// Memory: the allocation interface of one kscript state. Everything the
// engine allocates (compiler data, bytecode, heap objects) goes through here,
// into the state's own slab allocator, and counts against the state's quota.
#pragma once

#include "../../slab/Slab.h"
#include "Types.h"

#ifdef KS_ALLOC_TRACE
// Benchmark builds only (bench/slab): every allocation and free is reported.
extern "C" void ks_trace_alloc(void* pointer, usize size);
extern "C" void ks_trace_free(void* pointer);
#endif

namespace ks {

class Memory {
public:
    void init(usize quota, bool debug)
    {
        m_slab.init(debug);
        m_quota = quota;
        m_used = 0;
        m_peak = 0;
        m_quota_hits = 0;
    }
    void destroy() { m_slab.destroy(); }
    // Atomic context: see SlabAllocator::set_nowait().
    void set_nowait(bool nowait) { m_slab.set_nowait(nowait); }

    // Returns null when the quota would be exceeded or pages are short.
    void* alloc(usize size)
    {
        if (KS_UNLIKELY(!within_quota(size)))
            return nullptr;
        void* p = m_slab.kmalloc(size);
        if (KS_UNLIKELY(!p))
            return nullptr;
        count(SlabAllocator::kmalloc_size_roundup(size), size);
#ifdef KS_ALLOC_TRACE
        ks_trace_alloc(p, size);
#endif
        return p;
    }
    void* alloc_zeroed(usize size) { return zero_filled(alloc(size), size); }
    void free(void* p)
    {
        if (!p)
            return;
#ifdef KS_ALLOC_TRACE
        ks_trace_free(p);
#endif
        m_used -= m_slab.kfree_usable(p);
    }

    // A 1 KiB block (its first kRawBlockHeader bytes reserved), for the
    // program arena.
    void* alloc_block()
    {
        if (!within_quota(kSlabBlockSize))
            return nullptr;
        void* p = m_slab.raw_block_alloc();
        if (!p)
            return nullptr;
        count(kSlabBlockSize, kSlabBlockSize);
        return p;
    }
    void free_block(void* p)
    {
        m_used -= kSlabBlockSize;
        m_slab.raw_block_free(p);
    }

    // Host memory the script caused (kernel objects, buffered output):
    // counted like the script's own, so the quota covers it. [bytes] > 0
    // fails, charging nothing, past the quota; < 0 gives bytes back.
    bool charge_external(i64 bytes)
    {
        if (bytes >= 0) {
            if (!within_quota((usize)bytes))
                return false;
            count((usize)bytes, 0);
            return true;
        }
        usize back = (usize)-bytes;
        m_used -= back < m_used ? back : m_used;
        return true;
    }

    usize used() const { return m_used; }
    usize peak() const { return m_peak; }
    usize quota() const { return m_quota; }
    u64 quota_hits() const { return m_quota_hits; }
    // Bytes ever allocated: the VM charges its budget for them.
    u64 allocated_total() const { return m_allocated_total; }
    SlabAllocator& slab() { return m_slab; }

private:
    bool within_quota(usize size)
    {
        if (KS_LIKELY(size <= m_quota && m_used <= m_quota - size))
            return true;
        m_quota_hits++;
        return false;
    }
    // [held] bytes taken for a request of [requested].
    void count(usize held, usize requested)
    {
        m_used += held;
        m_allocated_total += requested;
        if (m_used > m_peak)
            m_peak = m_used;
    }

    SlabAllocator m_slab;
    usize m_quota;
    usize m_used;
    usize m_peak;
    u64 m_quota_hits;
    u64 m_allocated_total { 0 };
};

}
