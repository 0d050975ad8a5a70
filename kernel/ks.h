/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kscript.ko internals, shared by its files:
 *   ks_main.c     module init, scripts (load, unload, locking), /proc/kscript
 *   ks_ctl.c      /dev/kscript: loading by write() or ioctl
 *   ks_objects.c  the kernel side of host objects: devices, /proc files, timers
 *   ks_bench.c    the `bench` parameter (SLUB against the engine's slab)
 *   ks_platform.c the engine's platform interface (platform/kernel/)
 *
 * The engine's host-object layer (core/api/Host.cpp) checks every Device,
 * Proc and Timer a script makes (class, name, limits, quota) and records
 * it; this module only registers it for real and runs its handlers.
 */
#ifndef KS_H
#define KS_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include "kscript.h"

#define KS_MAX_SOURCE (1UL << 20)

struct ks_script;

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
		} timer;
	};
};

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
void ks_objects_start_timers(struct ks_script *s);
void ks_objects_unregister(struct ks_script *s);
void ks_objects_free(struct ks_script *s);
void ks_objects_show(struct seq_file *m, struct ks_script *s);
extern unsigned long ks_object_costs[KS_OBJECT_KINDS];

/* ks_bench.c */
void ks_bench_slab(void);

#endif
