// Slab allocator: randomized operations against a model, failure injection,
// debug-mode fault detection, statistics.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "slab/Slab.h"

using namespace ks;

namespace {

struct Fault {
    SlabFault kind;
    const void* object;
};

void record_fault(void* context, SlabFault fault, const char*, const void* object)
{
    static_cast<std::vector<Fault>*>(context)->push_back({ fault, object });
}

class SlabTest : public ::testing::Test {
protected:
    void SetUp() override { slab.init(false); }
    void TearDown() override { slab.destroy(); }
    SlabAllocator slab;
};

TEST_F(SlabTest, KmallocSizesAndKsize)
{
    for (usize size : { 1, 8, 16, 17, 100, 256, 257, 1000, 2032, 2033, 5000, 100000 }) {
        void* p = slab.kmalloc(size);
        ASSERT_NE(p, nullptr) << size;
        EXPECT_GE(SlabAllocator::ksize(p), size);
        EXPECT_EQ(reinterpret_cast<uptr>(p) % 8, 0u);   // 8-byte steps: 8-byte alignment, as kmalloc on x86.
        memset(p, 0xab, size);
        slab.kfree(p);
    }
    EXPECT_EQ(slab.bytes_in_use(), 0u);
}

// Every size gets a slot at least as large, the smallest class that holds
// it, and kmalloc_size_roundup() says what ksize() will say.
TEST_F(SlabTest, SizeClassesAndRoundup)
{
    usize previous = 0;
    for (usize size = 0; size <= 3 * 4096; size++) {
        void* p = slab.kmalloc(size);
        ASSERT_NE(p, nullptr) << size;
        usize usable = SlabAllocator::ksize(p);
        ASSERT_EQ(usable, SlabAllocator::kmalloc_size_roundup(size)) << size;
        ASSERT_GE(usable, size == 0 ? 1 : size) << size;
        ASSERT_GE(usable, previous) << size;
        if (size > 1 && usable != previous) {   // A new class starts right after the last one ends.
            ASSERT_EQ(previous, size - 1) << size;
        }
        // (Above 1008 bytes the classes hold 3 and 2 objects a page: a class
        // between them would take as much of a page per object.)
        if (size <= 1008) {
            ASSERT_LE(usable, size <= 16 ? 16 : size <= 64 ? size + 7 : size + size / 4) << size;
        }
        previous = usable;
        slab.kfree(p);
    }
    EXPECT_EQ(SlabAllocator::kmalloc_size_roundup(kKmallocMax), kKmallocMax);
    EXPECT_EQ(SlabAllocator::kmalloc_size_roundup(~(usize)0), 0u);
    EXPECT_EQ(slab.kmalloc(~(usize)0), nullptr);
    // Above 64 bytes every class is page-fit: the largest multiple of 8 that
    // gets as many slots into a page after the header, so a page-sized slab
    // leaves less than 8 bytes per slot unused.
    const usize room = 4096 - sizeof(SlabPage);
    for (usize size = 65; size <= kKmallocMax; size++) {
        usize c = SlabAllocator::kmalloc_size_roundup(size);
        if (c != SlabAllocator::kmalloc_size_roundup(size - 1)) {
            EXPECT_LT(room / (c + 8), room / c) << c;
            EXPECT_LT(room - (room / c) * c, 8 * (room / c)) << c;
        }
    }
}

TEST_F(SlabTest, KzallocZeroes)
{
    for (usize size : { 1, 40, 300, 2024, 9000 }) {
        char* p = static_cast<char*>(slab.kmalloc(size));
        memset(p, 0x77, size);
        slab.kfree(p);
        char* q = static_cast<char*>(slab.kzalloc(size));
        ASSERT_NE(q, nullptr);
        for (usize i = 0; i < size; i++)
            ASSERT_EQ(q[i], 0) << size << " " << i;
        slab.kfree(q);
    }
}

// kfree_usable() frees and says what ksize() said; a pointer that is not
// the allocator's is reported, not followed.
TEST_F(SlabTest, KfreeUsable)
{
    EXPECT_EQ(slab.kfree_usable(nullptr), 0u);
    for (usize size : { 1, 40, 300, 2024, 2025, 9000, 100000 }) {
        void* p = slab.kmalloc(size);
        ASSERT_NE(p, nullptr);
        usize usable = SlabAllocator::ksize(p);
        EXPECT_EQ(slab.kfree_usable(p), usable) << size;
    }
    EXPECT_EQ(slab.bytes_in_use(), 0u);
    SlabCache* cache = slab.cache_create("rcu_usable", 64, 8, SlabRcu);
    void* r = slab.cache_alloc(cache);
    EXPECT_EQ(slab.kfree_usable(r), 64u);
    slab.rcu_barrier();
    slab.cache_destroy(cache);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    alignas(4096) static unsigned char foreign[2 * 4096];
    EXPECT_EQ(SlabAllocator::ksize(foreign + 2000), 0u);
    EXPECT_EQ(slab.kfree_usable(foreign + 2000), 0u);
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, SlabFault::InvalidFree);
}

TEST_F(SlabTest, RandomOperationsMatchModel)
{
    std::mt19937_64 rng(12345);
    std::map<void*, std::pair<usize, unsigned char>> live;
    for (int step = 0; step < 60000; step++) {
        bool allocate = live.empty() || rng() % 100 < 55;
        if (allocate) {
            usize size = rng() % 4 == 0 ? 1 + rng() % 6000 : 1 + rng() % 300;
            void* p = slab.kmalloc(size);
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(live.count(p), 0u) << "handed out twice";
            unsigned char fill = static_cast<unsigned char>(rng());
            memset(p, fill, size);
            live[p] = { size, fill };
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            auto [size, fill] = it->second;
            const unsigned char* bytes = static_cast<const unsigned char*>(it->first);
            for (usize i = 0; i < size; i++)
                ASSERT_EQ(bytes[i], fill) << "object overwritten";
            slab.kfree(it->first);
            live.erase(it);
        }
        if (step % 5000 == 0) {
            // The statistics agree with the model: objects in use counted on
            // the slabs, frees as allocations minus those.
            usize small = 0, in_use = 0;
            u64 allocs = 0, frees = 0;
            for (auto& [p, info] : live)
                small += info.first <= kKmallocMax;
            slab.for_each_cache([&](const SlabStats& st) {
                if (strcmp(st.name, "kmalloc-large") == 0) {
                    EXPECT_EQ(st.objects_in_use, live.size() - small);
                    return;
                }
                in_use += st.objects_in_use;
                allocs += st.allocs;
                frees += st.frees;
                EXPECT_LE(st.objects_in_use, st.objects_total) << st.name;
            });
            EXPECT_EQ(in_use, small);
            EXPECT_EQ(allocs - frees, small);
        }
    }
    for (auto& [p, info] : live)
        slab.kfree(p);
    EXPECT_EQ(slab.bytes_in_use(), 0u);
    // Empty pages beyond the current page and a one-page reserve per cache
    // went back to the platform.
    EXPECT_LE(slab.pages_held(), 2 * (usize)kKmallocClasses);
    slab.shrink();
    EXPECT_EQ(slab.pages_held(), 0u);
}

TEST_F(SlabTest, FreedSpaceIsReused)
{
    // Fill many pages, free every other object, allocate again: no new pages.
    std::vector<void*> objects;
    for (int i = 0; i < 10000; i++)
        objects.push_back(slab.kmalloc(64));
    usize pages = slab.pages_held();
    for (usize i = 0; i < objects.size(); i += 2)
        slab.kfree(objects[i]);
    for (usize i = 0; i < objects.size(); i += 2)
        objects[i] = slab.kmalloc(64);
    EXPECT_EQ(slab.pages_held(), pages);
    for (void* p : objects)
        slab.kfree(p);
}

// The first slabs of small caches are 1 KiB blocks of shared pages: a few
// objects of ten sizes take three pages, not ten, and every page goes back
// once they are freed; a cache that grows past a page's worth gets pages.
TEST_F(SlabTest, SmallCachesShareSplitPages)
{
    const usize sizes[] = { 16, 24, 32, 40, 48, 56, 64, 96, 128, 384 };
    std::vector<void*> objects;
    for (usize size : sizes)
        for (int i = 0; i < 2; i++) {
            void* p = slab.kmalloc(size);
            ASSERT_NE(p, nullptr);
            memset(p, 0x5a, size);
            objects.push_back(p);
        }
    EXPECT_EQ(slab.pages_held(), 3u);
    for (void* p : objects)
        EXPECT_GE(SlabAllocator::ksize(p), 16u);
    for (void* p : objects)
        slab.kfree(p);
    slab.shrink();
    EXPECT_EQ(slab.pages_held(), 0u);
    // Past a page's worth of blocks, whole pages.
    objects.clear();
    for (int i = 0; i < 1000; i++)
        objects.push_back(slab.kmalloc(64));
    usize blocks = 0, pages = 0;
    slab.for_each_cache([&](const SlabStats& st) {
        if (st.object_size == 64) {
            blocks = st.pages;
            pages = st.bytes_held;
        }
    });
    EXPECT_GT(blocks, 4u);
    EXPECT_LT(pages, (blocks + 1) * 4096u);
    for (void* p : objects)
        slab.kfree(p);
    slab.shrink();
    EXPECT_EQ(slab.pages_held(), 0u);
}

TEST_F(SlabTest, PageFailuresAreReportedNotDereferenced)
{
    slab.fail_every_nth_page(3);
    std::vector<void*> objects;
    int failures = 0;
    for (int i = 0; i < 5000; i++) {
        void* p = slab.kmalloc(1 + (i * 37) % 3000);
        if (!p) {
            failures++;
            continue;
        }
        memset(p, 1, 1);
        objects.push_back(p);
    }
    EXPECT_GT(failures, 0);
    EXPECT_GT(slab.failures(), 0u);
    for (void* p : objects)
        slab.kfree(p);
    slab.fail_every_nth_page(0);
    EXPECT_EQ(slab.bytes_in_use(), 0u);
}

TEST_F(SlabTest, CacheCreateAllocFreeDestroy)
{
    SlabCache* cache = slab.cache_create("test_objects", 40, 8, SlabZero);
    ASSERT_NE(cache, nullptr);
    void* objects[100];
    ASSERT_EQ(slab.cache_alloc_bulk(cache, 100, objects), 100u);
    for (void* p : objects) {
        const unsigned char* b = static_cast<const unsigned char*>(p);
        for (int i = 0; i < 40; i++)
            ASSERT_EQ(b[i], 0);
        memset(p, 0xff, 40);
    }
    bool found = false;
    slab.for_each_cache([&](const SlabStats& st) {
        if (strcmp(st.name, "test_objects") == 0) {
            found = true;
            EXPECT_EQ(st.objects_in_use, 100u);
            EXPECT_GE(st.objects_total, 100u);
        }
    });
    EXPECT_TRUE(found);
    slab.cache_free_bulk(cache, 100, objects);
    void* again = slab.cache_alloc(cache);
    EXPECT_EQ(static_cast<unsigned char*>(again)[0], 0) << "SlabZero after reuse";
    slab.cache_free(cache, again);
    slab.cache_destroy(cache);
}

TEST_F(SlabTest, RcuCachesDeferFrees)
{
    SlabCache* cache = slab.cache_create("rcu_objects", 64, 16, SlabRcu);
    ASSERT_NE(cache, nullptr);
    void* p = slab.cache_alloc(cache);
    slab.cache_free(cache, p);
    void* q = slab.cache_alloc(cache);
    EXPECT_NE(p, q) << "object reused before the grace period";
    // kfree() of an RCU cache's object defers it too (its slab's magic
    // keeps it off kfree's fast path).
    slab.kfree(q);
    void* r = slab.cache_alloc(cache);
    EXPECT_NE(r, q) << "kfree()d object reused before the grace period";
    EXPECT_NE(r, p);
    usize in_use = 0;
    slab.for_each_cache([&](const SlabStats& st) {
        if (strcmp(st.name, "rcu_objects") == 0)
            in_use = st.objects_in_use;
    });
    EXPECT_EQ(in_use, 3u) << "deferred objects stay in use until the barrier";
    slab.rcu_barrier();
    void* again[2] = { slab.cache_alloc(cache), slab.cache_alloc(cache) };
    EXPECT_TRUE((again[0] == p || again[0] == q) && (again[1] == p || again[1] == q));
    slab.cache_free_bulk(cache, 2, again);
    slab.cache_free(cache, r);
    slab.rcu_barrier();
    slab.cache_destroy(cache);
}

TEST_F(SlabTest, LargeObjectsAndKrealloc)
{
    char* p = static_cast<char*>(slab.kmalloc(100));
    strcpy(p, "keep me");
    p = static_cast<char*>(slab.krealloc(p, 50000));
    ASSERT_NE(p, nullptr);
    EXPECT_STREQ(p, "keep me");
    EXPECT_EQ(slab.large_objects(), 1u);
    slab.kfree(p);
    EXPECT_EQ(slab.large_objects(), 0u);
}

TEST(SlabDebug, DetectsDoubleFree)
{
    SlabAllocator slab;
    slab.init(true);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    void* p = slab.kmalloc(32);
    slab.kfree(p);
    slab.kfree(p);
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, SlabFault::DoubleFree);
    slab.destroy();
}

TEST(SlabDebug, DetectsOverrun)
{
    SlabAllocator slab;
    slab.init(true);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    char* p = static_cast<char*>(slab.kmalloc(20));
    p[20] = 'x';   // One past the end: inside the red zone.
    slab.kfree(p);
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, SlabFault::RedZoneOverwritten);
    slab.destroy();
}

TEST(SlabDebug, DetectsUnderrun)
{
    SlabAllocator slab;
    slab.init(true);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    char* p = static_cast<char*>(slab.kmalloc(64));
    p[-1] = 'x';
    slab.kfree(p);
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, SlabFault::RedZoneOverwritten);
    slab.destroy();
}

TEST(SlabDebug, DetectsUseAfterFree)
{
    SlabAllocator slab;
    slab.init(true);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    char* p = static_cast<char*>(slab.kmalloc(64));
    slab.kfree(p);
    p[20] = 'x';   // Write into freed, poisoned memory.
    char* q = static_cast<char*>(slab.kmalloc(64));
    EXPECT_EQ(q, p) << "LIFO reuse of the freed slot";
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, SlabFault::UseAfterFree);
    slab.kfree(q);
    slab.destroy();
}

TEST(SlabDebug, CleanUseReportsNothing)
{
    SlabAllocator slab;
    slab.init(true);
    std::vector<Fault> faults;
    slab.set_fault_handler(record_fault, &faults);
    std::vector<char*> objects;
    for (int i = 1; i < 3000; i += 7) {
        char* p = static_cast<char*>(slab.kmalloc(i));
        memset(p, 'a', i);
        // The engine charges its quota with the one and credits it with
        // the other: they agree in debug mode too.
        EXPECT_EQ(SlabAllocator::ksize(p), SlabAllocator::kmalloc_size_roundup(i)) << i;
        objects.push_back(p);
    }
    for (char* p : objects)
        slab.kfree(p);
    EXPECT_TRUE(faults.empty());
    slab.destroy();
}

}
