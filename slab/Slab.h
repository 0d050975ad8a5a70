// The slab allocator: the kscript engine's only memory manager.
//
// Shaped like the kernel's kmem_cache API (seed 002 describes SLOBA, which we
// improve on): a cache hands out objects of one size from pages cut into equal
// slots; each page keeps a LIFO free list threaded through its free slots
// (all of them, from the moment the page is cut), with the list head in a
// header at the start of the page. Pages with free
// slots sit on a partial list, so freed space is always reused; pages that
// become empty go back to the platform once a small reserve is kept.
// kmalloc()-style allocation picks a cache by size class; anything larger than
// the biggest class gets its own run of pages.
//
// One SlabAllocator belongs to one script (one kscript state), which is never
// entered by two threads at once: no locks, no atomics, no interrupt masking
// on any path. Pages come from the platform interface (ksp_pages_alloc).
#pragma once

#include "../core/support/Types.h"

namespace ks {

constexpr usize kSlabPageSize = 4096;
// A cache's first slabs, up to a page's worth, are 1 KiB blocks when an
// object fits (pages split in four, shared by the caches): a script that
// allocates a little of many sizes holds a few pages, not one per size.
constexpr usize kSlabBlockSize = 1024;
constexpr u32 kBlocksPerPage = (u32)(kSlabPageSize / kSlabBlockSize);

enum SlabFlags : u32 {
    SlabNone = 0,
    SlabZero = 1u << 0,       // Objects are handed out zero-filled.
    SlabRcu = 1u << 1,        // Frees are deferred until rcu_barrier().
    SlabDebug = 1u << 2,      // Red zones, poisoning, double-free detection.
};

struct SlabCache;
class SlabAllocator;

// Header at the start of every slab (a page or a block), of every large
// allocation and of every free block. Kept at 48 bytes: it is paid on every
// page.
struct SlabPage {
    u32 magic;            // One of the k*Magic values in Slab.cpp.
    u32 in_use;           // Objects handed out from this slab (+ kCurrentBias while current).
    u16 capacity;         // Slots in this slab.
    u16 page_free_blocks; // Block 0 of a page split into blocks: how many of its blocks are free.
    u32 pages;            // Page count of a large allocation.
    SlabCache* cache;     // Owner (null for a large allocation).
    union {
        void* free_list;  // First free slot; each holds the next. Every free
                          // slot is on it (a new slab threads all of them), so
                          // a slab is full exactly when this is null.
        usize requested;  // Bytes asked for (large allocations).
    };
    SlabPage* prev;       // Neighbours in the cache's partial or full list.
    SlabPage* next;
};
static_assert(sizeof(SlabPage) == 48, "slab header");

// Bytes at the start of a raw block that the allocator keeps (the block
// header's magic and, in a page's first block, its free-block count).
constexpr usize kRawBlockHeader = 16;
static_assert(__builtin_offsetof(SlabPage, cache) == kRawBlockHeader, "raw block header");

// Statistics of one cache, as printed by --slabinfo and /proc/kscript/slabinfo.
struct SlabStats {
    const char* name;
    usize object_size;     // Slot size, including any debug red zones.
    usize objects_in_use;  // Counted on the slabs when reported.
    usize objects_total;   // Slots on all slabs held.
    usize pages;           // Slabs held (pages or blocks).
    usize bytes_held;      // Their bytes.
    usize bytes_requested; // Sum of the sizes callers asked for (kmalloc).
    u64 allocs;
    u64 frees;             // allocs - objects_in_use (not counted: kfree's fast path stays short).
    u64 failures;          // Allocations that failed for lack of pages.
};

// A cache's counters (SlabStats is what they are reported as).
struct SlabCounters {
    u64 allocs;
    u64 bytes_requested;  // Debug caches only: sum of the sizes asked for.
    u32 pages;            // Slabs held (pages or blocks).
    u32 objects_total;    // Slots on them.
    u32 bytes_held;
    u32 failures;
};

// Kept small: every script's allocator embeds one per kmalloc class.
struct SlabCache {
    SlabPage* current;    // Slab allocations come from first (an empty stand-in when none).
    SlabPage* partial;    // Slabs with at least one free slot (not current).
    SlabPage* full;       // Slabs with no free slot.
    SlabPage* empty;      // Reserve of empty slabs kept for reuse.
    const char* name;
    SlabCounters stats;
    u16 object_size;      // Slot size in bytes (>= requested, aligned).
    u16 payload_size;     // Size the user asked for.
    u16 align;
    u16 first_offset;     // Offset of the first slot from the slab start.
    u8 flags;
    u8 empty_count;
};
static_assert(sizeof(SlabCache) <= 96, "kmalloc caches are embedded in every script's state");

// A cache made by cache_create(): what kmalloc classes do not need.
struct SlabCreatedCache {
    SlabCache cache;
    void* rcu_pending;    // Objects freed under SlabRcu, not yet returned.
    SlabCreatedCache* next_cache; // In the allocator's list of created caches.
};

// Red zone size on each side of a debug object, and the poison bytes.
constexpr u32 kSlabRedZone = 16;
constexpr u8 kSlabPoisonFree = 0x6b;
constexpr u8 kSlabRedZoneByte = 0xbb;

// What a debug check found; reported through the allocator's report hook.
enum class SlabFault : u8 {
    DoubleFree,
    RedZoneOverwritten,
    UseAfterFree,
    InvalidFree,
};

using SlabFaultHandler = void (*)(void* context, SlabFault fault, const char* cache, const void* object);

constexpr u32 kKmallocClasses = 28;
constexpr usize kKmallocMax = 2024;
// Per kmalloc() size from 1 to kKmallocMax, by (size - 1) / 8: a byte
// offset into the kmalloc caches (kKmallocClass) or the slot size
// (kKmallocRoundup). Computed with the classes in Slab.cpp.
struct KmallocTable {
    u16 entry[kKmallocMax / 8];
};
extern const KmallocTable kKmallocClass;
extern const KmallocTable kKmallocRoundup;

class SlabAllocator {
public:
    // Prepare the allocator in place; [debug] turns on SlabDebug for the
    // kmalloc caches. Allocates nothing until the first request.
    void init(bool debug = false);
    // Return every page to the platform, objects still allocated included.
    void destroy();

    SlabCache* cache_create(const char* name, usize size, usize align, u32 flags);
    void cache_destroy(SlabCache* cache);
    void* cache_alloc(SlabCache* cache);
    void cache_free(SlabCache* cache, void* object);
    // Fill [objects] with [count] allocations; returns how many were made
    // (all or none).
    usize cache_alloc_bulk(SlabCache* cache, usize count, void** objects);
    void cache_free_bulk(SlabCache* cache, usize count, void** objects);
    // Return empty reserve pages of [cache] (all caches if null); returns pages freed.
    usize shrink(SlabCache* cache = nullptr);
    // Hand objects freed into SlabRcu caches back to their pages.
    void rcu_barrier();

    // Atomic context (hooks): new pages come from ksp_pages_alloc_nowait(),
    // which never sleeps and fails sooner.
    void set_nowait(bool nowait) { m_nowait = nowait; }

    void* kmalloc(usize size);
    // kmalloc(), zero-filled.
    void* kzalloc(usize size);
    void* krealloc(void* object, usize new_size);
    void kfree(void* object);
    // kfree(), returning what ksize() said of the object (0 for null).
    usize kfree_usable(void* object);
    // Usable size of a kmalloc() object (0 for null or a pointer that is not
    // one).
    static usize ksize(const void* object);
    // What ksize() will say of a kmalloc(size) object, without one (0 when
    // no such object can exist).
    static usize kmalloc_size_roundup(usize size)
    {
        if (KS_LIKELY(size - 1 < kKmallocMax))
            return kKmallocRoundup.entry[(size - 1) >> 3];
        return size ? large_size_roundup(size) : kKmallocRoundup.entry[0];
    }

    // A raw 1 KiB block, 1 KiB-aligned, for callers that pack small data
    // themselves (the program arena). Its first kRawBlockHeader bytes belong
    // to the allocator. Freed with raw_block_free(), never with kfree().
    void* raw_block_alloc();
    void raw_block_free(void* block);
    // Whether caches may start with blocks (on by default). Off while a
    // script compiles: the compiler's short-lived data then takes whole pages,
    // which go back afterwards, instead of leaving holes among the blocks of
    // what stays.
    void set_blocks_enabled(bool on) { m_no_blocks = !on; }

    // Bytes of pages held from the platform, by all caches and large objects.
    usize bytes_held() const { return m_pages_held * kSlabPageSize; }
    usize pages_held() const { return m_pages_held; }
    // Bytes in slots handed out plus large objects' pages (computed).
    usize bytes_in_use();
    usize large_objects() const { return m_large_count; }
    usize raw_blocks() const { return m_raw_blocks; }
    u64 failures() const { return m_failures; }

    // Calls [fn] for each cache's statistics (kmalloc classes first).
    template<typename Fn>
    void for_each_cache(Fn fn)
    {
        auto report = [&](const SlabCache& c) {
            SlabStats st {};
            st.name = c.name;
            st.object_size = c.object_size;
            st.objects_in_use = objects_in_use(c);
            st.objects_total = c.stats.objects_total;
            st.pages = c.stats.pages;
            st.bytes_requested = (usize)c.stats.bytes_requested;
            st.bytes_held = c.stats.bytes_held;
            st.allocs = c.stats.allocs;
            st.frees = c.stats.allocs - st.objects_in_use;
            st.failures = c.stats.failures;
            fn(st);
        };
        for (u32 i = 0; i < kKmallocClasses; i++)
            report(m_kmalloc[i]);
        for (SlabCreatedCache* c = m_caches; c; c = c->next_cache)
            report(c->cache);
        SlabStats large = {};
        large.name = "kmalloc-large";
        large.objects_in_use = m_large_count;
        large.objects_total = m_large_count;
        large.pages = m_large_pages;
        large.bytes_held = m_large_pages * kSlabPageSize;
        large.bytes_requested = m_large_requested;
        fn(large);
        SlabStats blocks = {};
        blocks.name = "raw-blocks";   // raw_block_alloc(): the program arena.
        blocks.object_size = kSlabBlockSize;
        blocks.objects_in_use = blocks.objects_total = blocks.pages = m_raw_blocks;
        blocks.bytes_held = m_raw_blocks * kSlabBlockSize;
        fn(blocks);
    }

    void set_fault_handler(SlabFaultHandler handler, void* context)
    {
        m_fault_handler = handler;
        m_fault_context = context;
    }
    u64 faults_detected() const { return m_faults; }

    // Failure injection for tests: every [n]th page request fails (0 = never).
    void fail_every_nth_page(u32 n) { m_fail_every = n; m_fail_counter = 0; }

private:
    friend struct SlabInternals;
    static usize objects_in_use(const SlabCache& cache);
    void init_cache(SlabCache* cache, const char* name, usize size, usize align, u32 flags);
    SlabPage* new_page(SlabCache* cache);
    void release_page(SlabCache* cache, SlabPage* page);
    void* refill_and_alloc(SlabCache* cache);
    void free_to_page(SlabPage* page, void* object);
    void page_transition(SlabPage* page, bool was_full);
    void* finish_alloc_slow(SlabCache* cache, void* object);
    void* kmalloc_slow(usize size, bool zero);
    static usize large_size_roundup(usize size);
    void kfree_slow(void* object);
    void* pages_alloc(usize npages);
    void pages_free(void* pages, usize npages);
    SlabPage* block_alloc();
    void block_free(SlabPage* block);
    void report(SlabFault fault, SlabCache* cache, const void* object);
    SlabCache* kmalloc_cache_for(usize size);

    SlabCache m_kmalloc[kKmallocClasses];
    usize m_fast_max;    // kmalloc() sizes below it may take the fast path: 0 in debug mode.
    SlabCreatedCache* m_caches;
    usize m_pages_held;
    usize m_large_count;
    usize m_large_pages;
    usize m_large_requested;
    u64 m_failures;
    u64 m_faults;
    SlabPage* m_large;   // Large allocations, freed by destroy() if still there.
    SlabPage* m_free_blocks;   // Free blocks of pages split into blocks.
    usize m_raw_blocks;        // Handed out by raw_block_alloc().
    bool m_no_blocks;
    u32 m_fail_every;
    u32 m_fail_counter;
    bool m_debug;
    bool m_nowait;             // set_nowait(): pages only without sleeping
    SlabFaultHandler m_fault_handler;
    void* m_fault_context;
};

}
