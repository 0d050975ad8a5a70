// The slab allocator. See Slab.h for the design; the invariants:
//  - A page is on exactly one of its cache's lists (current, partial, full,
//    empty) and its in_use count equals the slots not on its free list.
//  - current is &g_no_slab (none) or a page with at least one free slot...
//    except right after its last slot is taken, when it stays current until
//    the next allocation moves it to the full list. Its in_use carries
//    kCurrentBias.
//  - A page whose in_use drops to zero leaves the partial list: it becomes the
//    reserve (empty list, at most kEmptyReserve pages) or goes back to the
//    platform.
#include "Slab.h"

#include "../include/kscript_platform.h"

// Under AddressSanitizer (userspace test builds) free slots and the unused
// tail of each object are poisoned, so that ASan sees overruns and
// use-after-free inside slab pages too. The first word of a free slot holds
// the free-list link and stays readable. Debug mode has its own checks and
// is left alone. In the kernel (KASAN in the debug tier) the engine's
// accesses are checked against whole pages only: the userspace interface
// does not exist there.
#if defined(KS_KERNEL)
#elif defined(__SANITIZE_ADDRESS__)
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

// Slabs of caches with neither SlabDebug nor SlabRcu have the plain magics,
// which is all kfree()'s fast path needs to look at; the others have the
// "checked" ones and go through cache_free().
static constexpr u32 kSlabPageMagic = 0x5ab5ab01;
static constexpr u32 kLargePageMagic = 0x5ab5ab02;
static constexpr u32 kSlabBlockMagic = 0x5ab5ab03;
static constexpr u32 kFreeBlockMagic = 0x5ab5ab04;
static constexpr u32 kRawBlockMagic = 0x5ab5ab05;
static constexpr u32 kCheckedPageMagic = 0x5ab5ab06;
static constexpr u32 kCheckedBlockMagic = 0x5ab5ab07;
static constexpr u32 kEmptyReserve = 1;
// Added to the in_use count of a cache's current slab while it is current:
// freeing its last object is then no event for kfree() to look into.
static constexpr u32 kCurrentBias = 1u << 31;

// What a cache's current slab is when it has none: no free slot, so the
// allocation fast path needs no null check. Never written.
static SlabPage g_no_slab;

static inline bool has_current(const SlabCache* cache) { return cache->current != &g_no_slab; }

// Leaves [cache] without a current slab; returns the one it had (its bias
// removed) or null.
static SlabPage* detach_current(SlabCache* cache)
{
    if (!has_current(cache))
        return nullptr;
    SlabPage* page = cache->current;
    page->in_use -= kCurrentBias;
    cache->current = &g_no_slab;
    return page;
}
static constexpr u64 kTagAllocated = 0xa110ca7edULL;
static constexpr u64 kTagFree = 0xf4eef4eeULL;

// 8-byte steps up to 64 bytes (seed 002's bins), where most engine objects
// fall (an instance with two fields is 40 bytes); above, steps of about 1/8
// at sizes that fill a page: each is the largest multiple of 8 with as many
// slots in the 4048 bytes after the header (2024 x 2, 1344 x 3, 1008 x 4,
// ..., 288 x 14, 264 x 15, 224 x 18, ...). Page-fit classes waste almost
// nothing at the end of a page, and the small steps little inside a slot.
static constexpr u16 kClassSizes[kKmallocClasses] = {
    16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 184,
    200, 224, 264, 288, 336, 400, 448, 504, 576, 672, 808, 1008, 1344, 2024,
};

static const char* const kClassNames[kKmallocClasses] = {
    "kmalloc-16", "kmalloc-24", "kmalloc-32", "kmalloc-40", "kmalloc-48", "kmalloc-56", "kmalloc-64",
    "kmalloc-80", "kmalloc-96", "kmalloc-112", "kmalloc-128", "kmalloc-144", "kmalloc-160", "kmalloc-184",
    "kmalloc-200", "kmalloc-224", "kmalloc-264", "kmalloc-288", "kmalloc-336", "kmalloc-400", "kmalloc-448",
    "kmalloc-504", "kmalloc-576", "kmalloc-672", "kmalloc-808", "kmalloc-1008", "kmalloc-1344", "kmalloc-2024",
};

static_assert(kClassSizes[kKmallocClasses - 1] == kKmallocMax, "largest class");

static constexpr KmallocTable make_class_table()
{
    KmallocTable t {};
    u32 c = 0;
    for (u32 i = 0; i < kKmallocMax / 8; i++) {
        while (kClassSizes[c] < (i + 1) * 8)
            c++;
        t.entry[i] = (u16)(c * sizeof(SlabCache));
    }
    return t;
}

static constexpr KmallocTable make_roundup_table()
{
    KmallocTable t = make_class_table();
    for (u32 i = 0; i < kKmallocMax / 8; i++)
        t.entry[i] = kClassSizes[t.entry[i] / sizeof(SlabCache)];
    return t;
}

constexpr KmallocTable kKmallocClass = make_class_table();
constexpr KmallocTable kKmallocRoundup = make_roundup_table();

static inline SlabPage* page_base(const void* object)
{
    return reinterpret_cast<SlabPage*>(reinterpret_cast<uptr>(object) & ~(uptr)(kSlabPageSize - 1));
}

static inline SlabPage* block_base(const void* object)
{
    return reinterpret_cast<SlabPage*>(reinterpret_cast<uptr>(object) & ~(uptr)(kSlabBlockSize - 1));
}

static inline bool is_page_magic(u32 magic) { return magic == kSlabPageMagic || magic == kCheckedPageMagic; }
static inline bool is_block_magic(u32 magic) { return magic == kSlabBlockMagic || magic == kCheckedBlockMagic; }
static inline bool is_slab_magic(u32 magic) { return is_page_magic(magic) || is_block_magic(magic); }

// A page-sized slab or a large allocation has its header at the page start;
// otherwise the page is split into blocks and the header starts the block.
static KS_ALWAYS_INLINE SlabPage* page_of(const void* object)
{
    SlabPage* page = page_base(object);
    if (KS_LIKELY(is_page_magic(page->magic)) || page->magic == kLargePageMagic)
        return page;
    return block_base(object);
}

static inline usize slab_bytes(const SlabPage* page) { return is_block_magic(page->magic) ? kSlabBlockSize : kSlabPageSize; }

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
    m_fast_max = debug ? 0 : kKmallocMax;
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
    cache->current = &g_no_slab;
}

void* SlabAllocator::pages_alloc(usize npages)
{
    if (m_fail_every && ++m_fail_counter >= m_fail_every) {
        m_fail_counter = 0;
        m_failures++;
        return nullptr;
    }
    void* p = m_nowait ? ksp_pages_alloc_nowait(npages) : ksp_pages_alloc(npages);
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
    bool checked = cache->flags & (SlabDebug | SlabRcu);
    if (block)
        page->magic = checked ? kCheckedBlockMagic : kSlabBlockMagic;
    else
        page->magic = checked ? kCheckedPageMagic : kSlabPageMagic;
    usize bytes = slab_bytes(page);
    page->capacity = (u16)((bytes - cache->first_offset) / cache->object_size);
    page->in_use = 0;
    page->cache = cache;
    page->prev = page->next = nullptr;
    page->pages = 0;
    // Every slot goes on the free list now, in address order: allocation is
    // then a pop and nothing else, and "full" is "free list empty". (The
    // slots would be touched by their first allocation anyway.)
    if (cache->flags & SlabDebug) {
        void* head = nullptr;
        for (u32 i = page->capacity; i-- > 0;) {
            u8* object = slot_object(cache, page, i);
            debug_mark_free(cache, object);
            set_next_free(object, head);
            head = object;
        }
        page->free_list = head;
    } else {
        u8* slot = reinterpret_cast<u8*>(page) + cache->first_offset;
        usize stride = cache->object_size;
        ASAN_POISON(slot, bytes - cache->first_offset);
        page->free_list = slot;
        for (u32 i = 1; i < page->capacity; i++, slot += stride) {
            ASAN_UNPOISON(slot, sizeof(void*));
            set_next_free(slot, slot + stride);
        }
        ASAN_UNPOISON(slot, sizeof(void*));
        set_next_free(slot, nullptr);
    }
    cache->stats.pages++;
    cache->stats.objects_total += page->capacity;
    cache->stats.bytes_held += (u32)bytes;
    return page;
}

void SlabAllocator::release_page(SlabCache* cache, SlabPage* page)
{
    usize bytes = slab_bytes(page);
    ASAN_UNPOISON(page, bytes);
    cache->stats.pages--;
    cache->stats.objects_total -= page->capacity;
    cache->stats.bytes_held -= (u32)bytes;
    if (is_block_magic(page->magic)) {
        block_free(page);
        return;
    }
    page->magic = 0;
    pages_free(page, 1);
}

void* SlabAllocator::refill_and_alloc(SlabCache* cache)
{
    if (SlabPage* full = detach_current(cache))
        list_push(&cache->full, full);
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
    page->in_use += kCurrentBias;
    void* object = page->free_list;
    page->free_list = next_free(object);
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

// A free slot of the cache's current slab, or null when there is none: the
// part of every allocation that needs no list work.
static KS_ALWAYS_INLINE void* take_slot(SlabCache* cache)
{
    SlabPage* page = cache->current;
    void* object = page->free_list;
    if (KS_UNLIKELY(object == nullptr))
        return nullptr;
    page->free_list = next_free(object);
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

KS_ALWAYS_INLINE void SlabAllocator::free_to_page(SlabPage* page, void* object)
{
#ifdef KS_ASAN
    if (!(page->cache->flags & SlabDebug)) {
        ASAN_UNPOISON(object, 8);
        ASAN_POISON(static_cast<u8*>(object) + 8, page->cache->object_size - 8);
    }
#endif
    void* head = page->free_list;
    set_next_free(object, head);
    page->free_list = object;
    u32 in_use = page->in_use - 1;
    page->in_use = in_use;
    if (KS_UNLIKELY(head == nullptr))
        page_transition(page, true);
    else if (KS_UNLIKELY(in_use == 0))
        page_transition(page, false);
}

// A free made [page] leave the full list or become empty (nothing to do for
// the current slab).
KS_NOINLINE void SlabAllocator::page_transition(SlabPage* page, bool was_full)
{
    SlabCache* cache = page->cache;
    if (page == cache->current)
        return;
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
        if (!is_slab_magic(page->magic) || page->cache != cache || offset < cache->first_offset + kSlabRedZone
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
        SlabCreatedCache* created = reinterpret_cast<SlabCreatedCache*>(cache);
        set_next_free(object, created->rcu_pending);
        created->rcu_pending = object;
        return;
    }
    free_to_page(page, object);
}

void SlabAllocator::rcu_barrier()
{
    for (SlabCreatedCache* c = m_caches; c; c = c->next_cache) {
        void* object = c->rcu_pending;
        c->rcu_pending = nullptr;
        while (object) {
            void* next = next_free(object);
            free_to_page(page_of(object), object);
            object = next;
        }
    }
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
    SlabCreatedCache* created = static_cast<SlabCreatedCache*>(kmalloc(sizeof(SlabCreatedCache)));
    if (!created)
        return nullptr;
    init_cache(&created->cache, name, size, align, flags);
    if (created->cache.first_offset + created->cache.object_size > kSlabPageSize) {   // No slot fits a page.
        kfree(created);
        return nullptr;
    }
    created->rcu_pending = nullptr;
    created->next_cache = m_caches;
    m_caches = created;
    return &created->cache;
}

struct SlabInternals {
    static void release_list(SlabAllocator* self, SlabCache* cache, SlabPage* head)
    {
        while (head) {
            SlabPage* next = head->next;
            self->release_page(cache, head);
            head = next;
        }
    }
    static void drop_all(SlabAllocator* self, SlabCache* cache)
    {
        if (SlabPage* current = detach_current(cache))
            self->release_page(cache, current);
        release_list(self, cache, cache->partial);
        release_list(self, cache, cache->full);
        release_list(self, cache, cache->empty);
        cache->partial = cache->full = cache->empty = nullptr;
        cache->empty_count = 0;
    }
};

void SlabAllocator::cache_destroy(SlabCache* cache)
{
    if (!cache)
        return;
    SlabInternals::drop_all(this, cache);
    SlabCreatedCache* created = reinterpret_cast<SlabCreatedCache*>(cache);
    for (SlabCreatedCache** p = &m_caches; *p; p = &(*p)->next_cache) {
        if (*p == created) {
            *p = created->next_cache;
            break;
        }
    }
    kfree(created);
}

usize SlabAllocator::shrink(SlabCache* only)
{
    usize freed = 0;
    auto shrink_one = [&](SlabCache* cache) {
        if (has_current(cache) && cache->current->in_use == kCurrentBias) {
            release_page(cache, detach_current(cache));
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
    for (SlabCreatedCache* c = m_caches; c; c = c->next_cache)
        shrink_one(&c->cache);
    return freed;
}

KS_ALWAYS_INLINE SlabCache* SlabAllocator::kmalloc_cache_for(usize size)
{
    return reinterpret_cast<SlabCache*>(reinterpret_cast<u8*>(m_kmalloc) + kKmallocClass.entry[(size - 1) >> 3]);
}

// The fast path: a small size, a free slot on the current slab, no
// debugging; everything else is out of line, so that this needs no stack
// frame.
void* SlabAllocator::kmalloc(usize size)
{
    if (KS_LIKELY(size - 1 < m_fast_max)) {
        SlabCache* cache = kmalloc_cache_for(size);
        if (void* object = take_slot(cache)) {
            cache->stats.allocs++;
            ASAN_UNPOISON(object, size);
            ASAN_POISON(static_cast<u8*>(object) + size, cache->payload_size - size);
            return object;
        }
    }
    return kmalloc_slow(size, false);
}

void* SlabAllocator::kzalloc(usize size)
{
    return kmalloc_slow(size, true);
}

// A large allocation: its own run of pages, header first.
static bool large_pages(usize size, usize* npages)
{
    usize total;
    if (!size_add(size, kLargeHeader, &total) || !size_add(total, kSlabPageSize - 1, &total))
        return false;
    *npages = total / kSlabPageSize;
    return *npages <= 0xffffffffu;   // SlabPage::pages
}

KS_NOINLINE void* SlabAllocator::kmalloc_slow(usize size, bool zero)
{
    if (size == 0)
        size = 1;
    if (size <= kKmallocMax) {
        SlabCache* cache = kmalloc_cache_for(size);
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
        if (zero)
            mem_set(object, 0, size);
        return object;
    }
    usize npages;
    if (!large_pages(size, &npages))
        return nullptr;
    SlabPage* page = static_cast<SlabPage*>(pages_alloc(npages));
    if (!page)
        return nullptr;
    page->magic = kLargePageMagic;
    page->in_use = 1;
    page->capacity = 1;
    page->cache = nullptr;
    page->prev = page->next = nullptr;
    page->pages = (u32)npages;
    page->requested = size;
    list_push(&m_large, page);
    m_large_count++;
    m_large_pages += npages;
    m_large_requested += size;
    void* object = reinterpret_cast<u8*>(page) + kLargeHeader;
    ASAN_POISON(static_cast<u8*>(object) + size, npages * kSlabPageSize - kLargeHeader - size);
    if (zero)
        mem_set(object, 0, size);
    return object;
}

usize SlabAllocator::large_size_roundup(usize size)
{
    usize npages;
    if (!large_pages(size, &npages))
        return 0;
    return npages * kSlabPageSize - kLargeHeader;
}

usize SlabAllocator::ksize(const void* object)
{
    if (!object)
        return 0;
    SlabPage* page = page_of(object);
    if (page->magic == kLargePageMagic)
        return (usize)page->pages * kSlabPageSize - kLargeHeader;
    if (!is_slab_magic(page->magic))
        return 0;   // Not ours (kfree_slow() reports it).
    SlabCache* cache = page->cache;
    return (cache->flags & SlabDebug) ? align_up(cache->payload_size, 8) : cache->object_size;
}

// The slab of [object] if it is a slot of a plain cache's slab (page or
// block), else null (null, large objects, debug and RCU caches, invalid
// pointers): page_of() with "plain" folded into the magic it compares, so a
// slot of a checked page is never read as a block header.
static KS_ALWAYS_INLINE SlabPage* plain_slab_of(const void* object)
{
    if (KS_UNLIKELY(object == nullptr))
        return nullptr;
    SlabPage* page = page_base(object);
    u32 magic = page->magic;
    if (KS_LIKELY(magic == kSlabPageMagic))
        return page;
    if (magic == kCheckedPageMagic || magic == kLargePageMagic)
        return nullptr;
    page = block_base(object);
    return page->magic == kSlabBlockMagic ? page : nullptr;
}

// The fast path: a slot of a plain cache's slab; the rest goes out of line.
void SlabAllocator::kfree(void* object)
{
    if (SlabPage* page = plain_slab_of(object)) {
        free_to_page(page, object);
        return;
    }
    kfree_slow(object);
}

usize SlabAllocator::kfree_usable(void* object)
{
    if (SlabPage* page = plain_slab_of(object)) {
        usize usable = page->cache->object_size;
        free_to_page(page, object);
        return usable;
    }
    usize usable = ksize(object);
    kfree_slow(object);
    return usable;
}

KS_NOINLINE void SlabAllocator::kfree_slow(void* object)
{
    if (!object)
        return;
    SlabPage* page = page_of(object);
    if (page->magic == kLargePageMagic) {
        list_remove(&m_large, page);
        m_large_count--;
        m_large_pages -= page->pages;
        m_large_requested -= page->requested;
        page->magic = 0;
        ASAN_UNPOISON(page, (usize)page->pages * kSlabPageSize);
        pages_free(page, page->pages);
        return;
    }
    if (!is_slab_magic(page->magic)) {
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

usize SlabAllocator::objects_in_use(const SlabCache& cache)
{
    // (Objects freed into an RCU cache count until rcu_barrier().)
    usize n = has_current(&cache) ? cache.current->in_use - kCurrentBias : 0;
    for (SlabPage* page = cache.partial; page; page = page->next)
        n += page->in_use;
    for (SlabPage* page = cache.full; page; page = page->next)
        n += page->in_use;
    return n;
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
        cache_destroy(&m_caches->cache);
    for (u32 i = 0; i < kKmallocClasses; i++)
        SlabInternals::drop_all(this, &m_kmalloc[i]);
}

}
