// The slab side of the in-kernel allocator benchmark (kscript.ko's `bench`
// parameter compares it with SLUB's kmem_cache_alloc/free in the same run).
#include "../../include/kscript.h"
#include "../../include/kscript_platform.h"
#include "../../slab/Slab.h"

using namespace ks;

extern "C" unsigned long long ks_slab_bench(int pattern, unsigned long n, unsigned long size)
{
    // The allocator lives in pages of its own, like a script's.
    usize pages = (sizeof(SlabAllocator) + KSP_PAGE_SIZE - 1) / KSP_PAGE_SIZE;
    SlabAllocator* slab = static_cast<SlabAllocator*>(ksp_pages_alloc(pages));
    if (!slab)
        return 0;
    slab->init(false);
    SlabCache* cache = slab->cache_create("bench", size, 8, SlabNone);
    void** objects = nullptr;
    usize array_pages = (n * sizeof(void*) + KSP_PAGE_SIZE - 1) / KSP_PAGE_SIZE;
    if (pattern == 1)
        objects = static_cast<void**>(ksp_pages_alloc(array_pages));
    unsigned long long t0 = ksp_clock_ns();
    if (cache && pattern == 0) {
        for (unsigned long i = 0; i < n; i++) {
            void* p = slab->cache_alloc(cache);
            if (!p)
                break;
            *static_cast<volatile char*>(p) = (char)i;
            slab->cache_free(cache, p);
        }
    } else if (cache && objects) {
        for (unsigned long i = 0; i < n; i++) {
            objects[i] = slab->cache_alloc(cache);
            if (objects[i])
                *static_cast<volatile char*>(objects[i]) = (char)i;
        }
        for (unsigned long i = 0; i < n; i++)
            slab->cache_free(cache, objects[i]);
    }
    unsigned long long elapsed = ksp_clock_ns() - t0;
    if (objects)
        ksp_pages_free(objects, array_pages);
    slab->cache_destroy(cache);
    slab->destroy();
    ksp_pages_free(slab, pages);
    return elapsed;
}
