// SPDX-License-Identifier: GPL-2.0
/*
 * What every kind of host object shares. The engine (core/api/Host.cpp)
 * has already checked each object (class, name, numbers, per-script limit,
 * quota) when ks_object_created() is called; this file adds what only the
 * kernel knows (names unique across scripts), keeps the script's list, and
 * drives each kind's ks_kind_ops through the script's life: create at the
 * engine's request, enable after a successful load, start at the commit,
 * disable at unload, destroy when the script is freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "ks.h"

static const struct ks_kind_ops *const ks_kinds[KS_OBJECT_KINDS] = {
	[KS_OBJECT_DEVICE] = &ks_device_ops,
	[KS_OBJECT_PROC] = &ks_proc_ops,
	[KS_OBJECT_TIMER] = &ks_timer_ops,
	[KS_OBJECT_KPROBE] = &ks_kprobe_ops,
	[KS_OBJECT_KRETPROBE] = &ks_kretprobe_ops,
	[KS_OBJECT_NETFILTER] = &ks_netfilter_ops,
};

/* Timers, teardowns and deferred collections: CPU-bound script work stays
 * off the shared per-CPU system workqueue, where it would delay other work. */
struct workqueue_struct *ks_wq;

/* Device and /proc names of every script (ks_names_lock). */
static DEFINE_SPINLOCK(ks_names_lock);
static LIST_HEAD(ks_names);

/* The kernel memory each kind stands for, for the engine to charge. */
void ks_object_costs(unsigned long *costs)
{
	int i;

	for (i = 0; i < KS_OBJECT_KINDS; i++)
		costs[i] = sizeof(struct ks_kobj) + ks_kinds[i]->cost;
}

/*
 * The engine made [obj] (hook `created`, process context, script lock
 * held): our side of it, its name across scripts, and what its kind
 * claims. Returns 0 or -errno (the script then gets an exception).
 */
int ks_object_created(void *ctx, struct ks_object *obj)
{
	struct ks_script *s = ctx;
	const struct ks_kind_ops *ops;
	struct ks_kobj *k, *other;
	int err = 0;

	if (obj->kind < 0 || obj->kind >= KS_OBJECT_KINDS)
		return -EINVAL;
	ops = ks_kinds[obj->kind];
	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	k->script = s;
	k->obj = obj;
	k->kind = obj->kind;
	k->mode = obj->mode;
	k->writable = obj->writable;
	k->interval_ms = obj->interval_ms;
	strscpy(k->name, obj->name, sizeof(k->name));
	strscpy(k->hook.symbol, obj->symbol, sizeof(k->hook.symbol));
	atomic64_set(&k->hook.missed, 0);
	INIT_LIST_HEAD(&k->global);
	err = ops->create(k);
	if (err) {
		kfree(k);
		return err;
	}
	if (ops->named) {
		spin_lock(&ks_names_lock);
		list_for_each_entry(other, &ks_names, global)
			if (other->kind == k->kind && !strcmp(other->name, k->name))
				err = -EEXIST;
		if (!err)
			list_add_tail(&k->global, &ks_names);
		spin_unlock(&ks_names_lock);
		if (err) {
			if (ops->destroy)
				ops->destroy(k);
			kfree(k);
			return err;
		}
	}
	obj->host = k;
	spin_lock(&s->stats_lock);
	list_add_tail(&k->node, &s->kobjs);
	spin_unlock(&s->stats_lock);
	/* A timer made by a handler, after the load, starts at once. */
	if (obj->after_load && ops->start)
		ops->start(k);
	return 0;
}

/* Timer.stop() (hook `stopped`); may come from a hook, in atomic context. */
void ks_object_stopped(void *ctx, struct ks_object *obj)
{
	struct ks_kobj *k = obj->host;

	if (k && k->kind == KS_OBJECT_TIMER)
		ks_timer_stop(k);
}

/*
 * After a successful load: registers the script's objects (devices, /proc
 * files, probes, netfilter hooks). No handler runs meanwhile: the load has
 * not committed, so ks_enter() turns callers away, hooks skip their events
 * and timers start at the commit. 0 or -errno, with a diagnostic; the
 * caller then unregisters whatever was registered.
 */
int ks_objects_register(struct ks_script *s, struct ks_diag *dg)
{
	struct ks_kobj *k;
	int err;

	list_for_each_entry(k, &s->kobjs, node) {
		err = ks_kinds[k->kind]->enable(k, dg);
		if (err)
			return err;
		k->registered = true;
	}
	return 0;
}

/* At the commit, with the script lock: timers start counting. */
void ks_objects_start(struct ks_script *s)
{
	struct ks_kobj *k;

	list_for_each_entry(k, &s->kobjs, node)
		if (ks_kinds[k->kind]->start)
			ks_kinds[k->kind]->start(k);
}

/*
 * Removes a script's objects from the kernel; the script is dead (no
 * handler runs or starts), so its list no longer changes. Each kind waits
 * for its running handlers: /proc operations, timer runs, probe hits and
 * packets in flight on other CPUs. Open devices keep their file, which
 * then gets ENODEV.
 */
void ks_objects_unregister(struct ks_script *s)
{
	struct ks_kobj *k;

	list_for_each_entry(k, &s->kobjs, node) {
		ks_kinds[k->kind]->disable(k);
		k->registered = false;
		spin_lock(&ks_names_lock);
		list_del_init(&k->global);
		spin_unlock(&ks_names_lock);
	}
}

/* Frees our side of the objects (the script is being freed). */
void ks_objects_free(struct ks_script *s)
{
	struct ks_kobj *k, *tmp;

	list_for_each_entry_safe(k, tmp, &s->kobjs, node) {
		spin_lock(&ks_names_lock);
		list_del_init(&k->global);
		spin_unlock(&ks_names_lock);
		if (ks_kinds[k->kind]->destroy)
			ks_kinds[k->kind]->destroy(k);
		list_del(&k->node);
		kfree(k);
	}
}

/*
 * The records of the script's objects for the listing (KS_IOC_LIST and
 * /proc/kscript/scripts): fills at most [room] at [o] and returns how many
 * objects the script has. Caller holds s->stats_lock, which guards the list.
 */
unsigned int ks_objects_record(struct ks_script *s, struct ks_ioc_object *o, unsigned int room)
{
	const struct ks_kobj *k;
	unsigned int n = 0;

	list_for_each_entry(k, &s->kobjs, node) {
		if (n < room) {
			memset(&o[n], 0, sizeof(o[n]));
			o[n].kind = k->kind;
			strscpy(o[n].name, k->name, sizeof(o[n].name));
			if (ks_kinds[k->kind]->record)
				ks_kinds[k->kind]->record(k, &o[n]);
		}
		n++;
	}
	return n;
}

/*
 * The script's lines of /proc/kscript/hooks: per hook, its events and what
 * became of them. The counters are read without the script (they may be a
 * moment apart); a kprobe's own nmissed (recursion the kprobe core caught)
 * counts as missed too.
 */
void ks_hooks_show(struct seq_file *m, struct ks_script *s)
{
	struct ks_kobj *k;

	spin_lock(&s->stats_lock);
	list_for_each_entry(k, &s->kobjs, node) {
		u64 missed = atomic64_read(&k->hook.missed);

		if (k->kind == KS_OBJECT_KPROBE) {
			missed += READ_ONCE(k->kprobe.kp.nmissed);
			seq_printf(m, "%s kprobe %s", s->name, k->hook.symbol);
		} else if (k->kind == KS_OBJECT_KRETPROBE) {
			missed += READ_ONCE(k->kretprobe.krp.nmissed) + READ_ONCE(k->kretprobe.krp.kp.nmissed);
			seq_printf(m, "%s kretprobe %s", s->name, k->hook.symbol);
		} else if (k->kind == KS_OBJECT_NETFILTER) {
			seq_printf(m, "%s netfilter %s:%s:%d", s->name, k->nf.ops.pf == NFPROTO_IPV6 ? "ipv6" : "ipv4",
				   ks_nf_hook_name(k->nf.ops.hooknum), k->nf.ops.priority);
		} else {
			continue;
		}
		seq_printf(m, " %llu %llu %llu %llu %llu\n", READ_ONCE(k->hook.hits), missed,
			   READ_ONCE(k->hook.exceptions), READ_ONCE(k->hook.budget_stops), READ_ONCE(k->hook.ns));
	}
	spin_unlock(&s->stats_lock);
}

int ks_objects_init(void)
{
	int err;

	ks_wq = alloc_workqueue("kscript", WQ_UNBOUND, 0);
	if (!ks_wq)
		return -ENOMEM;
	err = ks_file_init();
	if (err)
		destroy_workqueue(ks_wq);
	return err;
}

void ks_objects_exit(void)
{
	destroy_workqueue(ks_wq);	/* waits for a teardown still returning */
	ks_file_exit();
}
