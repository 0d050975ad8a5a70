// SPDX-License-Identifier: GPL-2.0
/*
 * The platform interface (include/kscript_platform.h) in the kernel: pages,
 * the clock and random numbers for the engine inside kscript.ko. The
 * userspace one is platform/user/platform.c.
 */
#include <linux/gfp.h>
#include <linux/llist.h>
#include <linux/preempt.h>
#include <linux/workqueue.h>
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

/*
 * In atomic context (kprobe and netfilter hooks): no sleeping, no vmalloc,
 * no dipping into the emergency reserves; at most KS_CONTIGUOUS_MAX_PAGES.
 * The CLI's platform keeps the same limit.
 */
void *ksp_pages_alloc_nowait(unsigned long npages)
{
	if (npages == 1)
		return (void *)__get_free_page(GFP_NOWAIT | __GFP_NOWARN);
	if (npages == 0 || npages > KS_CONTIGUOUS_MAX_PAGES)
		return NULL;
	return alloc_pages_exact(npages * PAGE_SIZE, GFP_NOWAIT | __GFP_NOWARN);
}

/*
 * vfree() may sleep, and a hook may free a buffer that process context
 * allocated from vmalloc (a Bytes outgrown in a hook): those wait on a
 * lock-free list, threaded through the freed memory itself, for a work
 * item. ksp_platform_exit() flushes it.
 */
static LLIST_HEAD(ksp_vfree_list);

static void ksp_vfree_fn(struct work_struct *work)
{
	struct llist_node *node = llist_del_all(&ksp_vfree_list), *next;

	for (; node; node = next) {
		next = node->next;
		vfree(node);
	}
}
static DECLARE_WORK(ksp_vfree_work, ksp_vfree_fn);

void ksp_pages_free(void *pages, unsigned long npages)
{
	if (!pages)
		return;
	if (npages == 1) {
		free_page((unsigned long)pages);
	} else if (is_vmalloc_addr(pages)) {
		if (preemptible()) {
			vfree(pages);
		} else {
			llist_add((struct llist_node *)pages, &ksp_vfree_list);
			schedule_work(&ksp_vfree_work);
		}
	} else {
		free_pages_exact(pages, npages * PAGE_SIZE);
	}
}

/* Module exit: the deferred frees are done before the module goes. */
void ksp_platform_exit(void)
{
	flush_work(&ksp_vfree_work);
	ksp_vfree_fn(NULL);
}

unsigned long long ksp_clock_ns(void)
{
	return ktime_get_ns();
}

unsigned long long ksp_random_u64(void)
{
	return get_random_u64();
}
