/*
 * The platform interface for userspace: pages from mmap, time from
 * clock_gettime, randomness from getrandom.
 *
 * Single pages (what slab caches use) come from a pool carved out of 256 KiB
 * mappings, so a slab page costs no system call; up to POOL_MAX_FREE free pages
 * are kept for reuse and the rest are unmapped, so memory does go back to the
 * system. Larger runs are mapped directly. A spinlock makes the pool safe for
 * states used from different threads.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "../../include/kscript_platform.h"

#define POOL_CHUNK_PAGES 64
#define POOL_MAX_FREE 16384

struct free_page {
	struct free_page *next;
};

static struct free_page *pool_free;
static unsigned long pool_free_count;
static char *chunk_cursor;
static unsigned long chunk_left;
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

static void *map_pages(unsigned long npages)
{
	void *p = mmap(NULL, npages * KSP_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *ksp_pages_alloc(unsigned long npages)
{
	void *page = NULL;

	if (npages == 0 || npages > (1UL << 40) / KSP_PAGE_SIZE)
		return NULL;
	if (npages > 1)
		return map_pages(npages);
	lock();
	if (pool_free) {
		page = pool_free;
		pool_free = pool_free->next;
		pool_free_count--;
	} else {
		if (!chunk_left) {
			chunk_cursor = map_pages(POOL_CHUNK_PAGES);
			chunk_left = chunk_cursor ? POOL_CHUNK_PAGES : 0;
		}
		if (chunk_left) {
			page = chunk_cursor;
			chunk_cursor += KSP_PAGE_SIZE;
			chunk_left--;
		}
	}
	unlock();
	return page;
}

void ksp_pages_free(void *pages, unsigned long npages)
{
	if (!pages)
		return;
	if (npages > 1) {
		munmap(pages, npages * KSP_PAGE_SIZE);
		return;
	}
	lock();
	if (pool_free_count < POOL_MAX_FREE) {
		struct free_page *f = pages;
		f->next = pool_free;
		pool_free = f;
		pool_free_count++;
		pages = NULL;
	}
	unlock();
	if (pages)
		munmap(pages, KSP_PAGE_SIZE);
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
