// SPDX-License-Identifier: GPL-2.0
/*
 * Kprobes and kretprobes: a script's Kprobe.hit(Regs) at a kernel
 * function's entry, Kretprobe.ret(Regs) at its return.
 *
 * ATOMIC CONTEXT: the handlers below run with preemption off, possibly in
 * interrupts, possibly on several CPUs at once; they only fill in an event
 * and call ks_hook_event() (ks.h), which never sleeps or waits.
 * Registration and unregistration run in process context (the loader and
 * the teardown); unregister_kprobe() waits for handlers in flight.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/security.h>
#include "ks.h"

/* The probed function's first six arguments, as the calling convention
 * passes them (regs_get_kernel_argument; inline, each a constant offset). */
static __always_inline void ks_probe_args(struct pt_regs *regs, long long *arg)
{
	arg[0] = (long long)regs_get_kernel_argument(regs, 0);
	arg[1] = (long long)regs_get_kernel_argument(regs, 1);
	arg[2] = (long long)regs_get_kernel_argument(regs, 2);
	arg[3] = (long long)regs_get_kernel_argument(regs, 3);
	arg[4] = (long long)regs_get_kernel_argument(regs, 4);
	arg[5] = (long long)regs_get_kernel_argument(regs, 5);
}

/*
 * Atomic context. The event is left uninitialized past what probes fill
 * in (the engine reads only arg and ret of a probe's event): zeroing all
 * of it (the kernel's -ftrivial-auto-var-init=zero) was a rep stos of 144
 * bytes per hit, which TCG runs one iteration at a time.
 */
static int ks_kprobe_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct ks_kobj *k = container_of(p, struct ks_kobj, kprobe.kp);
	struct ks_event e __uninitialized;

	ks_probe_args(regs, e.arg);
	e.ret = 0;
	ks_hook_event(k, &e);
	return 0;
}

/* Atomic context: at entry, the arguments are kept for the return. */
static int ks_kretprobe_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ks_probe_args(regs, (long long *)ri->data);
	return 0;
}

/* Atomic context. */
static int ks_kretprobe_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kretprobe *rp = get_kretprobe(ri);
	struct ks_kobj *k;
	struct ks_event e __uninitialized;	/* only arg and ret: see ks_kprobe_pre() */

	if (!rp)
		return 0;	/* being unregistered */
	k = container_of(rp, struct ks_kobj, kretprobe.krp);
	memcpy(e.arg, ri->data, sizeof(e.arg));
	e.ret = (long long)regs_return_value(regs);
	ks_hook_event(k, &e);
	return 0;
}

/* Lockdown forbids kprobes as it forbids kprobe events in tracefs. */
static int ks_probe_create(struct ks_kobj *k)
{
	return security_locked_down(LOCKDOWN_KPROBES);
}

/*
 * A refused probe fails the load with the script's line, the symbol and
 * the kernel's errno, and what the errno usually means.
 */
static int ks_probe_failed(struct ks_kobj *k, struct ks_diag *dg, int err)
{
	const char *why = err == -ENOENT ? "no such kernel function" :
			  err == -EINVAL ? "the kernel refuses to probe it (kprobe blacklist, notrace or not a function entry)" :
			  err == -EACCES ? "it is kscript's own code" :
			  err == -EBUSY ? "another probe or tracer owns it" : "the kernel refused it";

	ks_diag_add(dg, "%s:%u: error: cannot place %s on '%s': %s (error %d)\n", k->script->name, k->obj->line,
		    k->obj->name, k->hook.symbol, why, err);
	pr_warn("%s:%u: cannot place %s on '%s' (error %d)\n", k->script->name, k->obj->line, k->obj->name,
		k->hook.symbol, err);
	return err;
}

/*
 * kscript's own code is refused: a probe there would fire inside the
 * engine. (Events before the commit are skipped, so the moment between
 * register and unregister here is harmless.)
 */
static bool ks_probe_in_module(void *addr)
{
	return within_module((unsigned long)addr, THIS_MODULE);
}

static int ks_kprobe_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	struct kprobe *kp = &k->kprobe.kp;
	int err;

	kp->symbol_name = k->hook.symbol;
	kp->pre_handler = ks_kprobe_pre;
	err = register_kprobe(kp);
	if (err)
		return ks_probe_failed(k, dg, err);
	if (ks_probe_in_module(kp->addr)) {
		unregister_kprobe(kp);
		return ks_probe_failed(k, dg, -EACCES);
	}
	return 0;
}

static void ks_kprobe_disable(struct ks_kobj *k)
{
	if (k->registered)
		unregister_kprobe(&k->kprobe.kp);
}

static int ks_kretprobe_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	struct kretprobe *rp = &k->kretprobe.krp;
	int err;

	rp->kp.symbol_name = k->hook.symbol;
	rp->entry_handler = ks_kretprobe_entry;
	rp->handler = ks_kretprobe_ret;
	rp->data_size = sizeof(long long) * 6;
	err = register_kretprobe(rp);
	if (err)
		return ks_probe_failed(k, dg, err);
	if (ks_probe_in_module(rp->kp.addr)) {
		unregister_kretprobe(rp);
		return ks_probe_failed(k, dg, -EACCES);
	}
	return 0;
}

static void ks_kretprobe_disable(struct ks_kobj *k)
{
	if (k->registered)
		unregister_kretprobe(&k->kretprobe.krp);
}

/* A probe is listed by its symbol. */
static void ks_probe_record(const struct ks_kobj *k, struct ks_ioc_object *o)
{
	strscpy(o->name, k->hook.symbol, sizeof(o->name));
}

/* struct kprobe sits in our ks_kobj; a kretprobe also has its instances
 * (maxactive defaults to 2 per CPU, at least 10) of 6 saved arguments. */
const struct ks_kind_ops ks_kprobe_ops = {
	.name = "kprobe",
	.cost = 0,
	.create = ks_probe_create,
	.enable = ks_kprobe_enable,
	.disable = ks_kprobe_disable,
	.record = ks_probe_record,
};

const struct ks_kind_ops ks_kretprobe_ops = {
	.name = "kretprobe",
	.cost = 4096,
	.create = ks_probe_create,
	.enable = ks_kretprobe_enable,
	.disable = ks_kretprobe_disable,
	.record = ks_probe_record,
};
