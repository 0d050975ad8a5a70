// SPDX-License-Identifier: GPL-2.0
/*
 * kscript.ko: scripts in a statically typed language, compiled and run
 * inside the kernel.
 *
 * /dev/kscript (root only) takes script source: written and closed (as
 * `cat hello.k > /dev/kscript` does) or passed with the KS_IOC_LOAD ioctl
 * (the kscript tool), it is compiled in the kernel, run, and stays loaded
 * with the devices it created until unloaded. Each script has its own engine
 * state: heap, slab allocator, memory quota and instruction budget.
 *
 * Locking: ks_scripts_lock guards the list of scripts. Each script's mutex
 * serializes every call into its engine state (load, handlers, unload);
 * it is never held while taking misc_mtx (devices are registered after the
 * script has run and deregistered after it is marked dead), because the misc
 * core calls our open() with misc_mtx held. A script's memory (and its
 * devices') lives until the last reference (loaded list, open files) drops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/proc_fs.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "kscript.h"
#include "kscript_ioctl.h"
#include "kscript_platform.h"

#define KS_DEFAULT_QUOTA (16UL << 20)
#define KS_DEFAULT_BUDGET (50LL * 1000 * 1000)
#define KS_DEFAULT_DEPTH 1000
/* The compiler recurses once per nesting level of the source; this bound
 * keeps it well inside a 16 KiB kernel stack (tested in the guest). */
#define KS_KERNEL_NESTING 24
#define KS_MAX_SOURCE (1UL << 20)
#define KS_MAX_DEVICE_IO (1UL << 20)
#define KS_DIAG_SIZE 4096

static unsigned long memory_quota = KS_DEFAULT_QUOTA;
module_param(memory_quota, ulong, 0644);
MODULE_PARM_DESC(memory_quota, "default memory quota per script, bytes");
static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench, "at load, compare SLUB with the kscript slab allocator (log lines BENCH ...)");
static long budget = KS_DEFAULT_BUDGET;
module_param(budget, long, 0644);
MODULE_PARM_DESC(budget, "default instruction budget per entry into a script");

/* ------------------------------------------------------------------ */
/* The platform interface of the engine. */

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

/* ------------------------------------------------------------------ */
/* Scripts and their devices. */

struct ks_script;

/* A kernel object of a script: a Device, a Proc file or a Timer. */
struct ks_device {
	struct list_head node;		/* in script->devices */
	int kind;			/* KS_REQUEST_DEVICE_CREATE, _PROC_CREATE, _TIMER_CREATE */
	struct miscdevice misc;		/* Device */
	struct proc_dir_entry *pde;	/* Proc */
	struct delayed_work work;	/* Timer */
	unsigned long interval_ms;
	bool periodic;
	bool stopped;			/* Timer.stop() called (script lock) */
	bool writable;
	char name[KS_NAME_MAX];
	umode_t mode;
	struct ks_script *script;
	ks_value object;		/* the script object, pinned */
	int slot_open, slot_read, slot_write, slot_release, slot_run;
	bool registered;
};

struct ks_script {
	struct list_head node;		/* in ks_scripts */
	struct kref ref;
	struct mutex lock;		/* every call into state */
	char name[KS_NAME_MAX];
	ks_state *state;
	bool dead;
	struct list_head devices;
	u64 handler_calls;
	u64 handler_errors;
};

static LIST_HEAD(ks_scripts);
static DEFINE_MUTEX(ks_scripts_lock);
static unsigned long ks_next_id;
static char ks_last_diag[KS_DIAG_SIZE];
static size_t ks_last_diag_len;
static DEFINE_MUTEX(ks_diag_lock);

static const struct file_operations ks_device_fops;

static void ks_script_free(struct kref *ref)
{
	struct ks_script *s = container_of(ref, struct ks_script, ref);
	struct ks_device *d, *tmp;

	list_for_each_entry_safe(d, tmp, &s->devices, node) {
		list_del(&d->node);
		kfree(d);
	}
	ks_close(s->state);
	if (ks_leaked_bytes())
		pr_warn_once("engine leaked %llu bytes (all pages were returned)\n", ks_leaked_bytes());
	kfree(s);
	module_put(THIS_MODULE);
}

static void ks_script_put(struct ks_script *s)
{
	kref_put(&s->ref, ks_script_free);
}

/* Engine hooks; ctx is the script. */
static void ks_hook_write(void *ctx, int stream, const char *text, unsigned long len)
{
	struct ks_script *s = ctx;

	if (len && text[len - 1] == '\n')
		len--;
	if (stream == KS_STREAM_KERNEL)
		pr_info_ratelimited("%s: %.*s\n", s->name, (int)min(len, 1024UL), text);
	else if (stream == KS_STREAM_PRINT)
		pr_info_ratelimited("%s: [p] %.*s\n", s->name, (int)min(len, 1024UL), text);
}

static int ks_hook_poll(void *ctx)
{
	cond_resched();
	return !fatal_signal_pending(current);
}

static long long ks_hook_info(void *ctx, int what)
{
	switch (what) {
	case 0:
		return (long long)get_jiffies_64();
	case 1:
		return task_tgid_vnr(current);
	case 2:
		return from_kuid_munged(current_user_ns(), current_uid());
	default:
		return 0;
	}
}

static unsigned long ks_hook_comm(void *ctx, char *out)
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	memcpy(out, comm, 16);
	return strnlen(comm, 16);
}

static struct proc_dir_entry *ks_proc_dir;

/*
 * Device, Proc and Timer objects of a script: recorded while the script
 * runs, made visible (registered, started) after it has finished loading.
 */
static long long ks_hook_request(void *ctx, int request, unsigned long long object,
				 const char *name, long long arg)
{
	struct ks_script *s = ctx;
	struct ks_device *d;
	size_t len = strlen(name);

	if (request == KS_REQUEST_TIMER_STOP) {
		list_for_each_entry(d, &s->devices, node) {
			if (d->kind == KS_REQUEST_TIMER_CREATE && d->object == object && !d->stopped) {
				d->stopped = true;
				/* Not _sync: the timer's own run() may be the caller. */
				if (d->registered)
					cancel_delayed_work(&d->work);
			}
		}
		return 0;
	}
	if (request != KS_REQUEST_DEVICE_CREATE && request != KS_REQUEST_PROC_CREATE &&
	    request != KS_REQUEST_TIMER_CREATE)
		return -ENOSYS;
	if (request == KS_REQUEST_TIMER_CREATE) {
		if (arg / 2 < 1 || arg / 2 > 24 * 3600 * 1000LL)
			return -EINVAL;
	} else {
		if (len == 0 || len >= KS_NAME_MAX || strchr(name, '/') || name[0] == '.')
			return -EINVAL;
		if (request == KS_REQUEST_PROC_CREATE &&
		    (!strcmp(name, "scripts") || !strcmp(name, "slabinfo")))
			return -EEXIST;
		list_for_each_entry(d, &s->devices, node)
			if (d->kind == request && !strcmp(d->name, name))
				return -EEXIST;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	if (ks_pin(s->state, object) != KS_OK) {
		kfree(d);
		return -ENOMEM;
	}
	d->kind = request;
	strscpy(d->name, request == KS_REQUEST_TIMER_CREATE ? "timer" : name, sizeof(d->name));
	d->script = s;
	d->object = object;
	d->slot_open = d->slot_read = d->slot_write = d->slot_release = d->slot_run = -1;
	if (request == KS_REQUEST_DEVICE_CREATE) {
		d->mode = arg & 0666;
		d->writable = true;
		ks_find_method(s->state, object, "open", 0, &d->slot_open);
		ks_find_method(s->state, object, "release", 0, &d->slot_release);
	} else if (request == KS_REQUEST_PROC_CREATE) {
		d->writable = arg != 0;
		d->mode = d->writable ? 0644 : 0444;
	} else {
		d->interval_ms = arg / 2;
		d->periodic = arg & 1;
		ks_find_method(s->state, object, "run", 0, &d->slot_run);
	}
	ks_find_method(s->state, object, "read", 1, &d->slot_read);
	ks_find_method(s->state, object, "write", 1, &d->slot_write);
	list_add_tail(&d->node, &s->devices);
	return 0;
}

/* Reports an uncaught exception of a handler and maps it to an errno. */
static int ks_handler_error(struct ks_script *s, const char *what)
{
	char message[160];
	const char *name = ks_exception_name(s->state);

	ks_exception_message(s->state, message, sizeof(message));
	s->handler_errors++;
	pr_warn_ratelimited("%s: %s failed: %s%s%s (line %u)\n", s->name, what, name,
			    message[0] ? ": " : "", message, ks_exception_line(s->state));
	if (!strcmp(name, "OutOfMemoryException"))
		return -ENOMEM;
	if (!strcmp(name, "BudgetExceededException"))
		return fatal_signal_pending(current) ? -EINTR : -ETIME;
	return -EIO;
}

/* Calls a no-argument handler; the script lock is held. */
static int ks_call0(struct ks_device *d, int slot, const char *what)
{
	if (slot < 0)
		return 0;
	d->script->handler_calls++;
	if (ks_invoke(d->script->state, d->object, slot, NULL, 0, NULL) != KS_OK)
		return ks_handler_error(d->script, what);
	return 0;
}

/* Takes the script lock if the script is still loaded. */
static int ks_enter(struct ks_script *s)
{
	if (mutex_lock_killable(&s->lock))
		return -EINTR;
	if (s->dead) {
		mutex_unlock(&s->lock);
		return -ENODEV;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Script devices. */

struct ks_file {
	struct ks_device *dev;
	char *buf;			/* output of the last read() handler */
	size_t len;
	bool opened;			/* the open() handler has run */
	int open_error;
};

/* Gives [file] its state and a reference on the script of [d]. */
static int ks_file_attach(struct file *file, struct ks_device *d)
{
	struct ks_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL);

	if (!kf)
		return -ENOMEM;
	kref_get(&d->script->ref);
	kf->dev = d;
	file->private_data = kf;
	return 0;
}

static int ks_device_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx here, which unload waits for in
	 * misc_deregister(): the device and its script are alive. The
	 * script's open() handler runs at the first operation on the file
	 * (ks_first()), so that no script code ever runs under misc_mtx: a
	 * long handler would otherwise block every misc device's open. */
	return ks_file_attach(file, container_of(file->private_data, struct ks_device, misc));
}

/* With the script lock held: runs the open() handler once per file. */
static int ks_first(struct ks_file *kf)
{
	if (!kf->opened) {
		kf->opened = true;
		kf->open_error = ks_call0(kf->dev, kf->dev->slot_open, "Device.open");
	}
	return kf->open_error;
}

static ssize_t ks_device_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_file *kf = file->private_data;
	struct ks_device *d = kf->dev;
	struct ks_script *s = d->script;
	ks_value out, buffer;
	const void *data;
	unsigned long len;
	int err;

	if (*ppos == 0 || !kf->buf) {
		/* Produce the contents: a fresh OutputStream for read(out). */
		err = ks_enter(s);
		if (err)
			return err;
		err = ks_first(kf);
		if (err) {
			mutex_unlock(&s->lock);
			return err;
		}
		kvfree(kf->buf);
		kf->buf = NULL;
		kf->len = 0;
		if (d->slot_read < 0) {
			mutex_unlock(&s->lock);
			return 0;
		}
		if (ks_new_object(s->state, "OutputStream", &out) != KS_OK ||
		    ks_pin(s->state, out) != KS_OK) {
			mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		s->handler_calls++;
		if (ks_invoke(s->state, d->object, d->slot_read, &out, 1, NULL) != KS_OK) {
			err = ks_handler_error(s, "Device.read");
		} else if (ks_get_field(s->state, out, "buffer", &buffer) == KS_OK &&
			   ks_bytes_data(s->state, buffer, &data, &len) == KS_OK) {
			len = min(len, KS_MAX_DEVICE_IO);
			kf->buf = kvmalloc(len ? len : 1, GFP_KERNEL);
			if (kf->buf) {
				memcpy(kf->buf, data, len);
				kf->len = len;
			} else {
				err = -ENOMEM;
			}
		}
		ks_unpin(s->state, out);
		mutex_unlock(&s->lock);
		if (err)
			return err;
	}
	return simple_read_from_buffer(ubuf, count, ppos, kf->buf, kf->len);
}

static ssize_t ks_device_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_file *kf = file->private_data;
	struct ks_device *d = kf->dev;
	struct ks_script *s = d->script;
	ks_value bytes, result = 0;
	void *data;
	ssize_t ret;

	if (!d->writable)
		return -EPERM;
	if (d->slot_write < 0)
		return count;
	count = min(count, KS_MAX_DEVICE_IO);
	data = memdup_user(ubuf, count);
	if (IS_ERR(data))
		return PTR_ERR(data);
	ret = ks_enter(s);
	if (ret)
		goto out_free;
	ret = ks_first(kf);
	if (ret)
		goto out_unlock;
	if (ks_bytes_new(s->state, data, count, &bytes) != KS_OK) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	s->handler_calls++;
	if (ks_invoke(s->state, d->object, d->slot_write, &bytes, 1, &result) != KS_OK) {
		ret = ks_handler_error(s, "Device.write");
		goto out_unlock;
	}
	ret = (long long)result < 0 ? -EIO : (ssize_t)min_t(u64, result, count);
	if (ret > 0)
		*ppos += ret;
out_unlock:
	mutex_unlock(&s->lock);
out_free:
	kfree(data);
	return ret;
}

static int ks_device_release(struct inode *inode, struct file *file)
{
	struct ks_file *kf = file->private_data;
	struct ks_script *s = kf->dev->script;

	if (!ks_enter(s)) {
		if (!ks_first(kf))
			ks_call0(kf->dev, kf->dev->slot_release, "Device.release");
		mutex_unlock(&s->lock);
	}
	kvfree(kf->buf);
	kfree(kf);
	ks_script_put(s);
	return 0;
}

static const struct file_operations ks_device_fops = {
	.owner = THIS_MODULE,
	.open = ks_device_open,
	.read = ks_device_read,
	.write = ks_device_write,
	.release = ks_device_release,
	.llseek = default_llseek,
};

/* /proc/kscript/NAME files of scripts: the same handlers as devices. */
static int ks_procfile_open(struct inode *inode, struct file *file)
{
	/* proc_remove() (unload) waits for this to return: the object and its
	 * script are alive here. */
	return ks_file_attach(file, pde_data(inode));
}

static const struct proc_ops ks_procfile_ops = {
	.proc_open = ks_procfile_open,
	.proc_read = ks_device_read,
	.proc_write = ks_device_write,
	.proc_release = ks_device_release,
	.proc_lseek = default_llseek,
};

/* A Timer's run(), in a kworker; periodic timers queue themselves again. */
static void ks_timer_fn(struct work_struct *work)
{
	struct ks_device *t = container_of(to_delayed_work(work), struct ks_device, work);
	struct ks_script *s = t->script;

	if (ks_enter(s))
		return;
	if (!t->stopped && t->slot_run >= 0)
		ks_call0(t, t->slot_run, "Timer.run");
	if (t->periodic && !t->stopped)
		schedule_delayed_work(&t->work, msecs_to_jiffies(t->interval_ms));
	mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* Loading and unloading. */

struct ks_diag {
	char *buf;
	size_t size;
	size_t len;
};

static __printf(2, 3) void ks_diag_add(struct ks_diag *dg, const char *fmt, ...)
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

static struct ks_script *ks_find_script(const char *name)
{
	struct ks_script *s;

	lockdep_assert_held(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static bool ks_valid_name(const char *name)
{
	size_t len = strnlen(name, KS_NAME_MAX);

	if (len == 0 || len == KS_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!isalnum(*name) && *name != '_' && *name != '-' && *name != '.')
			return false;
	return true;
}

/*
 * Is [name] taken for kind [kind] by any loaded script, or (for devices) by
 * another misc device? Registering a duplicate would make sysfs or procfs
 * warn. Called with ks_scripts_lock held.
 */
static bool ks_name_taken(int kind, const char *name)
{
	struct ks_script *s;
	struct ks_device *d;
	struct path path;
	char sysfs[64];

	lockdep_assert_held(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node)
		list_for_each_entry(d, &s->devices, node)
			if (d->kind == kind && !strcmp(d->name, name))
				return true;
	if (kind != KS_REQUEST_DEVICE_CREATE)
		return false;
	snprintf(sysfs, sizeof(sysfs), "/sys/class/misc/%s", name);
	if (!kern_path(sysfs, 0, &path)) {
		path_put(&path);
		return true;
	}
	return false;
}

/* Removes a script's kernel objects; the script is dead or never ran. */
static void ks_deregister_devices(struct ks_script *s)
{
	struct ks_device *d;

	list_for_each_entry(d, &s->devices, node) {
		if (!d->registered)
			continue;
		if (d->kind == KS_REQUEST_DEVICE_CREATE)
			misc_deregister(&d->misc);
		else if (d->kind == KS_REQUEST_PROC_CREATE)
			proc_remove(d->pde);
		else
			cancel_delayed_work_sync(&d->work);
		d->registered = false;
	}
}

/*
 * Compiles and runs [src] as a new script; on success the script stays
 * loaded with its devices. Diagnostics go to [dg] and the kernel log.
 */
static int ks_load_script(const char *src, size_t len, const char *want, unsigned long quota,
			  long long bud, unsigned int depth, struct ks_diag *dg)
{
	struct ks_script *s;
	struct ks_device *d;
	ks_config cfg;
	unsigned int i;
	int rc, err = 0;

	if (len > KS_MAX_SOURCE)
		return -EFBIG;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (!try_module_get(THIS_MODULE)) {
		kfree(s);
		return -ENODEV;
	}
	kref_init(&s->ref);
	mutex_init(&s->lock);
	INIT_LIST_HEAD(&s->devices);

	mutex_lock(&ks_scripts_lock);
	if (want && want[0]) {
		if (!ks_valid_name(want)) {
			ks_diag_add(dg, "invalid script name '%s'\n", want);
			err = -EINVAL;
			goto out_unlock_list;
		}
		if (ks_find_script(want)) {
			ks_diag_add(dg, "a script named '%s' is already loaded\n", want);
			err = -EEXIST;
			goto out_unlock_list;
		}
		strscpy(s->name, want, sizeof(s->name));
	} else {
		do
			snprintf(s->name, sizeof(s->name), "script%lu", ++ks_next_id);
		while (ks_find_script(s->name));
	}

	ks_config_init(&cfg);
	cfg.memory_quota = quota ? quota : memory_quota;
	cfg.budget = bud > 0 ? bud : budget;
	cfg.max_depth = depth ? depth : KS_DEFAULT_DEPTH;
	cfg.max_nesting = KS_KERNEL_NESTING;
	cfg.max_source = KS_MAX_SOURCE;
	cfg.write = ks_hook_write;
	cfg.poll = ks_hook_poll;
	cfg.info = ks_hook_info;
	cfg.comm = ks_hook_comm;
	cfg.request = ks_hook_request;
	cfg.ctx = s;
	s->state = ks_open(&cfg);
	if (!s->state) {
		err = -ENOMEM;
		goto out_unlock_list;
	}

	mutex_lock(&s->lock);
	rc = ks_load(s->state, src, len, s->name);
	if (rc == KS_ECOMPILE) {
		for (i = 0; i < ks_diagnostic_count(s->state); i++) {
			struct ks_diagnostic dd;

			ks_get_diagnostic(s->state, i, &dd);
			ks_diag_add(dg, "%s:%u:%u: %s: %s\n", s->name, dd.line, dd.column,
				    dd.is_warning ? "warning" : "error", dd.message);
			if (!dd.is_warning)
				pr_warn_ratelimited("%s:%u:%u: error: %s\n", s->name, dd.line,
						    dd.column, dd.message);
		}
		err = -EINVAL;
	} else if (rc == KS_ETOOBIG) {
		err = -EFBIG;
	} else if (rc != KS_OK) {
		ks_diag_add(dg, "%s: out of memory while compiling\n", s->name);
		err = -ENOMEM;
	} else if (ks_run(s->state) != KS_OK) {
		char message[160];

		ks_exception_message(s->state, message, sizeof(message));
		ks_diag_add(dg, "%s:%u: error: uncaught %s%s%s\n", s->name,
			    ks_exception_line(s->state), ks_exception_name(s->state),
			    message[0] ? ": " : "", message);
		pr_warn_ratelimited("%s:%u: uncaught %s%s%s\n", s->name,
				    ks_exception_line(s->state), ks_exception_name(s->state),
				    message[0] ? ": " : "", message);
		err = -EIO;
	}
	mutex_unlock(&s->lock);
	if (err)
		goto out_unlock_list;

	/* The script ran: make its objects visible (script lock not held). */
	list_for_each_entry(d, &s->devices, node) {
		if (d->kind != KS_REQUEST_TIMER_CREATE && ks_name_taken(d->kind, d->name)) {
			err = -EEXIST;
		} else if (d->kind == KS_REQUEST_DEVICE_CREATE) {
			d->misc.minor = MISC_DYNAMIC_MINOR;
			d->misc.name = d->name;
			d->misc.fops = &ks_device_fops;
			d->misc.mode = d->mode;
			err = misc_register(&d->misc);
		} else if (d->kind == KS_REQUEST_PROC_CREATE) {
			d->pde = proc_create_data(d->name, d->mode, ks_proc_dir, &ks_procfile_ops, d);
			err = d->pde ? 0 : -EEXIST;
		} else {
			INIT_DELAYED_WORK(&d->work, ks_timer_fn);
			err = 0;
		}
		if (err) {
			ks_diag_add(dg, "%s: cannot create %s%s (error %d)\n", s->name,
				    d->kind == KS_REQUEST_DEVICE_CREATE ? "/dev/" : "/proc/kscript/", d->name, err);
			pr_warn("%s: cannot create %s (error %d)\n", s->name, d->name, err);
			mutex_lock(&s->lock);
			s->dead = true;
			mutex_unlock(&s->lock);
			ks_deregister_devices(s);
			goto out_unlock_list;
		}
		d->registered = true;
	}
	/* Timers start last, when everything they may touch exists. */
	mutex_lock(&s->lock);
	list_for_each_entry(d, &s->devices, node)
		if (d->kind == KS_REQUEST_TIMER_CREATE && !d->stopped)
			schedule_delayed_work(&d->work, msecs_to_jiffies(d->interval_ms));
	mutex_unlock(&s->lock);
	list_add_tail(&s->node, &ks_scripts);
	mutex_unlock(&ks_scripts_lock);
	pr_info("%s: loaded\n", s->name);
	ks_diag_add(dg, "%s: loaded\n", s->name);
	return 0;

out_unlock_list:
	mutex_unlock(&ks_scripts_lock);
	if (s->state) {
		ks_script_put(s);
	} else {
		kfree(s);
		module_put(THIS_MODULE);
	}
	return err;
}

/* With ks_scripts_lock held: removes [s] and its devices. */
static void ks_unload_locked(struct ks_script *s)
{
	list_del(&s->node);
	/* Wait for a running handler, then turn every later one away. */
	mutex_lock(&s->lock);
	s->dead = true;
	mutex_unlock(&s->lock);
	ks_deregister_devices(s);
	pr_info("%s: unloaded\n", s->name);
	ks_script_put(s);
}

static int ks_unload_script(const char *name)
{
	struct ks_script *s;
	int err = -ENOENT;

	mutex_lock(&ks_scripts_lock);
	s = ks_find_script(name);
	if (s) {
		ks_unload_locked(s);
		err = 0;
	}
	mutex_unlock(&ks_scripts_lock);
	return err;
}

static void ks_remember_diag(const struct ks_diag *dg)
{
	mutex_lock(&ks_diag_lock);
	ks_last_diag_len = min(dg->len, sizeof(ks_last_diag));
	memcpy(ks_last_diag, dg->buf, ks_last_diag_len);
	mutex_unlock(&ks_diag_lock);
}

/* ------------------------------------------------------------------ */
/* /dev/kscript */

struct ks_ctl {
	char *src;			/* text written so far */
	size_t len;
	size_t cap;
};

static int ks_ctl_open(struct inode *inode, struct file *file)
{
	struct ks_ctl *c;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	file->private_data = c;
	return 0;
}

static ssize_t ks_ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_ctl *c = file->private_data;
	size_t need;

	if (check_add_overflow(c->len, count, &need) || need > KS_MAX_SOURCE)
		return -EFBIG;
	if (need > c->cap) {
		size_t cap = max_t(size_t, need, c->cap ? c->cap * 2 : 4096);
		char *src;

		cap = min_t(size_t, cap, KS_MAX_SOURCE);
		src = kvmalloc(cap, GFP_KERNEL);
		if (!src)
			return -ENOMEM;
		if (c->len)
			memcpy(src, c->src, c->len);
		kvfree(c->src);
		c->src = src;
		c->cap = cap;
	}
	if (copy_from_user(c->src + c->len, ubuf, count))
		return -EFAULT;
	c->len += count;
	*ppos += count;
	return count;
}

/* The writer closes the file: compile and run what it wrote. The error
 * reaches close(2); the diagnostics are in the log and in read(). */
static int ks_ctl_flush(struct file *file, fl_owner_t id)
{
	struct ks_ctl *c = file->private_data;
	struct ks_diag dg;
	int err;

	if (!c->len)
		return 0;
	dg.size = KS_DIAG_SIZE;
	dg.len = 0;
	dg.buf = kmalloc(dg.size, GFP_KERNEL);
	if (!dg.buf)
		return -ENOMEM;
	dg.buf[0] = 0;
	err = ks_load_script(c->src, c->len, NULL, 0, 0, 0, &dg);
	c->len = 0;
	ks_remember_diag(&dg);
	kfree(dg.buf);
	return err;
}

static ssize_t ks_ctl_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&ks_diag_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, ks_last_diag, ks_last_diag_len);
	mutex_unlock(&ks_diag_lock);
	return ret;
}

static long ks_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KS_IOC_LOAD: {
		struct ks_ioc_load req;
		struct ks_diag dg;
		char *src;
		long err;

		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		req.name[KS_NAME_MAX - 1] = 0;
		if (req.length > KS_MAX_SOURCE)
			return -EFBIG;
		src = kvmalloc(req.length ? req.length : 1, GFP_KERNEL);
		if (!src)
			return -ENOMEM;
		if (copy_from_user(src, u64_to_user_ptr(req.source), req.length)) {
			kvfree(src);
			return -EFAULT;
		}
		dg.size = KS_DIAG_SIZE;
		dg.len = 0;
		dg.buf = kmalloc(dg.size, GFP_KERNEL);
		if (!dg.buf) {
			kvfree(src);
			return -ENOMEM;
		}
		dg.buf[0] = 0;
		err = ks_load_script(src, req.length, req.name, req.memory_quota, req.budget,
				     req.max_depth, &dg);
		kvfree(src);
		ks_remember_diag(&dg);
		if (req.diagnostics && req.diagnostics_size) {
			size_t n = min_t(size_t, dg.len, req.diagnostics_size - 1);

			if (copy_to_user(u64_to_user_ptr(req.diagnostics), dg.buf, n) ||
			    put_user(0, (char __user *)u64_to_user_ptr(req.diagnostics) + n))
				err = err ? err : -EFAULT;
		}
		kfree(dg.buf);
		return err;
	}
	case KS_IOC_UNLOAD: {
		struct ks_ioc_name req;

		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		req.name[KS_NAME_MAX - 1] = 0;
		return ks_unload_script(req.name);
	}
	default:
		return -ENOTTY;
	}
}

static int ks_ctl_release(struct inode *inode, struct file *file)
{
	struct ks_ctl *c = file->private_data;

	kvfree(c->src);
	kfree(c);
	return 0;
}

static const struct file_operations ks_ctl_fops = {
	.owner = THIS_MODULE,
	.open = ks_ctl_open,
	.write = ks_ctl_write,
	.flush = ks_ctl_flush,
	.read = ks_ctl_read,
	.unlocked_ioctl = ks_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = ks_ctl_release,
};

static struct miscdevice ks_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kscript",
	.fops = &ks_ctl_fops,
	.mode = 0600,
};

/* ------------------------------------------------------------------ */
/* /proc/kscript */

static int ks_scripts_show(struct seq_file *m, void *v)
{
	struct ks_script *s;
	struct ks_device *d;

	seq_puts(m, "# name memory_used memory_peak quota calls exceptions collections handler_calls handler_errors held devices\n");
	mutex_lock(&ks_scripts_lock);
	list_for_each_entry(s, &ks_scripts, node) {
		struct ks_stats st;

		mutex_lock(&s->lock);
		ks_get_stats(s->state, &st);
		seq_printf(m, "%s %lu %lu %lu %llu %llu %llu %llu %llu %lu", s->name, st.memory_used,
			   st.memory_peak, st.memory_quota, st.calls, st.exceptions, st.collections,
			   s->handler_calls, s->handler_errors, st.pages * KSP_PAGE_SIZE);
		list_for_each_entry(d, &s->devices, node) {
			if (d->kind == KS_REQUEST_DEVICE_CREATE)
				seq_printf(m, " /dev/%s", d->name);
			else if (d->kind == KS_REQUEST_PROC_CREATE)
				seq_printf(m, " /proc/kscript/%s", d->name);
			else
				seq_printf(m, " timer:%lums", d->interval_ms);
		}
		seq_putc(m, '\n');
		mutex_unlock(&s->lock);
	}
	mutex_unlock(&ks_scripts_lock);
	return 0;
}

static struct seq_file *ks_listing;	/* under ks_scripts_lock */

static void ks_listing_write(void *ctx, int stream, const char *text, unsigned long len)
{
	if (stream == KS_STREAM_LISTING && ks_listing)
		seq_write(ks_listing, text, len);
	else
		ks_hook_write(ctx, stream, text, len);
}

static int ks_slabinfo_show(struct seq_file *m, void *v)
{
	struct ks_script *s;

	mutex_lock(&ks_scripts_lock);
	ks_listing = m;
	list_for_each_entry(s, &ks_scripts, node) {
		seq_printf(m, "script %s\n", s->name);
		mutex_lock(&s->lock);
		ks_slabinfo_to(s->state, ks_listing_write, s);
		mutex_unlock(&s->lock);
	}
	ks_listing = NULL;
	mutex_unlock(&ks_scripts_lock);
	return 0;
}

/* ------------------------------------------------------------------ */

/* The `bench` parameter: kmem_cache_alloc/free against the engine's slab. */
static void ks_bench_slab(void)
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
}

static int __init ks_init(void)
{
	int err;

	BUILD_BUG_ON(PAGE_SIZE != KSP_PAGE_SIZE);
	ks_proc_dir = proc_mkdir("kscript", NULL);
	if (!ks_proc_dir)
		return -ENOMEM;
	if (!proc_create_single("scripts", 0444, ks_proc_dir, ks_scripts_show) ||
	    !proc_create_single("slabinfo", 0400, ks_proc_dir, ks_slabinfo_show)) {
		err = -ENOMEM;
		goto err_proc;
	}
	err = misc_register(&ks_ctl_misc);
	if (err)
		goto err_proc;
	if (bench)
		ks_bench_slab();
	pr_info("ready: write scripts to /dev/kscript\n");
	return 0;

err_proc:
	proc_remove(ks_proc_dir);
	return err;
}

static void __exit ks_exit(void)
{
	/* Every loaded script holds a module reference: none is left here. */
	misc_deregister(&ks_ctl_misc);
	proc_remove(ks_proc_dir);
}

module_init(ks_init);
module_exit(ks_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kscript: kernel extensions in a statically typed scripting language");
