// SPDX-License-Identifier: GPL-2.0
/*
 * slubbench.ko: at load, kmem_cache_alloc/free of the kernel's SLUB against
 * the engine's own slab allocator (ks_slab_bench(), which kscript.ko
 * exports), one line each in the log (tools/kernel-bench.sh reads them);
 * then the load fails on purpose (-EAGAIN): nothing stays loaded. The
 * benchmark lives here, not in kscript.ko.
 */
#define pr_fmt(fmt) "kscript: " fmt

#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "kscript.h"

static int __init slubbench_init(void)
{
	const unsigned long pairs = 2000000, bulk = 200000;
	struct kmem_cache *cache = kmem_cache_create("ks_bench", 32, 8, 0, NULL);
	void **objects = vmalloc(bulk * sizeof(void *));
	u64 t0, slub_pairs, slub_bulk, ours_pairs, ours_bulk;
	unsigned long i;

	if (!cache || !objects)
		goto out;
	t0 = ktime_get_ns();
	for (i = 0; i < pairs; i++) {
		void *p = kmem_cache_alloc(cache, GFP_KERNEL);

		if (!p)
			break;
		*(volatile char *)p = i;
		kmem_cache_free(cache, p);
	}
	slub_pairs = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < bulk; i++) {
		objects[i] = kmem_cache_alloc(cache, GFP_KERNEL);
		if (objects[i])
			*(volatile char *)objects[i] = i;
	}
	for (i = 0; i < bulk; i++)
		kmem_cache_free(cache, objects[i]);
	slub_bulk = ktime_get_ns() - t0;
	ours_pairs = ks_slab_bench(0, pairs, 32);
	ours_bulk = ks_slab_bench(1, bulk, 32);
	pr_info("BENCH slab pairs32 slub %llu ns/op kscript %llu ns/op\n",
		div_u64(slub_pairs, pairs), div_u64(ours_pairs, pairs));
	pr_info("BENCH slab bulk32 slub %llu ns/op kscript %llu ns/op\n",
		div_u64(slub_bulk, bulk), div_u64(ours_bulk, bulk));
out:
	vfree(objects);
	kmem_cache_destroy(cache);
	return -EAGAIN;
}

module_init(slubbench_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SLUB against the kscript slab allocator (benchmark)");
