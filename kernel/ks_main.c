// SPDX-License-Identifier: GPL-2.0
/*
 * kscript.ko: scripts in a statically typed language, compiled and run
 * inside the kernel.
 *
 * /dev/kscript (CAP_SYS_ADMIN) takes script source (ks_ctl.c); each script
 * is compiled and run in its own engine state (heap, slab allocator, memory
 * quota, instruction budget) and stays loaded with the devices, /proc files
 * and timers it made (ks_objects.c) until it is unloaded.
 *
 * Locking:
 * - ks_scripts_lock guards the list of scripts and is held only for list
 *   operations: never while a script compiles or runs, so listing never
 *   waits for a script. A script being loaded is on the list (its name is
 *   taken) but not yet `loaded`, so it is neither listed nor unloadable.
 * - Each script's mutex serializes every call into its engine state. Every
 *   wait for it is killable; a timer that finds it taken skips the tick.
 * - No lock is held across a copy to or from user memory that another task
 *   could need (the per-file read buffers are reference-counted instead).
 * - Unloading sets `stopping`, which the engine's poll hook reads: a running
 *   handler stops at its next budget check with an uncatchable exception.
 * A script's memory (and its objects') lives until the last reference (the
 * list, open files, a load in progress) drops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ks.h"
#include "kscript_platform.h"

#define KS_DEFAULT_QUOTA (16UL << 20)
#define KS_DEFAULT_BUDGET (50LL * 1000 * 1000)
#define KS_DEFAULT_DEPTH 1000
#define KS_MAX_DEPTH 100000
/* The compiler recurses once per nesting level of the source; this bound
 * keeps it well inside a 16 KiB kernel stack (tested in the guest). */
#define KS_KERNEL_NESTING 24
/* Budget between polls: how soon a handler notices a signal or an unload. */
#define KS_POLL_INTERVAL (256 * 1024)

static unsigned long memory_quota = KS_DEFAULT_QUOTA;
module_param(memory_quota, ulong, 0644);
MODULE_PARM_DESC(memory_quota, "default memory quota per script, bytes");
static unsigned long max_memory_quota = 256UL << 20;
module_param(max_memory_quota, ulong, 0644);
MODULE_PARM_DESC(max_memory_quota, "largest memory quota a load may ask for, bytes");
static long budget = KS_DEFAULT_BUDGET;
module_param(budget, long, 0644);
MODULE_PARM_DESC(budget, "default instruction budget per entry into a script");
static long max_budget = 1000L * 1000 * 1000;
module_param(max_budget, long, 0644);
MODULE_PARM_DESC(max_budget, "largest instruction budget a load may ask for");
#define KS_MAX_SCRIPTS_LIMIT 1024
static unsigned int max_scripts = 64;

/* max_scripts takes 1 .. KS_MAX_SCRIPTS_LIMIT: listing sizes arrays by it. */
static int ks_set_max_scripts(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, KS_MAX_SCRIPTS_LIMIT);
}

static const struct kernel_param_ops ks_max_scripts_ops = {
	.set = ks_set_max_scripts,
	.get = param_get_uint,
};
module_param_cb(max_scripts, &ks_max_scripts_ops, &max_scripts, 0644);
MODULE_PARM_DESC(max_scripts, "scripts loaded at once (1-1024)");
/* Hooks run with preemption off: each event gets a small budget of its own. */
static long hook_budget = 100000;
module_param(hook_budget, long, 0644);
MODULE_PARM_DESC(hook_budget, "default budget of one hook event (kprobe, kretprobe, netfilter)");
static long max_hook_budget = 1000000;
module_param(max_hook_budget, long, 0644);
MODULE_PARM_DESC(max_hook_budget, "largest budget a hook object may ask for");

/* Precompiled bytecode files (kscript compile): verified before they run,
 * like compiled source (docs/internals.md, "Verifier"). */
static bool bytecode = true;
module_param(bytecode, bool, 0644);
MODULE_PARM_DESC(bytecode, "accept precompiled bytecode files (verified before they run)");

static LIST_HEAD(ks_scripts);
static DEFINE_MUTEX(ks_scripts_lock);
static unsigned long ks_next_id;
struct proc_dir_entry *ks_proc_dir;

static void ks_teardown_fn(struct work_struct *work);

static void ks_script_free(struct kref *ref)
{
	struct ks_script *s = container_of(ref, struct ks_script, ref);

	ks_objects_free(s);
	if (s->state) {	/* a load that failed: never torn down */
		/* Read buffers freed after the last entry: credit them, so that
		 * what the state still holds at close is its own leak only. */
		ks_charge(s->state, -atomic_long_xchg(&s->refund, 0));
		ks_close(s->state);
	}
	if (ks_leaked_bytes())
		pr_warn_once("engine leaked %llu bytes (all pages were returned)\n", ks_leaked_bytes());
	kfree(s);
	module_put(THIS_MODULE);
}

void ks_script_put(struct ks_script *s)
{
	kref_put(&s->ref, ks_script_free);
}

/*
 * Writes script-made text to the kernel log (warning level if [warn]), one
 * record per line, each behind [prefix]; control characters and all
 * non-ASCII bytes are escaped (\xNN), so that no script can forge a log
 * line or send terminal escapes. Lines are cut at 200 bytes, marked "[..]".
 * Each script has its own rate limit: a chatty one does not hide another's
 * errors.
 */
static void ks_log_escaped(struct ratelimit_state *rs, bool warn, const char *prefix, const char *text,
			   size_t len)
{
	char line[224];
	size_t start = 0, end, i, n;

	do {
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		n = 0;
		for (i = start; i < end && n < 200; i++) {
			unsigned char c = text[i];

			if (c < 0x20 || c >= 0x7f)
				n += scnprintf(line + n, sizeof(line) - n, "\\x%02x", c);
			else
				line[n++] = c;
		}
		if (i < end)
			n += scnprintf(line + n, sizeof(line) - n, "[..]");
		if (__ratelimit(rs)) {
			if (warn)
				pr_warn("%s%.*s\n", prefix, (int)n, line);
			else
				pr_info("%s%.*s\n", prefix, (int)n, line);
		}
		start = end + 1;
	} while (start < len);
}

void ks_log_script_text(struct ks_script *s, const char *tag, const char *text, size_t len)
{
	char prefix[KS_NAME_MAX + 24];

	snprintf(prefix, sizeof(prefix), "%s: %s", s->name, tag);
	ks_log_escaped(&s->log_rs, false, prefix, text, len);
}

static void ks_hook_write(void *ctx, int stream, const char *text, unsigned long len)
{
	if (stream == KS_STREAM_KERNEL)
		ks_log_script_text(ctx, "", text, len);
	else if (stream == KS_STREAM_PRINT)
		ks_log_script_text(ctx, "[p] ", text, len);
}

/* Every KS_POLL_INTERVAL units of budget: may the script go on? */
static int ks_hook_poll(void *ctx)
{
	struct ks_script *s = ctx;

	cond_resched();
	return !fatal_signal_pending(current) && !atomic_read(&s->stopping);
}

static long long ks_hook_info(void *ctx, int what)
{
	switch (what) {
	case KS_INFO_JIFFIES:
		return (long long)get_jiffies_64();
	case KS_INFO_PID:
		return task_tgid_vnr(current);
	case KS_INFO_UID:
		return from_kuid_munged(current_user_ns(), current_uid());
	default:
		return 0;
	}
}

/*
 * Without task_lock(): a hook may run in an interrupt that came while this
 * CPU held it. A racing rename gives a mix of two names, never more than
 * 16 bytes (as bpf_get_current_comm() reads it).
 */
static unsigned long ks_hook_comm(void *ctx, char *out)
{
	char comm[TASK_COMM_LEN];

	strscpy(comm, current->comm, sizeof(comm));
	memcpy(out, comm, 16);
	return strnlen(comm, 16);
}

/* Copies the engine's statistics where listing reads them without the lock. */
static void ks_snapshot_stats(struct ks_script *s)
{
	struct ks_stats st;

	ks_get_stats(s->state, &st);
	spin_lock(&s->stats_lock);
	s->stats = st;
	s->stats_calls = s->handler_calls;
	s->stats_errors = s->handler_errors;
	spin_unlock(&s->stats_lock);
}

/*
 * Takes the script lock (killable) if the script is loaded (its load has
 * committed and it is not being unloaded), and
 * credits the quota with read buffers freed since the last entry.
 */
int ks_enter(struct ks_script *s)
{
	long refund;

	if (mutex_lock_killable(&s->lock))
		return -EINTR;
	if (s->dead || !s->committed) {
		mutex_unlock(&s->lock);
		return -ENODEV;
	}
	ks_hold(s);
	refund = atomic_long_xchg(&s->refund, 0);
	if (refund)
		ks_charge(s->state, -refund);
	return 0;
}

void ks_leave(struct ks_script *s)
{
	ks_snapshot_stats(s);
	ks_unhold(s);
	mutex_unlock(&s->lock);
}

/*
 * The busy flag, for process context with s->lock held (see ks.h): a hook
 * on another CPU holds it for at most its budget; one on this CPU cannot
 * be interrupted by us. Hooks never wait for it (ks_hook.c).
 */
void ks_hold(struct ks_script *s)
{
	while (atomic_cmpxchg_acquire(&s->busy, 0, 1))
		cpu_relax();
}

void ks_unhold(struct ks_script *s)
{
	atomic_set_release(&s->busy, 0);
}

/* From NMI context, where queue_work() may not be called. */
void ks_gc_irq_fn(struct irq_work *work)
{
	struct ks_script *s = container_of(work, struct ks_script, gc_irq);

	queue_work(ks_wq, &s->gc_work);
}

/* A collection that a hook could not run (ks_hook.c queues this). */
void ks_gc_fn(struct work_struct *work)
{
	struct ks_script *s = container_of(work, struct ks_script, gc_work);

	if (ks_enter(s))
		return;
	ks_collect(s->state);
	ks_leave(s);
}

/*
 * After a handler returned [rc] (not KS_OK): logs an uncaught exception
 * (rate-limited, script text escaped) and maps it to an errno. With the lock.
 */
int ks_handler_error(struct ks_script *s, int rc, const char *what)
{
	char message[160];
	const char *name;

	s->handler_errors++;
	if (rc == KS_ENOMEM)
		return -ENOMEM;
	if (rc != KS_EEXCEPTION)
		return -EIO;
	if (atomic_read(&s->stopping))
		return -ENODEV;	/* stopped by an unload: nothing to report */
	name = ks_exception_name(s->state);
	ks_exception_text(s->state, message, sizeof(message));
	{
		char head[160];

		snprintf(head, sizeof(head), "%s: %s failed (line %u): %s%s", s->name, what,
			 ks_exception_line(s->state), name, message[0] ? ": " : "");
		ks_log_escaped(&s->log_rs, true, head, message, strlen(message));
	}
	if (!strcmp(name, "OutOfMemoryException"))
		return -ENOMEM;
	if (!strcmp(name, "BudgetExceededException"))
		return fatal_signal_pending(current) ? -EINTR : -ETIME;
	return -EIO;
}

__printf(2, 3) void ks_diag_add(struct ks_diag *dg, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (dg->len + 1 >= dg->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(dg->buf + dg->len, dg->size - dg->len, fmt, ap);
	va_end(ap);
	dg->len = min(dg->len + n, dg->size - 1);
}

/* With ks_scripts_lock: the script named [name], loaded or loading. */
static struct ks_script *ks_find_script(const char *name)
{
	struct ks_script *s;

	lockdep_assert_held(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/*
 * Puts a new script on the list under a free name ([want], or scriptN), so
 * that its name is taken while it loads; checks the module's limits.
 */
static int ks_reserve_script(struct ks_script *s, const char *want, struct ks_diag *dg)
{
	struct ks_script *t;
	unsigned int n = 0;
	int err = 0;

	mutex_lock(&ks_scripts_lock);
	list_for_each_entry(t, &ks_scripts, node)
		n++;
	if (n >= max_scripts) {
		ks_diag_add(dg, "too many scripts loaded (max_scripts=%u)\n", max_scripts);
		err = -ENOSPC;
	} else if (want && want[0]) {
		if (!ks_valid_name(want, strnlen(want, KS_NAME_MAX))) {
			ks_diag_add(dg, "invalid script name (1 to 31 ASCII letters, digits, '_', '-' or '.', not starting with '.' or '-')\n");
			err = -EINVAL;
		} else if (ks_find_script(want)) {
			ks_diag_add(dg, "a script named '%s' is already loaded\n", want);
			err = -EEXIST;
		} else {
			strscpy(s->name, want, sizeof(s->name));
		}
	} else {
		do
			snprintf(s->name, sizeof(s->name), "script%lu", ++ks_next_id);
		while (ks_find_script(s->name));
	}
	if (!err)
		list_add_tail(&s->node, &ks_scripts);
	mutex_unlock(&ks_scripts_lock);
	return err;
}

/* Compiles and runs the script with its lock held; 0 or -errno. */
static int ks_compile_and_run(struct ks_script *s, const char *src, size_t len, struct ks_diag *dg)
{
	char message[160];
	unsigned int i;
	int rc;

	rc = ks_load(s->state, src, len, s->name);
	if (rc == KS_ECOMPILE) {
		for (i = 0; i < ks_diagnostic_count(s->state); i++) {
			struct ks_diagnostic dd;

			ks_get_diagnostic(s->state, i, &dd);
			ks_diag_add(dg, "%s:%u:%u: %s: %s\n", s->name, dd.line, dd.column,
				    dd.is_info ? "info" : dd.is_warning ? "warning" : "error", dd.message);
			if (!dd.is_warning) {
				char head[KS_NAME_MAX + 48];

				snprintf(head, sizeof(head), "%s:%u:%u: error: ", s->name, dd.line, dd.column);
				ks_log_escaped(&s->log_rs, true, head, dd.message, strlen(dd.message));
			}
		}
		return -EINVAL;
	}
	if (rc == KS_ETOOBIG)
		return -EFBIG;
	if (rc != KS_OK) {
		ks_diag_add(dg, "%s: out of memory while compiling\n", s->name);
		return -ENOMEM;
	}
	if (ks_run(s->state) == KS_OK)
		return 0;
	ks_exception_text(s->state, message, sizeof(message));
	ks_diag_add(dg, "%s:%u: error: uncaught %s%s%s\n", s->name, ks_exception_line(s->state),
		    ks_exception_name(s->state), message[0] ? ": " : "", message);
	{
		char head[KS_NAME_MAX + 96];

		snprintf(head, sizeof(head), "%s:%u: uncaught %s%s", s->name, ks_exception_line(s->state),
			 ks_exception_name(s->state), message[0] ? ": " : "");
		ks_log_escaped(&s->log_rs, true, head, message, strlen(message));
	}
	return fatal_signal_pending(current) ? -EINTR : -EIO;
}

/*
 * Compiles and runs [src] as a new script and makes its objects visible;
 * on success [out] is the prepared script, with a reference for the caller,
 * who then commits it (ks_commit_script) or undoes it (ks_abort_script).
 * Diagnostics go to [dg]. A failed load leaves nothing behind.
 */
int ks_load_script(const char *src, size_t len, const char *want, unsigned long quota, long long bud,
		   unsigned int depth, struct ks_diag *dg, struct ks_script **out)
{
	struct ks_script *s;
	ks_config cfg;
	int err;

	if (len > KS_MAX_SOURCE)
		return -EFBIG;
	if (quota > max_memory_quota) {
		ks_diag_add(dg, "memory quota %lu is over the module's limit (max_memory_quota=%lu)\n",
			    quota, max_memory_quota);
		return -EINVAL;
	}
	if (bud < 0 || bud > max_budget) {
		ks_diag_add(dg, "budget %lld is outside 0..%ld (max_budget)\n", bud, max_budget);
		return -EINVAL;
	}
	if (depth > KS_MAX_DEPTH) {
		ks_diag_add(dg, "call depth %u is over %u\n", depth, KS_MAX_DEPTH);
		return -EINVAL;
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (!try_module_get(THIS_MODULE)) {
		kfree(s);
		return -ENODEV;
	}
	kref_init(&s->ref);
	mutex_init(&s->lock);
	spin_lock_init(&s->stats_lock);
	ratelimit_state_init(&s->log_rs, 5 * HZ, 20);
	INIT_WORK(&s->teardown, ks_teardown_fn);
	INIT_WORK(&s->gc_work, ks_gc_fn);
	s->read_locked = security_locked_down(LOCKDOWN_KCORE) != 0;
	init_irq_work(&s->gc_irq, ks_gc_irq_fn);
	init_completion(&s->torn_down);
	INIT_LIST_HEAD(&s->kobjs);
	INIT_LIST_HEAD(&s->node);
	err = ks_reserve_script(s, want, dg);
	if (err) {
		ks_script_put(s);
		return err;
	}

	ks_config_init(&cfg);
	cfg.memory_quota = quota ? quota : min(memory_quota, max_memory_quota);
	cfg.budget = bud > 0 ? bud : min(budget, max_budget);
	cfg.max_depth = depth ? depth : KS_DEFAULT_DEPTH;
	cfg.max_nesting = KS_KERNEL_NESTING;
	cfg.max_source = KS_MAX_SOURCE;
	cfg.poll_interval = KS_POLL_INTERVAL;
	cfg.write = ks_hook_write;
	cfg.poll = ks_hook_poll;
	cfg.info = ks_hook_info;
	cfg.comm = ks_hook_comm;
	cfg.created = ks_object_created;
	cfg.stopped = ks_object_stopped;
	cfg.read = ks_hook_read;
	cfg.hook_budget = min(hook_budget, max_hook_budget);
	cfg.max_hook_budget = max_hook_budget;
	cfg.bytecode = READ_ONCE(bytecode);
	ks_object_costs(cfg.object_cost);
	cfg.ctx = s;
	s->state = ks_open(&cfg);
	if (!s->state) {
		err = -ENOMEM;
		goto fail;
	}

	mutex_lock(&s->lock);
	err = ks_compile_and_run(s, src, len, dg);
	if (err)
		WRITE_ONCE(s->dead, true);
	mutex_unlock(&s->lock);
	if (err)
		goto fail;

	/* Make its objects visible. Until the load commits, ks_enter() turns
	 * every caller away and no timer runs: nothing of it can run. */
	err = ks_objects_register(s, dg);
	if (err) {
		mutex_lock(&s->lock);
		WRITE_ONCE(s->dead, true);
		mutex_unlock(&s->lock);
		goto fail;
	}
	kref_get(&s->ref);
	*out = s;
	return 0;

fail:
	ks_objects_unregister(s);
	mutex_lock(&ks_scripts_lock);
	list_del_init(&s->node);
	mutex_unlock(&ks_scripts_lock);
	ks_script_put(s);
	return err;
}

/*
 * Makes a prepared load final: handlers may run, timers start, the script
 * is listed and can be unloaded. Drops the caller's reference.
 */
void ks_commit_script(struct ks_script *s, struct ks_diag *dg)
{
	mutex_lock(&s->lock);
	ks_hold(s);
	WRITE_ONCE(s->committed, true);
	ks_objects_start(s);
	ks_snapshot_stats(s);
	ks_unhold(s);
	mutex_unlock(&s->lock);
	mutex_lock(&ks_scripts_lock);
	s->loaded = true;
	mutex_unlock(&ks_scripts_lock);
	pr_info("%s: loaded\n", s->name);
	if (dg)
		ks_diag_add(dg, "%s: loaded\n", s->name);
	ks_script_put(s);
}

/*
 * Removes the script's objects, closes its engine state (the memory goes
 * now, not when the last open file closes) and frees its name. Runs on
 * ks_wq: removing a /proc file waits for operations in flight on it, which
 * a reader stalled in a page fault can make last; the unloader's own wait
 * for this is killable.
 */
static void ks_teardown_fn(struct work_struct *work)
{
	struct ks_script *s = container_of(work, struct ks_script, teardown);

	/* Hooks first: their unregistration waits for events in flight, and
	 * none queues a collection after it. */
	ks_objects_unregister(s);
	irq_work_sync(&s->gc_irq);
	cancel_work_sync(&s->gc_work);
	mutex_lock(&s->lock);
	if (s->state) {
		ks_charge(s->state, -atomic_long_xchg(&s->refund, 0));
		ks_close(s->state);
		s->state = NULL;
	}
	mutex_unlock(&s->lock);
	mutex_lock(&ks_scripts_lock);
	list_del_init(&s->node);
	mutex_unlock(&ks_scripts_lock);
	pr_info("%s: unloaded\n", s->name);
	complete_all(&s->torn_down);
	ks_script_put(s);	/* the list's reference */
}

/*
 * A prepared load that must not stay (its ioctl failed afterwards): undone
 * as an unload would, before any handler of it could run. Drops the
 * caller's reference.
 */
void ks_abort_script(struct ks_script *s)
{
	mutex_lock(&s->lock);
	WRITE_ONCE(s->dead, true);
	mutex_unlock(&s->lock);
	ks_teardown_fn(&s->teardown);
	ks_script_put(s);
}

/*
 * Unloads the script named [name]: a running handler is stopped (at its next
 * budget check), later ones are turned away, and its objects, memory and
 * name go (ks_teardown_fn). Every wait is killable: killed while a handler
 * still runs, the script stays loaded; killed later, the teardown finishes
 * on its own.
 */
int ks_unload_script(const char *name)
{
	struct ks_script *s;

	mutex_lock(&ks_scripts_lock);
	s = ks_find_script(name);
	if (!s || !s->loaded) {
		mutex_unlock(&ks_scripts_lock);
		return -ENOENT;
	}
	s->loaded = false;
	kref_get(&s->ref);
	mutex_unlock(&ks_scripts_lock);

	atomic_set(&s->stopping, 1);
	if (mutex_lock_killable(&s->lock)) {
		atomic_set(&s->stopping, 0);
		mutex_lock(&ks_scripts_lock);
		s->loaded = true;
		mutex_unlock(&ks_scripts_lock);
		ks_script_put(s);
		return -EINTR;
	}
	WRITE_ONCE(s->dead, true);
	mutex_unlock(&s->lock);
	queue_work(ks_wq, &s->teardown);
	wait_for_completion_killable(&s->torn_down);
	ks_script_put(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* /proc/kscript */

/* One line per loaded script, from the snapshot of its last entry. */
static int ks_scripts_show(struct seq_file *m, void *v)
{
	struct ks_script *s;

	seq_puts(m, "# name memory_used memory_peak quota calls exceptions collections handler_calls handler_errors held objects\n");
	mutex_lock(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node) {
		struct ks_stats st;
		u64 calls, errors;

		if (!s->loaded)
			continue;
		spin_lock(&s->stats_lock);
		st = s->stats;
		calls = s->stats_calls;
		errors = s->stats_errors;
		spin_unlock(&s->stats_lock);
		seq_printf(m, "%s %lu %lu %lu %llu %llu %llu %llu %llu %lu", s->name, st.memory_used,
			   st.memory_peak, st.memory_quota, st.calls, st.exceptions, st.collections,
			   calls, errors, st.pages * KSP_PAGE_SIZE);
		ks_objects_show(m, s);
		seq_putc(m, '\n');
	}
	mutex_unlock(&ks_scripts_lock);
	return 0;
}

/* One line per hook of every loaded script (ks_hooks_show). */
static int ks_hooks_file_show(struct seq_file *m, void *v)
{
	struct ks_script *s;

	seq_puts(m, "# script kind target hits missed exceptions budget_stops time_ns\n");
	mutex_lock(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node)
		if (s->loaded)
			ks_hooks_show(m, s);
	mutex_unlock(&ks_scripts_lock);
	return 0;
}

static struct seq_file *ks_listing;	/* under ks_listing_lock */
static DEFINE_MUTEX(ks_listing_lock);

static void ks_listing_write(void *ctx, int stream, const char *text, unsigned long len)
{
	if (stream == KS_STREAM_LISTING && ks_listing)
		seq_write(ks_listing, text, len);
}

/*
 * The slab caches of each script. Reading them needs the script's lock:
 * the scripts are collected (with a reference) first, so that a busy
 * script delays this file only, and the wait is killable.
 */
static int ks_slabinfo_show(struct seq_file *m, void *v)
{
	unsigned int cap = READ_ONCE(max_scripts), n = 0, i;
	struct ks_script **all, *s;

	all = kcalloc(cap, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	mutex_lock(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node) {
		if (s->loaded && n < cap) {
			kref_get(&s->ref);
			all[n++] = s;
		}
	}
	mutex_unlock(&ks_scripts_lock);
	if (mutex_lock_killable(&ks_listing_lock)) {
		for (i = 0; i < n; i++)
			ks_script_put(all[i]);
		kfree(all);
		return -EINTR;
	}
	ks_listing = m;
	for (i = 0; i < n; i++) {
		s = all[i];
		seq_printf(m, "script %s\n", s->name);
		if (!fatal_signal_pending(current) && !ks_enter(s)) {
			ks_slabinfo_to(s->state, ks_listing_write, s);
			ks_leave(s);
		}
		ks_script_put(s);
	}
	ks_listing = NULL;
	mutex_unlock(&ks_listing_lock);
	kfree(all);
	return 0;
}

static int __init ks_init(void)
{
	int err;

	BUILD_BUG_ON(PAGE_SIZE != KSP_PAGE_SIZE);
	ks_proc_dir = proc_mkdir("kscript", NULL);
	if (!ks_proc_dir)
		return -ENOMEM;
	if (!proc_create_single("scripts", 0444, ks_proc_dir, ks_scripts_show) ||
	    !proc_create_single("slabinfo", 0400, ks_proc_dir, ks_slabinfo_show) ||
	    !proc_create_single("hooks", 0444, ks_proc_dir, ks_hooks_file_show)) {
		err = -ENOMEM;
		goto err_proc;
	}
	err = ks_objects_init();
	if (err)
		goto err_proc;
	err = ks_ctl_init();
	if (err)
		goto err_objects;
	pr_info("ready: write scripts to /dev/kscript%s\n",
		IS_ENABLED(KS_NO_COMPILER) ? " (bytecode only: built without the compiler)" : "");
	return 0;

err_objects:
	ks_objects_exit();
err_proc:
	proc_remove(ks_proc_dir);
	return err;
}

static void __exit ks_exit(void)
{
	/* Every loaded script holds a module reference: none is left here. */
	ks_ctl_exit();
	ks_objects_exit();
	proc_remove(ks_proc_dir);
	ksp_platform_exit();
}

/* For bench/kernel/slubbench.ko: the engine's slab under the same load as SLUB. */
EXPORT_SYMBOL_GPL(ks_slab_bench);

module_init(ks_init);
module_exit(ks_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kscript: kernel extensions in a statically typed scripting language");
