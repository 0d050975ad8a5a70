/*
 * The platform interface for userspace: pages from mmap, time from
 * clock_gettime, randomness from getrandom.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "../../include/kscript_platform.h"

void *ksp_pages_alloc(unsigned long npages)
{
	if (npages == 0 || npages > (1UL << 40) / KSP_PAGE_SIZE)
		return NULL;
	void *p = mmap(NULL, npages * KSP_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void ksp_pages_free(void *pages, unsigned long npages)
{
	if (pages)
		munmap(pages, npages * KSP_PAGE_SIZE);
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
