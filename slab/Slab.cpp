// The slab allocator. See Slab.h for the design; the invariants:
//  - A page is on exactly one of its cache's lists (current, partial, full,
//    empty) and its in_use count equals the slots not on its free list.
//  - current is null or a page with at least one free slot... except right
//    after its last slot is taken, when it stays current until the next
//    allocation moves it to the full list.
//  - A page whose in_use drops to zero leaves the partial list: it becomes the
//    reserve (empty list, at most kEmptyReserve pages) or goes back to the
//    platform.
#include "Slab.h"

#include "../include/kscript_platform.h"

// Under AddressSanitizer (userspace test builds) free slots and the unused
// tail of each object are poisoned, so that ASan sees overruns and
// use-after-free inside slab pages too. The first word of a free slot holds
// the free-list link and stays readable. Debug mode has its own checks and
// is left alone.
#if defined(__SANITIZE_ADDRESS__)
#define KS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KS_ASAN 1
#endif
#endif
#ifdef KS_ASAN
extern "C" void __asan_poison_memory_region(void const volatile* addr, usize size);
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, usize size);
#define ASAN_POISON(p, n) __asan_poison_memory_region((p), (n))
#define ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define ASAN_POISON(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace ks {

static constexpr u32 kSlabPageMagic = 0x5ab5ab01;
static constexpr u32 kLargePageMagic = 0x5ab5ab02;
static constexpr u32 kSlabBlockMagic = 0x5ab5ab03;
static constexpr u32 kFreeBlockMagic = 0x5ab5ab04;
static constexpr u32 kRawBlockMagic = 0x5ab5ab05;
static constexpr u32 kEmptyReserve = 1;
static constexpr u64 kTagAllocated = 0xa110ca7edULL;
static constexpr u64 kTagFree = 0xf4eef4eeULL;

// 8-byte steps up to 64 bytes (seed 002's bins), where most engine objects
// fall (an instance with two fields is 40 bytes), then coarser classes.
static const u16 kClassSizes[kKmallocClasses] = {
    16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024, 1360, 2032,
};

static const char* const kClassNames[kKmallocClasses] = {
    "kmalloc-16", "kmalloc-24", "kmalloc-32", "kmalloc-40", "kmalloc-48",
    "kmalloc-56", "kmalloc-64", "kmalloc-80", "kmalloc-96", "kmalloc-128",
    "kmalloc-160", "kmalloc-192", "kmalloc-256", "kmalloc-320", "kmalloc-384",
    "kmalloc-512", "kmalloc-768", "kmalloc-1024", "kmalloc-1360", "kmalloc-2032",
};

static inline SlabPage* page_base(const void* object)
{
    return reinterpret_cast<SlabPage*>(reinterpret_cast<uptr>(object) & ~(uptr)(kSlabPageSize - 1));
}

// A page-sized slab or a large allocation has its header at the page start;
// otherwise the page is split into blocks and the header starts the block.
static KS_ALWAYS_INLINE SlabPage* page_of(const void* object)
{
    SlabPage* page = page_base(object);
    if (KS_LIKELY(page->magic == kSlabPageMagic) || page->magic == kLargePageMagic)
        return page;
    return reinterpret_cast<SlabPage*>(reinterpret_cast<uptr>(object) & ~(uptr)(kSlabBlockSize - 1));
}

static inline constexpr usize align_up(usize n, usize a) { return (n + a - 1) & ~(a - 1); }

// A large object follows its page header, 16-byte aligned.
static constexpr usize kLargeHeader = align_up(sizeof(SlabPage), 16);

static inline void* next_free(void* object) { return *static_cast<void**>(object); }
static inline void set_next_free(void* object, void* next) { *static_cast<void**>(object) = next; }

static void list_remove(SlabPage** head, SlabPage* page)
{
    if (page->prev)
        page->prev->next = page->next;
    else
        *head = page->next;
    if (page->next)
        page->next->prev = page->prev;
    page->prev = page->next = nullptr;
}

static void list_push(SlabPage** head, SlabPage* page)
{
    page->prev = nullptr;
    page->next = *head;
    if (*head)
        (*head)->prev = page;
    *head = page;
}

void SlabAllocator::init(bool debug)
{
    mem_set(this, 0, sizeof(*this));
    m_debug = debug;
    for (u32 i = 0; i < kKmallocClasses; i++)
        init_cache(&m_kmalloc[i], kClassNames[i], kClassSizes[i], 8, debug ? SlabDebug : SlabNone);
}

void SlabAllocator::init_cache(SlabCache* cache, const char* name, usize size, usize align, u32 flags)
{
    mem_set(cache, 0, sizeof(*cache));
    if (align < 8)
        align = 8;
    usize payload = align_up(size < 8 ? 8 : size, 8);
    usize slot = (flags & SlabDebug) ? align_up(kSlabRedZone + payload + kSlabRedZone, align) : align_up(payload, align);
    cache->name = name;
    cache->payload_size = (u16)size;
    cache->object_size = (u16)slot;
    cache->align = (u16)align;
    cache->flags = (u8)flags;
    cache->first_offset = (u16)align_up(sizeof(SlabPage), align);
    cache->objects_per_page = (u16)((kSlabPageSize - cache->first_offset) / slot);
}

void* SlabAllocator::pages_alloc(usize npages)
{
    if (m_fail_every && ++m_fail_counter >= m_fail_every) {
        m_fail_counter = 0;
        m_failures++;
        return nullptr;
    }
    void* p = ksp_pages_alloc(npages);
    if (!p) {
        m_failures++;
        return nullptr;
    }
    m_pages_held += npages;
    return p;
}

void SlabAllocator::pages_free(void* pages, usize npages)
{
    m_pages_held -= npages;
    ksp_pages_free(pages, npages);
}

// Blocks: pages split in four. A page goes back to the platform when all
// four of its blocks are free again.
SlabPage* SlabAllocator::block_alloc()
{
    SlabPage* block = m_free_blocks;
    if (!block) {
        u8* page = static_cast<u8*>(pages_alloc(1));
        if (!page)
            return nullptr;
        for (u32 i = kBlocksPerPage; i-- > 1;) {
            SlabPage* free_block = reinterpret_cast<SlabPage*>(page + i * kSlabBlockSize);
            free_block->magic = kFreeBlockMagic;
            list_push(&m_free_blocks, free_block);
        }
        block = reinterpret_cast<SlabPage*>(page);
        block->page_free_blocks = kBlocksPerPage - 1;
        return block;
    }
    // The free block lowest in memory: blocks pack into few pages, and pages
    // whose blocks all come free go back (a few blocks per cache at most, so
    // the list is short).
    for (SlabPage* b = block->next; b; b = b->next)
        if (b < block)
            block = b;
    list_remove(&m_free_blocks, block);
    page_base(block)->page_free_blocks--;
    return block;
}

void SlabAllocator::block_free(SlabPage* block)
{
    block->magic = kFreeBlockMagic;
    list_push(&m_free_blocks, block);
    SlabPage* base = page_base(block);
    if (++base->page_free_blocks < kBlocksPerPage)
        return;
    for (u32 i = 0; i < kBlocksPerPage; i++)
        list_remove(&m_free_blocks, reinterpret_cast<SlabPage*>(reinterpret_cast<u8*>(base) + i * kSlabBlockSize));
    base->magic = 0;
    pages_free(base, 1);
}

void* SlabAllocator::raw_block_alloc()
{
    SlabPage* block = block_alloc();
    if (!block)
        return nullptr;
    block->magic = kRawBlockMagic;
    m_raw_blocks++;
    return block;
}

void SlabAllocator::raw_block_free(void* block)
{
    SlabPage* b = static_cast<SlabPage*>(block);
    if (!b || b->magic != kRawBlockMagic) {
        report(SlabFault::InvalidFree, nullptr, block);
        return;
    }
    m_raw_blocks--;
    block_free(b);
}

void SlabAllocator::report(SlabFault fault, SlabCache* cache, const void* object)
{
    m_faults++;
    if (m_fault_handler)
        m_fault_handler(m_fault_context, fault, cache ? cache->name : "?", object);
}

// Object pointer of slot [i] of [page].
static inline u8* slot_object(SlabCache* cache, SlabPage* page, u32 i)
{
    u8* slot = reinterpret_cast<u8*>(page) + cache->first_offset + (usize)i * cache->object_size;
    return (cache->flags & SlabDebug) ? slot + kSlabRedZone : slot;
}

static void debug_mark_free(SlabCache* cache, u8* object)
{
    u8* left = object - kSlabRedZone;
    *reinterpret_cast<u64*>(left) = kTagFree;
    *reinterpret_cast<u32*>(left + 8) = 0;
    mem_set(left + 12, kSlabRedZoneByte, kSlabRedZone - 12);
    usize payload = align_up(cache->payload_size < 8 ? 8 : cache->payload_size, 8);
    mem_set(object, kSlabPoisonFree, payload);
    mem_set(object + payload, kSlabRedZoneByte, cache->object_size - kSlabRedZone - payload);
}

// Left red zone: [0, 8) state tag, [8, 12) requested size, [12, 16) pattern.
// Everything from the requested size to the end of the slot is pattern too.
static void debug_mark_allocated(SlabCache* cache, u8* object, usize requested)
{
    u8* left = object - kSlabRedZone;
    *reinterpret_cast<u64*>(left) = kTagAllocated;
    *reinterpret_cast<u32*>(left + 8) = (u32)requested;
    mem_set(object + requested, kSlabRedZoneByte, cache->object_size - kSlabRedZone - requested);
}

SlabPage* SlabAllocator::new_page(SlabCache* cache)
{
    SlabPage* page;
    if (cache->empty) {
        page = cache->empty;
        list_remove(&cache->empty, page);
        cache->empty_count--;
        return page;
    }
    // Until a cache holds a page's worth of slabs, its slabs are blocks if an
    // object fits (debug slabs are always pages).
    bool block = !m_no_blocks && cache->stats.bytes_held < kSlabPageSize && !(cache->flags & SlabDebug)
        && cache->first_offset + cache->object_size <= kSlabBlockSize;
    page = block ? block_alloc() : static_cast<SlabPage*>(pages_alloc(1));
    if (!page)
        return nullptr;
    page->magic = block ? kSlabBlockMagic : kSlabPageMagic;
    page->size = (u32)(block ? kSlabBlockSize : kSlabPageSize);
    page->capacity = (page->size - cache->first_offset) / cache->object_size;
    page->in_use = 0;
    page->cache = cache;
    page->prev = page->next = nullptr;
    page->pages = 1;
    page->requested = 0;
    page->free_list = nullptr;
    if (cache->flags & SlabDebug) {
        // Debug pages get every slot marked free up front.
        void* head = nullptr;
        for (u32 i = page->capacity; i-- > 0;) {
            u8* object = slot_object(cache, page, i);
            debug_mark_free(cache, object);
            set_next_free(object, head);
            head = object;
        }
        page->free_list = head;
        page->fresh = page->capacity;
    } else {
        // Otherwise slots are handed out in address order as needed, without
        // touching the rest of the page.
        page->fresh = 0;
        ASAN_POISON(reinterpret_cast<u8*>(page) + cache->first_offset, page->size - cache->first_offset);
    }
    cache->stats.pages++;
    cache->stats.objects_total += page->capacity;
    cache->stats.bytes_held += page->size;
    return page;
}

void SlabAllocator::release_page(SlabCache* cache, SlabPage* page)
{
    ASAN_UNPOISON(page, page->size);
    cache->stats.pages--;
    cache->stats.objects_total -= page->capacity;
    cache->stats.bytes_held -= page->size;
    if (page->magic == kSlabBlockMagic) {
        block_free(page);
        return;
    }
    page->magic = 0;
    pages_free(page, 1);
}

void* SlabAllocator::refill_and_alloc(SlabCache* cache)
{
    if (cache->current)
        list_push(&cache->full, cache->current);
    cache->current = nullptr;
    SlabPage* page = cache->partial;
    if (page)
        list_remove(&cache->partial, page);
    else
        page = new_page(cache);
    if (!page) {
        cache->stats.failures++;
        return nullptr;
    }
    cache->current = page;
    void* object = page->free_list;
    if (object)
        page->free_list = next_free(object);
    else
        object = slot_object(cache, page, page->fresh++);
    page->in_use++;
    return object;
}

// Debug bookkeeping and zeroing after an allocation: off the fast path.
KS_NOINLINE void* SlabAllocator::finish_alloc_slow(SlabCache* cache, void* object)
{
    if (cache->flags & SlabDebug) {
        u8* o = static_cast<u8*>(object);
        usize payload = align_up(cache->payload_size < 8 ? 8 : cache->payload_size, 8);
        for (usize i = 8; i < payload; i++) {
            if (o[i] != kSlabPoisonFree) {
                report(SlabFault::UseAfterFree, cache, object);
                break;
            }
        }
        debug_mark_allocated(cache, o, cache->payload_size);
    } else {
        ASAN_UNPOISON(object, cache->payload_size);
    }
    if (cache->flags & SlabZero)
        mem_set(object, 0, cache->payload_size);
    return object;
}

// A slot of the cache's current slab (a freed one, else a fresh one), or
// null when the current slab has none: the part of every allocation that
// needs no list work.
static KS_ALWAYS_INLINE void* take_slot(SlabCache* cache)
{
    SlabPage* page = cache->current;
    if (KS_UNLIKELY(page == nullptr))
        return nullptr;
    void* object = page->free_list;
    if (KS_LIKELY(object != nullptr))
        page->free_list = next_free(object);
    else if (page->fresh < page->capacity)   // Never on debug slabs: their slots start on the free list.
        object = reinterpret_cast<u8*>(page) + cache->first_offset + (usize)page->fresh++ * cache->object_size;
    else
        return nullptr;
    page->in_use++;
    return object;
}

void* SlabAllocator::cache_alloc(SlabCache* cache)
{
    void* object = take_slot(cache);
    if (KS_UNLIKELY(!object)) {
        object = refill_and_alloc(cache);
        if (!object)
            return nullptr;
    }
    cache->stats.allocs++;
    if (KS_UNLIKELY(cache->flags & (SlabDebug | SlabZero)))
        return finish_alloc_slow(cache, object);
    ASAN_UNPOISON(object, cache->payload_size);
    return object;
}

KS_ALWAYS_INLINE void SlabAllocator::free_to_page(SlabCache* cache, SlabPage* page, void* object)
{
    if (!(cache->flags & SlabDebug)) {
        ASAN_UNPOISON(object, 8);
        ASAN_POISON(static_cast<u8*>(object) + 8, cache->object_size - 8);
    }
    bool was_full = page->in_use == page->capacity;
    set_next_free(object, page->free_list);
    page->free_list = object;
    page->in_use--;
    cache->stats.frees++;
    if (page == cache->current || (!was_full && page->in_use))
        return;
    page_transition(cache, page, was_full);
}

// A free made [page] leave the full list or become empty.
KS_NOINLINE void SlabAllocator::page_transition(SlabCache* cache, SlabPage* page, bool was_full)
{
    if (was_full)
        list_remove(&cache->full, page);
    else if (page->in_use == 0)
        list_remove(&cache->partial, page);
    if (page->in_use == 0) {
        if (cache->empty_count < kEmptyReserve) {
            list_push(&cache->empty, page);
            cache->empty_count++;
        } else {
            release_page(cache, page);
        }
        return;
    }
    if (was_full)
        list_push(&cache->partial, page);
}

void SlabAllocator::cache_free(SlabCache* cache, void* object)
{
    if (!object)
        return;
    SlabPage* page = page_of(object);
    if (KS_UNLIKELY(cache->flags & SlabDebug)) {
        u8* o = static_cast<u8*>(object);
        usize offset = (usize)(o - reinterpret_cast<u8*>(page));
        if (page->magic != kSlabPageMagic || page->cache != cache || offset < cache->first_offset + kSlabRedZone
            || (offset - cache->first_offset - kSlabRedZone) % cache->object_size != 0) {
            report(SlabFault::InvalidFree, cache, object);
            return;
        }
        u64 tag = *reinterpret_cast<u64*>(o - kSlabRedZone);
        if (tag == kTagFree) {
            report(SlabFault::DoubleFree, cache, object);
            return;
        }
        if (tag != kTagAllocated) {
            report(SlabFault::RedZoneOverwritten, cache, object);
            return;
        }
        bool zone_ok = true;
        for (u32 i = 12; i < kSlabRedZone; i++)
            zone_ok &= (o - kSlabRedZone)[i] == kSlabRedZoneByte;
        usize requested = *reinterpret_cast<u32*>(o - kSlabRedZone + 8);
        for (usize i = requested; i < cache->object_size - kSlabRedZone; i++)
            zone_ok &= o[i] == kSlabRedZoneByte;
        if (!zone_ok)
            report(SlabFault::RedZoneOverwritten, cache, object);
        debug_mark_free(cache, o);
    }
    if (KS_UNLIKELY(cache->flags & SlabRcu)) {
        // Deferred: the object stays allocated until rcu_barrier().
        set_next_free(object, cache->rcu_pending);
        cache->rcu_pending = object;
        return;
    }
    free_to_page(cache, page, object);
}

void SlabAllocator::rcu_barrier()
{
    auto drain = [this](SlabCache* cache) {
        void* object = cache->rcu_pending;
        cache->rcu_pending = nullptr;
        while (object) {
            void* next = next_free(object);
            free_to_page(cache, page_of(object), object);
            object = next;
        }
    };
    for (SlabCache* c = m_caches; c; c = c->next_cache)
        drain(c);
}

usize SlabAllocator::cache_alloc_bulk(SlabCache* cache, usize count, void** objects)
{
    for (usize i = 0; i < count; i++) {
        objects[i] = cache_alloc(cache);
        if (!objects[i]) {
            cache_free_bulk(cache, i, objects);
            return 0;
        }
    }
    return count;
}

void SlabAllocator::cache_free_bulk(SlabCache* cache, usize count, void** objects)
{
    for (usize i = 0; i < count; i++)
        cache_free(cache, objects[i]);
}

SlabCache* SlabAllocator::cache_create(const char* name, usize size, usize align, u32 flags)
{
    if (size == 0 || size > kKmallocMax || (align & (align - 1)) || align > 256)
        return nullptr;
    if (m_debug)
        flags |= SlabDebug;
    SlabCache* cache = static_cast<SlabCache*>(kmalloc(sizeof(SlabCache)));
    if (!cache)
        return nullptr;
    init_cache(cache, name, size, align, flags);
    if (cache->objects_per_page == 0) {
        kfree(cache);
        return nullptr;
    }
    cache->next_cache = m_caches;
    m_caches = cache;
    return cache;
}

static void release_list(SlabAllocator* self, SlabCache* cache, SlabPage* head, void (*fn)(SlabAllocator*, SlabCache*, SlabPage*))
{
    while (head) {
        SlabPage* next = head->next;
        fn(self, cache, head);
        head = next;
    }
}

struct SlabInternals {
    static void drop(SlabAllocator* self, SlabCache* cache, SlabPage* page)
    {
        cache->stats.frees += page->in_use;
        self->release_page(cache, page);
    }
    static void drop_all(SlabAllocator* self, SlabCache* cache)
    {
        if (cache->current)
            drop(self, cache, cache->current);
        cache->current = nullptr;
        release_list(self, cache, cache->partial, drop);
        release_list(self, cache, cache->full, drop);
        release_list(self, cache, cache->empty, drop);
        cache->partial = cache->full = cache->empty = nullptr;
        cache->empty_count = 0;
        cache->rcu_pending = nullptr;
    }
};

void SlabAllocator::cache_destroy(SlabCache* cache)
{
    if (!cache)
        return;
    SlabInternals::drop_all(this, cache);
    for (SlabCache** p = &m_caches; *p; p = &(*p)->next_cache) {
        if (*p == cache) {
            *p = cache->next_cache;
            break;
        }
    }
    kfree(cache);
}

usize SlabAllocator::shrink(SlabCache* only)
{
    usize freed = 0;
    auto shrink_one = [&](SlabCache* cache) {
        if (cache->current && cache->current->in_use == 0) {
            release_page(cache, cache->current);
            cache->current = nullptr;
            freed++;
        }
        while (cache->empty) {
            SlabPage* page = cache->empty;
            list_remove(&cache->empty, page);
            cache->empty_count--;
            release_page(cache, page);
            freed++;
        }
    };
    if (only) {
        shrink_one(only);
        return freed;
    }
    for (u32 i = 0; i < kKmallocClasses; i++)
        shrink_one(&m_kmalloc[i]);
    for (SlabCache* c = m_caches; c; c = c->next_cache)
        shrink_one(c);
    return freed;
}

SlabCache* SlabAllocator::kmalloc_cache_for(SlabAllocator* self, usize size)
{
    // Up to 256 bytes a table indexed by size / 8 (rounded up) gives the
    // class; above, the few large classes are scanned.
    static const u8 kIndex[33] = {
        0, 0, 0, 1, 2, 3, 4, 5, 6,         // 0..64 in 8-byte steps
        7, 7, 8, 8, 9, 9, 9, 9,            // 72..128
        10, 10, 10, 10, 11, 11, 11, 11,    // 136..192
        12, 12, 12, 12, 12, 12, 12, 12,    // 200..256
    };
    if (size <= 256)
        return &self->m_kmalloc[kIndex[(size + 7) >> 3]];
    for (u32 i = 13; i < kKmallocClasses; i++)
        if (size <= kClassSizes[i])
            return &self->m_kmalloc[i];
    return nullptr;
}

// The fast path: a small size, a slot on the current slab, no debugging or
// zeroing; everything else is out of line, so that this needs no stack frame.
void* SlabAllocator::kmalloc(usize size, u32 flags)
{
    if (KS_LIKELY(size - 1 < kKmallocMax) && KS_LIKELY(!m_debug) && KS_LIKELY(!(flags & SlabZero))) {
        SlabCache* cache = kmalloc_cache_for(this, size);
        if (void* object = take_slot(cache)) {
            cache->stats.allocs++;
            ASAN_UNPOISON(object, size);
            ASAN_POISON(static_cast<u8*>(object) + size, cache->payload_size - size);
            return object;
        }
    }
    return kmalloc_slow(size, flags);
}

KS_NOINLINE void* SlabAllocator::kmalloc_slow(usize size, u32 flags)
{
    if (size == 0)
        size = 1;
    if (size <= kKmallocMax) {
        SlabCache* cache = kmalloc_cache_for(this, size);
        void* object = cache_alloc(cache);
        if (!object)
            return nullptr;
        if (!m_debug)
            ASAN_POISON(static_cast<u8*>(object) + size, cache->payload_size - size);
        if (m_debug) {
            // Only debug mode keeps the requested size (in the red zone).
            debug_mark_allocated(cache, static_cast<u8*>(object), size);
            cache->stats.bytes_requested += size;
        }
        if (flags & SlabZero)
            mem_set(object, 0, size);
        return object;
    }
    usize total;
    if (!size_add(size, kLargeHeader, &total) || !size_add(total, kSlabPageSize - 1, &total))
        return nullptr;
    usize npages = total / kSlabPageSize;
    SlabPage* page = static_cast<SlabPage*>(pages_alloc(npages));
    if (!page)
        return nullptr;
    page->magic = kLargePageMagic;
    page->in_use = 1;
    page->cache = nullptr;
    page->free_list = nullptr;
    page->prev = page->next = nullptr;
    page->pages = npages;
    page->requested = size;
    list_push(&m_large, page);
    m_large_count++;
    m_large_pages += npages;
    m_large_requested += size;
    void* object = reinterpret_cast<u8*>(page) + kLargeHeader;
    ASAN_POISON(static_cast<u8*>(object) + size, npages * kSlabPageSize - kLargeHeader - size);
    if (flags & SlabZero)
        mem_set(object, 0, size);
    return object;
}

usize SlabAllocator::ksize(const void* object)
{
    if (!object)
        return 0;
    SlabPage* page = page_of(object);
    if (page->magic == kLargePageMagic)
        return page->pages * kSlabPageSize - kLargeHeader;
    SlabCache* cache = page->cache;
    return (cache->flags & SlabDebug) ? align_up(cache->payload_size, 8) : cache->object_size;
}

// The fast path: an object of a slab (page or block) of a plain cache. Large
// objects, debug and RCU caches and invalid pointers go out of line.
void SlabAllocator::kfree(void* object)
{
    if (KS_LIKELY(object != nullptr)) {
        SlabPage* page = page_of(object);
        if (KS_LIKELY(page->magic == kSlabPageMagic || page->magic == kSlabBlockMagic)
            && KS_LIKELY(!(page->cache->flags & (SlabDebug | SlabRcu)))) {
            free_to_page(page->cache, page, object);
            return;
        }
    }
    kfree_slow(object);
}

KS_NOINLINE void SlabAllocator::kfree_slow(void* object)
{
    if (!object)
        return;
    SlabPage* page = page_of(object);
    bool slab = page->magic == kSlabPageMagic || page->magic == kSlabBlockMagic;
    if (page->magic == kLargePageMagic) {
        list_remove(&m_large, page);
        m_large_count--;
        m_large_pages -= page->pages;
        m_large_requested -= page->requested;
        page->magic = 0;
        ASAN_UNPOISON(page, page->pages * kSlabPageSize);
        pages_free(page, page->pages);
        return;
    }
    if (!slab) {
        report(SlabFault::InvalidFree, nullptr, object);
        return;
    }
    SlabCache* cache = page->cache;
    if (m_debug) {
        u32 requested = *reinterpret_cast<u32*>(static_cast<u8*>(object) - kSlabRedZone + 8);
        if (*reinterpret_cast<u64*>(static_cast<u8*>(object) - kSlabRedZone) == kTagAllocated)
            cache->stats.bytes_requested -= requested;
    }
    cache_free(cache, object);
}

void* SlabAllocator::krealloc(void* object, usize new_size)
{
    if (!object)
        return kmalloc(new_size);
    usize old = ksize(object);
    if (new_size <= old && new_size > old / 2)
        return object;
    void* fresh = kmalloc(new_size);
    if (!fresh)
        return nullptr;
    ASAN_UNPOISON(object, old);   // The allocator's own read of the whole old object.
    mem_copy(fresh, object, min(old, new_size));
    kfree(object);
    return fresh;
}

usize SlabAllocator::bytes_in_use()
{
    usize total = m_large_pages * kSlabPageSize + m_raw_blocks * kSlabBlockSize;
    for_each_cache([&](const SlabStats& st) {
        if (st.object_size)
            total += st.objects_in_use * st.object_size;
    });
    return total;
}

void SlabAllocator::destroy()
{
    while (m_large)
        kfree(reinterpret_cast<u8*>(m_large) + kLargeHeader);
    rcu_barrier();
    while (m_caches)
        cache_destroy(m_caches);
    for (u32 i = 0; i < kKmallocClasses; i++)
        SlabInternals::drop_all(this, &m_kmalloc[i]);
}

}
