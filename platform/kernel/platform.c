// SPDX-License-Identifier: GPL-2.0
/*
 * The platform interface (include/kscript_platform.h) in the kernel: pages,
 * the clock and random numbers for the engine inside kscript.ko. The
 * userspace one is platform/user/platform.c.
 */
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/vmalloc.h>
#include "kscript_platform.h"

/*
 * One page from the page allocator; small runs (the compiler's 4-page arena
 * chunks, mid-sized arrays) physically contiguous when the allocator has
 * them at once, else, like large runs, from vmalloc.
 */
#define KS_CONTIGUOUS_MAX_PAGES 8

void *ksp_pages_alloc(unsigned long npages)
{
	void *p;

	if (npages == 1)
		return (void *)__get_free_page(GFP_KERNEL | __GFP_NOWARN);
	if (npages == 0 || npages > (1UL << 30) / PAGE_SIZE)
		return NULL;
	if (npages <= KS_CONTIGUOUS_MAX_PAGES) {
		p = alloc_pages_exact(npages * PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
		if (p)
			return p;
	}
	return vmalloc(npages * PAGE_SIZE);
}

void ksp_pages_free(void *pages, unsigned long npages)
{
	if (!pages)
		return;
	if (npages == 1)
		free_page((unsigned long)pages);
	else if (is_vmalloc_addr(pages))
		vfree(pages);
	else
		free_pages_exact(pages, npages * PAGE_SIZE);
}

unsigned long long ksp_clock_ns(void)
{
	return ktime_get_ns();
}

unsigned long long ksp_random_u64(void)
{
	return get_random_u64();
}
