/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kscript.ko internals, shared by its files:
 *   ks_main.c      module init, scripts (load, unload, locking), /proc/kscript
 *   ks_ctl.c       /dev/kscript: loading by write() or ioctl
 *   ks_objects.c   what every kind of host object shares: creation, names
 *                  across scripts, registration, teardown, listing
 *   ks_file.c      devices and /proc files (one kind each, shared file ops)
 *   ks_timer.c     timers
 *   ks_probe.c     kprobes and kretprobes       (atomic context)
 *   ks_netfilter.c netfilter hooks              (atomic context)
 *   ks_hook.c      running a hook's event: exclusion, budget, statistics
 *   ks_platform.c  the engine's platform interface (platform/kernel/)
 *
 * The engine's host-object layer (core/api/Host.cpp) checks every object a
 * script makes (class, name, limits, quota) and records it; this module
 * only registers it for real and runs its handlers. Each kind has one
 * struct ks_kind_ops; its state is its member of the union in ks_kobj.
 *
 * Locking. A script's engine state is entered by one caller at a time.
 * Process context (file operations, timers, the loader) takes the mutex
 * s->lock and then the flag s->busy; hooks, which run where sleeping is
 * forbidden, only try the flag and count a miss when it is taken. A hook
 * holds the flag for at most its budget, so process context's wait for it
 * is short; process context may hold it across sleeps, and hooks then miss.
 */
#ifndef KS_H
#define KS_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/netfilter.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include "kscript.h"
#include "kscript_ioctl.h"

struct seq_file;

#define KS_MAX_SOURCE (1UL << 20)

struct ks_script;
struct ks_diag;

/* The kernel side of one host object (the engine's struct ks_object). */
struct ks_kobj {
	struct list_head node;		/* in script->kobjs: added under stats_lock with the script
					 * lock held; removed only when the script is freed */
	struct list_head global;	/* devices and /proc files: in ks_names (ks_names_lock) */
	struct ks_script *script;
	struct ks_object *obj;		/* the engine's record: lives as long as the state */
	int kind;			/* KS_OBJECT_* */
	char name[KS_NAME_MAX];
	umode_t mode;
	bool writable;			/* copies of the engine's record, which goes */
	unsigned long interval_ms;	/* with the state at unload */
	bool registered;
	union {
		struct {
			struct cdev *cdev;
			int minor;	/* in kscript's own char region, -1 if none */
		} device;
		struct {
			struct proc_dir_entry *pde;
		} proc;
		struct {
			struct delayed_work work;
			u64 missed;	/* ticks skipped while a handler held the script */
			bool started;	/* queued once (script lock) */
		} timer;
		struct {
			struct kprobe kp;
		} kprobe;
		struct {
			struct kretprobe krp;
		} kretprobe;
		struct {
			struct nf_hook_ops ops;
		} nf;
	};
	/* Hooks (kprobe, kretprobe, netfilter): the events and what became of
	 * them. [missed] by any CPU (atomic); the rest only by the holder of
	 * the script's busy flag, read without it by the listing. */
	struct {
		atomic64_t missed;	/* the script was busy (or the event came in NMI) */
		u64 hits;		/* the handler ran */
		u64 exceptions;		/* ... and raised */
		u64 budget_stops;	/* ... and ran out of budget */
		u64 ns;			/* time in the handler (estimated: every 16th event is timed) */
		char symbol[KS_SYMBOL_MAX];
	} hook;
};

/*
 * One kind of host object. Every operation runs in process context; the
 * hooks' event handlers are their own business (ks_probe.c, ks_netfilter.c).
 */
struct ks_kind_ops {
	const char *name;
	unsigned long cost;	/* kernel memory per object beyond struct ks_kobj, charged to the quota */
	bool named;		/* names unique across scripts (devices, /proc files) */
	/* The engine made the object: claim what it needs (script lock held). */
	int (*create)(struct ks_kobj *k);
	/* After a successful load: register it; 0 or -errno (with a diagnostic). */
	int (*enable)(struct ks_kobj *k, struct ks_diag *dg);
	/* At the commit: start (timers). May be NULL. */
	void (*start)(struct ks_kobj *k);
	/* Unload: unregister and wait for running handlers. */
	void (*disable)(struct ks_kobj *k);
	/* Free what create() took (the script is being freed). May be NULL. */
	void (*destroy)(struct ks_kobj *k);
	/* Its record in the listing (KS_IOC_LIST, /proc/kscript/scripts):
	 * [o] is zeroed and has kind and name; fill the rest. May be NULL. */
	void (*record)(const struct ks_kobj *k, struct ks_ioc_object *o);
};

extern const struct ks_kind_ops ks_device_ops, ks_proc_ops, ks_timer_ops, ks_kprobe_ops, ks_kretprobe_ops,
	ks_netfilter_ops;

struct ks_script {
	struct list_head node;		/* in ks_scripts (ks_scripts_lock) */
	struct kref ref;		/* the list, open files, loads in progress */
	struct mutex lock;		/* every call into state */
	char name[KS_NAME_MAX];
	ks_state *state;		/* NULL once torn down (lock) */
	bool loaded;			/* listed and unloadable (ks_scripts_lock) */
	bool committed;			/* the load is final: handlers may run (lock) */
	bool dead;			/* no handler runs any more (lock) */
	atomic_t stopping;		/* unload asks a running handler to stop */
	atomic_t busy;			/* the engine state is in use (see above) */
	struct work_struct gc_work;	/* a collection a hook could not run */
	struct irq_work gc_irq;		/* queues gc_work from NMI context */
	bool read_locked;		/* lockdown forbids readKernel (ks_hook.c) */
	struct list_head kobjs;
	u64 handler_calls;		/* lock */
	u64 handler_errors;		/* lock */
	atomic_long_t refund;		/* freed read buffers not yet credited to the quota */
	spinlock_t stats_lock;		/* stats: listing never waits for the script */
	struct ks_stats stats;
	u64 stats_calls, stats_errors;
	struct ratelimit_state log_rs;	/* this script's lines in the kernel log */
	struct work_struct teardown;	/* unload: objects, engine state, name */
	struct completion torn_down;
};

extern struct proc_dir_entry *ks_proc_dir;

/* ks_main.c */
void ks_script_put(struct ks_script *s);
int ks_enter(struct ks_script *s);
void ks_leave(struct ks_script *s);
void ks_hold(struct ks_script *s);
void ks_unhold(struct ks_script *s);
int ks_handler_error(struct ks_script *s, int rc, const char *what);
void ks_log_script_text(struct ks_script *s, const char *tag, const char *text, size_t len);
struct ks_diag {
	char *buf;
	size_t size;
	size_t len;
};
__printf(2, 3) void ks_diag_add(struct ks_diag *dg, const char *fmt, ...);
int ks_load_script(const char *src, size_t len, const char *name, unsigned long quota, long long budget,
		   unsigned int depth, struct ks_diag *dg, struct ks_script **out);
void ks_commit_script(struct ks_script *s, struct ks_diag *dg);
void ks_abort_script(struct ks_script *s);
int ks_unload_script(const char *name);

/* ks_ctl.c */
int ks_ctl_init(void);
void ks_ctl_exit(void);

/* ks_objects.c: the engine's host hooks and what the loader does with objects */
extern struct workqueue_struct *ks_wq;
int ks_objects_init(void);
void ks_objects_exit(void);
int ks_object_created(void *ctx, struct ks_object *obj);
void ks_object_stopped(void *ctx, struct ks_object *obj);
int ks_objects_register(struct ks_script *s, struct ks_diag *dg);
void ks_objects_start(struct ks_script *s);
void ks_objects_unregister(struct ks_script *s);
void ks_objects_free(struct ks_script *s);
unsigned int ks_objects_record(struct ks_script *s, struct ks_ioc_object *o, unsigned int room);
void ks_object_costs(unsigned long *costs);
void ks_hooks_show(struct seq_file *m, struct ks_script *s);

/* ks_file.c */
int ks_file_init(void);
void ks_file_exit(void);
bool ks_dev_name_in_use(const char *name);

/* ks_timer.c */
void ks_timer_stop(struct ks_kobj *k);

/* ks_hook.c: a hook's slow paths (ks_hook_event() below), kernel memory
 * and packet reads */
void ks_hook_error(struct ks_kobj *k, int rc);
void ks_hook_collect(struct ks_script *s);
long ks_hook_read(void *ctx, int what, unsigned long long packet, unsigned long long where, void *out,
		  unsigned long n, const char **reason);
void ks_gc_fn(struct work_struct *work);
void ks_gc_irq_fn(struct irq_work *work);

/* Events per timed event (a power of two): see ks_hook_event(). */
#define KS_HOOK_TIMED 16

/*
 * Runs [k]'s handler for [e] if the script can be had at once; returns
 * the verdict (netfilter: NF_DROP 0 or NF_ACCEPT 1; NF_ACCEPT whenever
 * the handler did not run or did not finish). Atomic context: see
 * ks_hook.c. Inline in each event handler (ks_probe.c, ks_netfilter.c),
 * with the rare paths (an exception, a collection to queue) out of line:
 * in a kernel built with retpolines, each call and return is a cost per
 * event, large under emulation.
 */
static __always_inline int ks_hook_event(struct ks_kobj *k, const struct ks_event *e)
{
	struct ks_script *s = k->script;
	int verdict, collect, rc;
	bool timed;
	u64 start = 0;

	/* Not yet committed (the load is still running or failed) or being
	 * unloaded: the script does not see events. */
	if (!READ_ONCE(s->committed) || READ_ONCE(s->dead))
		return k->kind == KS_OBJECT_NETFILTER ? 1 : 0;
	if (atomic_cmpxchg_acquire(&s->busy, 0, 1)) {
		atomic64_inc(&k->hook.missed);
		return k->kind == KS_OBJECT_NETFILTER ? 1 : 0;
	}
	/*
	 * Time spent: one event in KS_HOOK_TIMED is timed and counts for all
	 * of them (reading a clock twice per event would cost a good part of
	 * a small handler). local_clock() is this CPU's scheduler clock (the
	 * TSC where there is one), NMI-safe; start and end are on one CPU,
	 * preemption being off. ktime_get*() would read the clocksource, on
	 * some machines a device register (HPET) slower than the handler.
	 */
	timed = !(k->hook.hits & (KS_HOOK_TIMED - 1));
	if (unlikely(timed))
		start = local_clock();
	rc = ks_object_hit(s->state, k->obj, e, &verdict, &collect);
	if (unlikely(timed))
		WRITE_ONCE(k->hook.ns, k->hook.ns + KS_HOOK_TIMED * (local_clock() - start));
	WRITE_ONCE(k->hook.hits, k->hook.hits + 1);
	if (unlikely(rc != KS_OK))
		ks_hook_error(k, rc);
	atomic_set_release(&s->busy, 0);
	if (unlikely(collect))
		ks_hook_collect(s);
	return verdict;
}

/*
 * The uncaught exception's message into [buf] for a log line or a load
 * diagnostic: one longer than the buffer ends in "..." so that a cut
 * message never passes for the whole one. No sleeping (hooks call it).
 */
static inline void ks_exception_text(ks_state *state, char *buf, unsigned long size)
{
	if (ks_exception_message(state, buf, size) >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
}


#endif
