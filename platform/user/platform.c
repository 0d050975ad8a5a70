/*
 * The platform interface for userspace: pages from mmap, time from
 * clock_gettime, randomness from getrandom.
 *
 * Single pages (what slab caches use) and short runs (up to POOL_RUN_PAGES,
 * such as the compiler's arena chunks) come from a pool carved out of
 * mappings prefaulted in one go, so they cost no system call and no page
 * fault each. A mapping is 1/64 of the pages the pool has handed out (32 KiB
 * at least, 256 KiB at most): prefaulted pages not yet used stay under 2% of
 * what is in use. Up to POOL_MAX_FREE free pages are kept for reuse and the
 * rest are unmapped, so memory does go back to the system. A freed run of
 * several pages is kept whole, on the list of its length, for the next
 * request of that length (the compiler's arena and token chunks are all
 * four pages): pages already faulted in cost nothing, new ones a fault
 * each, the larger part of compiling a big script. Longer runs are
 * mapped directly. A spinlock makes the pool safe for states used from
 * different threads.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "../../include/kscript_platform.h"

#define POOL_CHUNK_MIN 8
#define POOL_CHUNK_MAX 64
#define POOL_RUN_PAGES 8
#define POOL_MAX_FREE 16384

struct free_page {
	struct free_page *next;
};

static struct free_page *pool_free;
static unsigned long pool_free_count;	/* Pages on pool_free and run_free. */
static struct free_page *run_free[POOL_RUN_PAGES + 1];	/* Runs of 2.. pages, by length. */
static char *chunk_cursor;
static unsigned long chunk_left;
static unsigned long pool_out;	/* Pages handed out by the pool. */
static int pool_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&pool_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&pool_lock, __ATOMIC_RELAXED))
			;
}

static void unlock(void)
{
	__atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE);
}

static void *map_pages(unsigned long npages, int flags)
{
	void *p = mmap(NULL, npages * KSP_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Puts one page on the free list, or says it is not wanted (lock held). */
static int pool_keep(void *page)
{
	struct free_page *f = page;

	if (pool_free_count >= POOL_MAX_FREE)
		return 0;
	f->next = pool_free;
	pool_free = f;
	pool_free_count++;
	return 1;
}

/* [npages] contiguous pages from the current chunk (lock held). */
static void *pool_carve(unsigned long npages)
{
	unsigned long size;
	void *run;

	if (chunk_left < npages) {
		/* The rest of this chunk goes to the free list. */
		while (chunk_left && pool_keep(chunk_cursor)) {
			chunk_cursor += KSP_PAGE_SIZE;
			chunk_left--;
		}
		if (chunk_left)
			munmap(chunk_cursor, chunk_left * KSP_PAGE_SIZE);
		size = pool_out / 64;
		if (size < POOL_CHUNK_MIN)
			size = POOL_CHUNK_MIN;
		if (size > POOL_CHUNK_MAX)
			size = POOL_CHUNK_MAX;
		chunk_cursor = map_pages(size, MAP_POPULATE);
		chunk_left = chunk_cursor ? size : 0;
		if (!chunk_left)
			return NULL;
	}
	run = chunk_cursor;
	chunk_cursor += npages * KSP_PAGE_SIZE;
	chunk_left -= npages;
	return run;
}

void *ksp_pages_alloc(unsigned long npages)
{
	void *page = NULL;

	if (npages == 0 || npages > (1UL << 40) / KSP_PAGE_SIZE)
		return NULL;
	if (npages > POOL_RUN_PAGES)
		return map_pages(npages, 0);
	lock();
	if (npages == 1 && pool_free) {
		page = pool_free;
		pool_free = pool_free->next;
		pool_free_count--;
	} else if (npages > 1 && run_free[npages]) {
		page = run_free[npages];
		run_free[npages] = run_free[npages]->next;
		pool_free_count -= npages;
	} else {
		page = pool_carve(npages);
	}
	if (page)
		pool_out += npages;
	unlock();
	return page;
}

/*
 * The kernel's rule in atomic context, so that the CLI's hooks fail where
 * the module's would: at most KSP_NOWAIT_MAX_PAGES contiguous pages.
 */
#define KSP_NOWAIT_MAX_PAGES 8

void *ksp_pages_alloc_nowait(unsigned long npages)
{
	return npages <= KSP_NOWAIT_MAX_PAGES ? ksp_pages_alloc(npages) : NULL;
}

void ksp_pages_free(void *pages, unsigned long npages)
{
	unsigned long i;
	char *p = pages;

	if (!pages)
		return;
	if (npages > POOL_RUN_PAGES) {
		munmap(pages, npages * KSP_PAGE_SIZE);
		return;
	}
	/* A run from the pool goes back whole, on its length's list, while
	 * the pool keeps few enough pages; a single page to the page list. */
	lock();
	pool_out -= npages;
	if (npages > 1 && pool_free_count + npages <= POOL_MAX_FREE) {
		struct free_page *f = pages;

		f->next = run_free[npages];
		run_free[npages] = f;
		pool_free_count += npages;
		i = npages;
	} else {
		for (i = 0; i < npages && pool_keep(p); i++)
			p += KSP_PAGE_SIZE;
	}
	unlock();
	if (i < npages)
		munmap(p, (npages - i) * KSP_PAGE_SIZE);
}

unsigned long long ksp_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

unsigned long long ksp_random_u64(void)
{
	unsigned long long v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = ksp_clock_ns() * 6364136223846793005ULL + 1442695040888963407ULL;
	return v;
}
