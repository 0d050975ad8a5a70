// SPDX-License-Identifier: GPL-2.0
/*
 * The platform interface (include/kscript_platform.h) in the kernel: pages,
 * the clock and random numbers for the engine inside kscript.ko. The
 * userspace one is platform/user/platform.c.
 */
#include <linux/gfp.h>
#include <linux/hardirq.h>
#include <linux/irq_work.h>
#include <linux/percpu.h>
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

/*
 * Pages for NMI context, where the page allocator may not be called: a
 * small reserve of single pages (slab pages are single pages) shared by
 * all scripts. A slot is taken with one atomic exchange, which is safe in
 * NMI context and against every CPU; process context fills the empty
 * slots (ksp_reserve_fill(): at every sleeping page allocation while a
 * slot is empty, and from the deferred work that a take queues). A hook
 * in NMI context that finds the reserve empty gets no page: its event
 * ends in OutOfMemoryException. The reserve holds KSP_NMI_RESERVE pages
 * while the module is loaded; ksp_platform_exit() frees them.
 */
#define KSP_NMI_RESERVE 16
static atomic_long_t ksp_reserve[KSP_NMI_RESERVE];
static atomic_t ksp_reserve_empty = ATOMIC_INIT(KSP_NMI_RESERVE);

static void ksp_reserve_fill(void)
{
	int i;

	for (i = 0; i < KSP_NMI_RESERVE && atomic_read(&ksp_reserve_empty) > 0; i++) {
		unsigned long page;

		if (atomic_long_read(&ksp_reserve[i]))
			continue;
		page = __get_free_page(GFP_KERNEL | __GFP_NOWARN);
		if (!page)
			return;
		if (atomic_long_cmpxchg(&ksp_reserve[i], 0, page))
			free_page(page);
		else
			atomic_dec(&ksp_reserve_empty);
	}
}

static void ksp_deferred_irq_fn(struct irq_work *work);
static DEFINE_IRQ_WORK(ksp_deferred_irq, ksp_deferred_irq_fn);

/* A page of the reserve, or NULL. NMI-safe; queues the refill. */
static void *ksp_reserve_take(void)
{
	int i;

	for (i = 0; i < KSP_NMI_RESERVE; i++) {
		unsigned long page = atomic_long_xchg(&ksp_reserve[i], 0);

		if (page) {
			atomic_inc(&ksp_reserve_empty);
			irq_work_queue(&ksp_deferred_irq);
			return (void *)page;
		}
	}
	return NULL;
}

void *ksp_pages_alloc(unsigned long npages)
{
	void *p;

	if (atomic_read(&ksp_reserve_empty) > 0)
		ksp_reserve_fill();
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
 * In NMI context (a kprobe taken through int3 runs as an NMI on x86, and
 * an NMI handler may be probed) not even that: the page allocator's locks
 * may be held by the code the NMI interrupted. The CLI's platform keeps
 * the same size limit.
 */
void *ksp_pages_alloc_nowait(unsigned long npages)
{
	if (in_nmi())
		return npages == 1 ? ksp_reserve_take() : NULL;
	if (npages == 1)
		return (void *)__get_free_page(GFP_NOWAIT | __GFP_NOWARN);
	if (npages == 0 || npages > KS_CONTIGUOUS_MAX_PAGES)
		return NULL;
	return alloc_pages_exact(npages * PAGE_SIZE, GFP_NOWAIT | __GFP_NOWARN);
}

/*
 * Frees that cannot happen where they are asked for: vfree() may sleep,
 * and in NMI context no page may go back to the allocator. Those pages
 * wait on a lock-free list, each with its size written into it, for a
 * work item; from NMI context the work is queued through an irq_work (the
 * one thing an NMI may raise). ksp_platform_exit() finishes them.
 */
struct ksp_deferred {
	struct llist_node node;
	unsigned long npages;
};
static LLIST_HEAD(ksp_deferred_list);

static void ksp_free_now(void *pages, unsigned long npages)
{
	if (npages == 1)
		free_page((unsigned long)pages);
	else if (is_vmalloc_addr(pages))
		vfree(pages);
	else
		free_pages_exact(pages, npages * PAGE_SIZE);
}

static void ksp_deferred_fn(struct work_struct *work)
{
	struct llist_node *node = llist_del_all(&ksp_deferred_list), *next;

	for (; node; node = next) {
		struct ksp_deferred *d = container_of(node, struct ksp_deferred, node);

		next = node->next;
		ksp_free_now(d, d->npages);
	}
	if (work)
		ksp_reserve_fill();
}
static DECLARE_WORK(ksp_deferred_work, ksp_deferred_fn);

static void ksp_deferred_irq_fn(struct irq_work *work)
{
	schedule_work(&ksp_deferred_work);
}

void ksp_pages_free(void *pages, unsigned long npages)
{
	struct ksp_deferred *d = pages;

	if (!pages)
		return;
	if (!in_nmi() && (preemptible() || !is_vmalloc_addr(pages))) {
		ksp_free_now(pages, npages);
		return;
	}
	d->npages = npages;
	llist_add(&d->node, &ksp_deferred_list);
	if (in_nmi())
		irq_work_queue(&ksp_deferred_irq);
	else
		schedule_work(&ksp_deferred_work);
}

/* Module exit: the deferred frees are done before the module goes. */
void ksp_platform_exit(void)
{
	int i;

	irq_work_sync(&ksp_deferred_irq);
	flush_work(&ksp_deferred_work);
	ksp_deferred_fn(NULL);
	for (i = 0; i < KSP_NMI_RESERVE; i++) {
		unsigned long page = atomic_long_xchg(&ksp_reserve[i], 0);

		if (page)
			free_page(page);
	}
}

/* ktime_get_ns() may spin on the timekeeper's sequence count, which an
 * NMI can interrupt the writer of: there the NMI-safe clock. */
unsigned long long ksp_clock_ns(void)
{
	return in_nmi() ? ktime_get_mono_fast_ns() : ktime_get_ns();
}

/*
 * get_random_u64() takes locks (the batch's local lock, the CRNG's when it
 * refills), so in NMI context a per-CPU xorshift64* stands in, seeded from
 * it outside NMI. Only NMI context uses the state, and NMIs do not nest,
 * so it needs no lock. Not for cryptography, like Linux.random() itself.
 */
static DEFINE_PER_CPU(u64, ksp_nmi_random);

unsigned long long ksp_random_u64(void)
{
	u64 x;

	if (!in_nmi()) {
		x = get_random_u64();
		if (!this_cpu_read(ksp_nmi_random))
			this_cpu_write(ksp_nmi_random, x | 1);
		return x;
	}
	x = this_cpu_read(ksp_nmi_random);
	if (!x)
		x = ktime_get_mono_fast_ns() | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	this_cpu_write(ksp_nmi_random, x);
	return x * 0x2545F4914F6CDD1DULL;
}
