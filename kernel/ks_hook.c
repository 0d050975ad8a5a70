// SPDX-License-Identifier: GPL-2.0
/*
 * One event for a hook (a kprobe or kretprobe hit, a packet at a netfilter
 * hook): its rare paths (the fast one is ks_hook_event() in ks.h, inline
 * in each event handler), and the kernel memory and packet bytes scripts
 * read.
 *
 * ATOMIC CONTEXT. Everything in this file can run where sleeping is
 * forbidden: kprobe handlers run with preemption off (in any context the
 * probed function runs in, interrupts included; a kprobe taken through
 * int3 runs in NMI context on x86), netfilter hooks in softirq or with
 * preemption off. So: no mutex, no sleeping allocation (the engine is put
 * in atomic mode by ks_object_hit(): pages only with GFP_NOWAIT, none at
 * all in NMI context, no collection, no poll), no cond_resched, no
 * waiting, no lock at all in NMI context (the clock, random numbers and
 * deferred frees of platform/kernel/platform.c have NMI-safe paths; work
 * is queued through an irq_work there). The script is taken with one try
 * of its busy flag; when another CPU, a process-context handler or this
 * very CPU (an event nested in the engine's own work) holds it, the event
 * is skipped and counted as missed. The handler's time is bounded by its
 * budget.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hardirq.h>
#include <linux/overflow.h>
#include <linux/irq_work.h>
#include <linux/security.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "ks.h"

/* An exception in a hook: counted, and logged under the script's rate limit. */
void ks_hook_error(struct ks_kobj *k, int rc)
{
	struct ks_script *s = k->script;
	char text[224];
	char message[96];
	const char *name;
	int n;

	if (rc != KS_EEXCEPTION) {
		WRITE_ONCE(k->hook.exceptions, k->hook.exceptions + 1);
		return;
	}
	name = ks_exception_name(s->state);
	if (!strcmp(name, "BudgetExceededException"))
		WRITE_ONCE(k->hook.budget_stops, k->hook.budget_stops + 1);
	else
		WRITE_ONCE(k->hook.exceptions, k->hook.exceptions + 1);
	ks_exception_text(s->state, message, sizeof(message));
	n = scnprintf(text, sizeof(text), "line %u: uncaught %s%s%s in ", ks_exception_line(s->state), name,
		      message[0] ? ": " : "", message);
	if (k->kind == KS_OBJECT_NETFILTER)
		n += scnprintf(text + n, sizeof(text) - n, "netfilter hook at %s",
			       ks_nf_hook_name(k->obj->hooknum));
	else
		n += scnprintf(text + n, sizeof(text) - n, "%s %s", k->obj->name, k->hook.symbol);
	ks_log_script_text(s, "", text, n);
}

/*
 * A collection fell due in a hook: it runs in process context, from the
 * module's workqueue (through an irq_work in NMI context, where queueing
 * work may not lock). The state lives until the hooks are unregistered,
 * and the teardown cancels both after that.
 */
void ks_hook_collect(struct ks_script *s)
{
	if (in_nmi())
		irq_work_queue(&s->gc_irq);
	else
		queue_work(ks_wq, &s->gc_work);
}

/*
 * May copy_from_kernel_nofault() be given [addr, addr + n)? A fault there
 * is fine (the copy fails), a general protection fault is not: x86's own
 * check (copy_from_kernel_nofault_allowed) tests the start against the
 * address width CPUID reports, which can be wider than the paging mode in
 * use (a CPU with 57-bit addresses under 4-level paging): an address that
 * is non-canonical for the paging mode then faults with #GP, and the
 * kernel warns. So both ends must be canonical for the paging mode
 * (__VIRTUAL_MASK_SHIFT) and in the kernel half.
 */
static bool ks_kernel_range_ok(unsigned long long where, unsigned long n)
{
	unsigned long addr = (unsigned long)where, last;

	if (check_add_overflow(addr, n ? n - 1 : 0, &last))
		return false;
#ifdef CONFIG_X86_64
	{
		unsigned int shift = 63 - __VIRTUAL_MASK_SHIFT;

		if ((unsigned long)((long)(addr << shift) >> shift) != addr ||
		    (unsigned long)((long)(last << shift) >> shift) != last)
			return false;
		if (addr < TASK_SIZE_MAX + PAGE_SIZE)
			return false;
	}
#endif
	return true;
}

/*
 * The string at [where]: [n] bytes hold it and its NUL, so its length is
 * less than [n] (a longer one is cut there). Read a page at a time with
 * copy_from_kernel_nofault(): bytes after the NUL on the same page are
 * mapped too.
 */
static long ks_read_kernel_string(char *out, unsigned long long where, unsigned long n, const char **reason)
{
	unsigned long done = 0, chunk;
	const char *nul;

	if (!n)
		return 0;
	while (done < n) {
		chunk = min(n - done, PAGE_SIZE - (unsigned long)((where + done) & (PAGE_SIZE - 1)));
		if (!ks_kernel_range_ok(where + done, chunk) ||
		    copy_from_kernel_nofault(out + done, (const void *)(unsigned long)(where + done), chunk)) {
			*reason = "cannot read kernel memory there";
			return -EFAULT;
		}
		nul = memchr(out + done, 0, chunk);
		if (nul)
			return nul - out;
		done += chunk;
	}
	out[n - 1] = 0;
	return n - 1;
}

/*
 * The engine's read hook (ks_config.read): kernel memory without faulting
 * (never a raw dereference; user and unmapped addresses fail with EFAULT),
 * refused under lockdown's confidentiality mode as /proc/kcore is; and the
 * packet being handled (its skb is the event's handle), bounded by
 * skb_header_pointer. Atomic context.
 */
long ks_hook_read(void *ctx, int what, unsigned long long packet, unsigned long long where, void *out,
		  unsigned long n, const char **reason)
{
	struct ks_script *s = ctx;

	if (what == KS_READ_PACKET) {
		struct sk_buff *skb = (struct sk_buff *)(unsigned long)packet;
		int offset = skb_network_offset(skb);
		unsigned long len = skb->len - offset;
		const void *p;

		if (where > len || n > len - where) {
			*reason = "past the end of the packet";
			return -ERANGE;
		}
		p = skb_header_pointer(skb, offset + where, n, out);
		if (!p) {
			*reason = "past the end of the packet";
			return -ERANGE;
		}
		if (p != out)
			memcpy(out, p, n);
		return n;
	}
	/*
	 * Lockdown: the LSM hooks behind security_locked_down() may take locks
	 * or log (SELinux's does), which atomic and NMI context must not. So
	 * it is asked in process context only, and a hook uses the last
	 * answer (lockdown is only ever raised; the script's load asked too).
	 */
	if (preemptible())
		WRITE_ONCE(s->read_locked, security_locked_down(LOCKDOWN_KCORE) != 0);
	if (READ_ONCE(s->read_locked)) {
		*reason = "kernel memory cannot be read under lockdown";
		return -EPERM;
	}
	if (what == KS_READ_KERNEL_STRING)
		return ks_read_kernel_string(out, where, n, reason);
	if (!ks_kernel_range_ok(where, n) || copy_from_kernel_nofault(out, (const void *)(unsigned long)where, n)) {
		*reason = "cannot read kernel memory there";
		return -EFAULT;
	}
	return n;
}
