/*
 * The platform interface: everything the freestanding kscript core and slab
 * allocator need from the host they run in. The userspace implementation is
 * platform/user/, the kernel one platform/kernel/. Nothing else is linked in.
 */
#ifndef KSCRIPT_PLATFORM_H
#define KSCRIPT_PLATFORM_H

#ifdef __cplusplus
extern "C" {
#endif

#define KSP_PAGE_SIZE 4096UL

/*
 * Allocate [npages] contiguous pages, aligned to KSP_PAGE_SIZE. Returns NULL
 * when memory is short; the caller reports it and never dereferences NULL.
 */
void *ksp_pages_alloc(unsigned long npages);

/*
 * The same, safe in atomic context (a kprobe or netfilter hook): never
 * sleeps, and may fail where ksp_pages_alloc() would have waited for memory.
 */
void *ksp_pages_alloc_nowait(unsigned long npages);

/* Give back pages from either; [npages] is the same count. May be called in
 * atomic context. */
void ksp_pages_free(void *pages, unsigned long npages);

/* The kernel's platform only: at module exit, finishes deferred frees. */
void ksp_platform_exit(void);

/* Monotonic nanoseconds. */
unsigned long long ksp_clock_ns(void);

/* 64 random bits (not for cryptography). */
unsigned long long ksp_random_u64(void);

#ifdef __cplusplus
}
#endif

#endif
