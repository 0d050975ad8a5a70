// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of host objects: a script's character devices, /proc
 * files and timers. The engine (core/api/Host.cpp) has already checked each
 * one (class, name, mode, interval, per-script limit, quota) when
 * ks_object_created() is called; this file adds what only the kernel
 * knows: names unique across scripts and free in /dev, a device number,
 * and the registration itself.
 *
 * Devices live in kscript's own character region (KS_MAX_DEVICES minors,
 * class "kscript"), so their numbers never collide with misc or any other
 * driver, and a full region is a clean ENOSPC. An open file finds its
 * device through ks_minors[] under ks_names_lock.
 *
 * Per open file, read() output is a reference-counted buffer: a reader
 * copies to user memory holding only its reference, so a concurrent
 * reader that replaces the buffer never frees memory in use, and no lock
 * is held across a user copy. The buffer is charged to the script's quota.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "ks.h"

#define KS_MAX_DEVICES 256
#define KS_MAX_DEVICE_IO (1UL << 20)

/*
 * Kernel memory each object stands for, charged to the script's quota by
 * the engine: our structure plus an estimate of what registering it costs
 * the kernel (a device: struct device, its kobject and sysfs directory, a
 * devtmpfs inode, a cdev; a /proc entry; a timer's work item).
 */
unsigned long ks_object_costs[KS_OBJECT_KINDS] = {
	[KS_OBJECT_DEVICE] = sizeof(struct ks_kobj) + 6144,
	[KS_OBJECT_PROC] = sizeof(struct ks_kobj) + 1024,
	[KS_OBJECT_TIMER] = sizeof(struct ks_kobj) + 64,
};

/* Timers and teardowns: CPU-bound script handlers stay off the shared
 * per-CPU system workqueue, where they would delay other work. */
struct workqueue_struct *ks_wq;
static dev_t ks_devt;
static struct class *ks_class;
static DEFINE_IDA(ks_minor_ida);
/* Device and /proc names of every script, and the devices by minor. */
static DEFINE_SPINLOCK(ks_names_lock);
static LIST_HEAD(ks_names);
static struct ks_kobj *ks_minors[KS_MAX_DEVICES];

static const struct file_operations ks_device_fops;
static const struct proc_ops ks_procfile_ops;
static void ks_timer_fn(struct work_struct *work);

/* ------------------------------------------------------------------ */
/* Creation (engine hooks, with the script lock held) */

/* Is [name] a node in /dev already, or a misc device's name? */
static bool ks_dev_name_in_use(const char *name)
{
	static const char *const places[] = { "/dev/%s", "/sys/class/misc/%s" };
	char path[64];
	struct path p;
	int i;

	for (i = 0; i < ARRAY_SIZE(places); i++) {
		snprintf(path, sizeof(path), places[i], name);
		if (!kern_path(path, 0, &p)) {
			path_put(&p);
			return true;
		}
	}
	return false;
}

/*
 * The engine made [obj] (hook `created`): take its name across scripts and
 * a device number, allocate our side. A timer made after the load starts
 * at once. Returns 0 or -errno (the script gets an exception).
 */
int ks_object_created(void *ctx, struct ks_object *obj)
{
	struct ks_script *s = ctx;
	struct ks_kobj *k, *other;
	int err = 0;

	if (obj->kind == KS_OBJECT_DEVICE && ks_dev_name_in_use(obj->name))
		return -EEXIST;
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
	INIT_LIST_HEAD(&k->global);
	if (k->kind == KS_OBJECT_DEVICE) {
		k->device.minor = ida_alloc_max(&ks_minor_ida, KS_MAX_DEVICES - 1, GFP_KERNEL);
		if (k->device.minor < 0) {
			err = k->device.minor == -ENOSPC ? -ENOSPC : -ENOMEM;
			kfree(k);
			return err;
		}
	}
	if (k->kind != KS_OBJECT_TIMER) {
		spin_lock(&ks_names_lock);
		list_for_each_entry(other, &ks_names, global)
			if (other->kind == k->kind && !strcmp(other->name, k->name))
				err = -EEXIST;
		if (!err)
			list_add_tail(&k->global, &ks_names);
		spin_unlock(&ks_names_lock);
		if (err) {
			if (k->kind == KS_OBJECT_DEVICE)
				ida_free(&ks_minor_ida, k->device.minor);
			kfree(k);
			return err;
		}
	} else {
		INIT_DELAYED_WORK(&k->timer.work, ks_timer_fn);
	}
	obj->host = k;
	spin_lock(&s->stats_lock);
	list_add_tail(&k->node, &s->kobjs);
	spin_unlock(&s->stats_lock);
	if (k->kind == KS_OBJECT_TIMER && obj->after_load) {
		k->registered = true;
		queue_delayed_work(ks_wq, &k->timer.work, msecs_to_jiffies(k->interval_ms));
	}
	return 0;
}

/* Timer.stop() (hook `stopped`). Not _sync: run() itself may be the caller. */
void ks_object_stopped(void *ctx, struct ks_object *obj)
{
	struct ks_kobj *k = obj->host;

	if (k && k->registered)
		cancel_delayed_work(&k->timer.work);
}

/* ------------------------------------------------------------------ */
/* Registration */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static char *ks_devnode(const struct device *dev, umode_t *mode)
#else
static char *ks_devnode(struct device *dev, umode_t *mode)
#endif
{
	struct ks_kobj *k = dev_get_drvdata(dev);

	if (mode && k)
		*mode = k->mode;
	return NULL;
}

static int ks_register_device(struct ks_kobj *k)
{
	dev_t devt = MKDEV(MAJOR(ks_devt), k->device.minor);
	struct device *dev;
	int err;

	k->device.cdev = cdev_alloc();
	if (!k->device.cdev)
		return -ENOMEM;
	k->device.cdev->ops = &ks_device_fops;
	k->device.cdev->owner = THIS_MODULE;
	err = cdev_add(k->device.cdev, devt, 1);
	if (err) {
		kobject_put(&k->device.cdev->kobj);
		k->device.cdev = NULL;
		return err;
	}
	spin_lock(&ks_names_lock);
	ks_minors[k->device.minor] = k;
	spin_unlock(&ks_names_lock);
	dev = device_create(ks_class, NULL, devt, k, "%s", k->name);
	if (IS_ERR(dev)) {
		spin_lock(&ks_names_lock);
		ks_minors[k->device.minor] = NULL;
		spin_unlock(&ks_names_lock);
		cdev_del(k->device.cdev);
		k->device.cdev = NULL;
		return PTR_ERR(dev);
	}
	return 0;
}

/*
 * After a successful load: makes the script's devices and /proc files
 * visible. No handler can run meanwhile: the load has not committed, so
 * ks_enter() turns callers away, and timers start at the commit. 0 or
 * -errno, with a diagnostic.
 */
int ks_objects_register(struct ks_script *s, struct ks_diag *dg)
{
	struct ks_kobj *k;
	int err = 0;

	list_for_each_entry(k, &s->kobjs, node) {
		if (k->kind == KS_OBJECT_DEVICE) {
			err = ks_register_device(k);
		} else if (k->kind == KS_OBJECT_PROC) {
			k->proc.pde = proc_create_data(k->name, k->mode, ks_proc_dir, &ks_procfile_ops, k);
			err = k->proc.pde ? 0 : -ENOMEM;
		} else {
			continue;
		}
		if (err) {
			ks_diag_add(dg, "%s: cannot create %s%s (error %d)\n", s->name,
				    k->kind == KS_OBJECT_DEVICE ? "/dev/" : "/proc/kscript/", k->name, err);
			pr_warn("%s: cannot create %s (error %d)\n", s->name, k->name, err);
			return err;
		}
		k->registered = true;
	}
	return 0;
}

/* With the script lock, after registration: timers start counting. */
void ks_objects_start_timers(struct ks_script *s)
{
	struct ks_kobj *k;

	list_for_each_entry(k, &s->kobjs, node) {
		if (k->kind == KS_OBJECT_TIMER && !k->registered && !k->obj->stopped) {
			k->registered = true;
			queue_delayed_work(ks_wq, &k->timer.work, msecs_to_jiffies(k->interval_ms));
		}
	}
}

/*
 * Removes a script's objects from the kernel; the script is dead (no
 * handler runs or starts), so its list no longer changes. Waits for
 * running /proc operations and timer runs to finish; open devices keep
 * their file, which then gets ENODEV.
 */
void ks_objects_unregister(struct ks_script *s)
{
	struct ks_kobj *k;

	list_for_each_entry(k, &s->kobjs, node) {
		if (k->kind == KS_OBJECT_TIMER) {
			cancel_delayed_work_sync(&k->timer.work);
			k->registered = false;
			continue;
		}
		if (k->registered && k->kind == KS_OBJECT_DEVICE) {
			device_destroy(ks_class, MKDEV(MAJOR(ks_devt), k->device.minor));
			spin_lock(&ks_names_lock);
			ks_minors[k->device.minor] = NULL;
			spin_unlock(&ks_names_lock);
			cdev_del(k->device.cdev);
			k->device.cdev = NULL;
			/* An open file of it keeps the script, not the number. */
			ida_free(&ks_minor_ida, k->device.minor);
			k->device.minor = -1;
		} else if (k->registered) {
			proc_remove(k->proc.pde);
			k->proc.pde = NULL;
		}
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
		if (k->kind == KS_OBJECT_DEVICE && k->device.minor >= 0)
			ida_free(&ks_minor_ida, k->device.minor);
		list_del(&k->node);
		kfree(k);
	}
}

/* The objects column of /proc/kscript/scripts (stats_lock guards the list). */
void ks_objects_show(struct seq_file *m, struct ks_script *s)
{
	struct ks_kobj *k;

	spin_lock(&s->stats_lock);
	list_for_each_entry(k, &s->kobjs, node) {
		if (k->kind == KS_OBJECT_DEVICE)
			seq_printf(m, " /dev/%s", k->name);
		else if (k->kind == KS_OBJECT_PROC)
			seq_printf(m, " /proc/kscript/%s", k->name);
		else
			seq_printf(m, " timer:%lums", k->interval_ms);
	}
	spin_unlock(&s->stats_lock);
}

/* ------------------------------------------------------------------ */
/* Open files of devices and /proc files */

/* A read() result, shared by the readers of one open file. */
struct ks_outbuf {
	struct kref ref;
	struct ks_script *script;
	size_t size;		/* charged to the script's quota */
	size_t len;
	char data[];
};

struct ks_file {
	struct ks_kobj *k;
	spinlock_t lock;		/* buf */
	struct ks_outbuf *buf;		/* output of the last read() handler */
	bool opened;			/* the open() handler has run (script lock) */
	int open_error;			/* (script lock) */
};

static void ks_outbuf_free(struct kref *ref)
{
	struct ks_outbuf *b = container_of(ref, struct ks_outbuf, ref);

	/* Credited at the script's next entry: the lock is not ours here. */
	atomic_long_add(b->size, &b->script->refund);
	kvfree(b);
}

static void ks_outbuf_put(struct ks_outbuf *b)
{
	if (b)
		kref_put(&b->ref, ks_outbuf_free);
}

/* Gives [file] its state and a reference on the script of [k]. */
static int ks_file_attach(struct file *file, struct ks_kobj *k)
{
	struct ks_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL_ACCOUNT);

	if (!kf) {
		ks_script_put(k->script);
		return -ENOMEM;
	}
	spin_lock_init(&kf->lock);
	kf->k = k;
	file->private_data = kf;
	return 0;
}

static int ks_device_open(struct inode *inode, struct file *file)
{
	unsigned int minor = iminor(inode);
	struct ks_kobj *k = NULL;

	spin_lock(&ks_names_lock);
	if (minor < KS_MAX_DEVICES)
		k = ks_minors[minor];
	/* A node of a device that is gone (its number reused) finds nothing. */
	if (k && k->device.cdev != inode->i_cdev)
		k = NULL;
	/* The script lives while its device is in the table. */
	if (k)
		kref_get(&k->script->ref);
	spin_unlock(&ks_names_lock);
	if (!k)
		return -ENODEV;
	return ks_file_attach(file, k);
}

static int ks_procfile_open(struct inode *inode, struct file *file)
{
	struct ks_kobj *k = pde_data(inode);

	/* proc_remove() (unload) waits for this to return: the object and
	 * its script are alive here. */
	kref_get(&k->script->ref);
	return ks_file_attach(file, k);
}

/* With the script lock held: runs the open() handler once per file. */
static int ks_first(struct ks_file *kf)
{
	struct ks_script *s = kf->k->script;
	int rc;

	if (!kf->opened) {
		kf->opened = true;
		s->handler_calls++;
		rc = ks_object_open(s->state, kf->k->obj);
		kf->open_error = rc == KS_OK ? 0 : ks_handler_error(s, rc, "open");
	}
	return kf->open_error;
}

/* Runs the read() handler into a new buffer; with the script lock held. */
static int ks_produce(struct ks_file *kf, struct ks_outbuf **out)
{
	struct ks_script *s = kf->k->script;
	struct ks_outbuf *b;
	const void *data;
	unsigned long len;
	size_t size;
	int rc;

	*out = NULL;
	s->handler_calls++;
	rc = ks_object_read(s->state, kf->k->obj, &data, &len);
	if (rc != KS_OK)
		return ks_handler_error(s, rc, "read");
	if (len > KS_MAX_DEVICE_IO) {
		s->handler_errors++;
		pr_warn_ratelimited("%s: read: %lu bytes of output, more than the %lu a read may give\n",
				    s->name, len, KS_MAX_DEVICE_IO);
		return -EFBIG;
	}
	size = struct_size(b, data, len);
	b = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	if (len)
		memcpy(b->data, data, len);
	/* Charged after the copy: [data] is valid until the next call into
	 * the state, and ks_charge() is one. */
	if (ks_charge(s->state, size) != KS_OK) {
		kvfree(b);
		return -ENOMEM;
	}
	kref_init(&b->ref);
	b->script = s;
	b->size = size;
	b->len = len;
	*out = b;
	return 0;
}

static ssize_t ks_device_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_file *kf = file->private_data;
	struct ks_script *s = kf->k->script;
	struct ks_outbuf *b, *old;
	ssize_t ret;
	int err;

	if (*ppos == 0 || !READ_ONCE(kf->buf)) {
		/* Produce the contents: read(out) with a fresh OutputStream. */
		err = ks_enter(s);
		if (err)
			return err;
		err = ks_first(kf);
		if (!err)
			err = ks_produce(kf, &b);
		ks_leave(s);
		if (err)
			return err;
		spin_lock(&kf->lock);
		old = kf->buf;
		kf->buf = b;
		spin_unlock(&kf->lock);
		ks_outbuf_put(old);
	}
	spin_lock(&kf->lock);
	b = kf->buf;
	if (b)
		kref_get(&b->ref);
	spin_unlock(&kf->lock);
	if (!b)
		return 0;
	/* Our reference keeps the buffer: no lock across the user copy. */
	ret = simple_read_from_buffer(ubuf, count, ppos, b->data, b->len);
	ks_outbuf_put(b);
	return ret;
}

static ssize_t ks_device_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_file *kf = file->private_data;
	struct ks_kobj *k = kf->k;
	struct ks_script *s = k->script;
	long long consumed = 0;
	void *data;
	ssize_t ret;
	int rc;

	if (!k->writable)
		return -EPERM;
	count = min(count, KS_MAX_DEVICE_IO);
	/* Copied in before the lock: a stalled copy blocks no one else. */
	data = vmemdup_user(ubuf, count);
	if (IS_ERR(data))
		return PTR_ERR(data);
	ret = ks_enter(s);
	if (ret)
		goto out_free;
	ret = ks_first(kf);
	if (ret)
		goto out_leave;
	s->handler_calls++;
	rc = ks_object_write(s->state, k->obj, data, count, &consumed);
	if (rc != KS_OK) {
		ret = ks_handler_error(s, rc, "write");
		goto out_leave;
	}
	ret = consumed < 0 ? -EIO : (ssize_t)min_t(u64, consumed, count);
	if (ret > 0)
		*ppos += ret;
out_leave:
	ks_leave(s);
out_free:
	kvfree(data);
	return ret;
}

static int ks_device_release(struct inode *inode, struct file *file)
{
	struct ks_file *kf = file->private_data;
	struct ks_script *s = kf->k->script;
	int rc;

	/* An unloaded script (or a killed closer) skips release(). */
	if (!ks_enter(s)) {
		if (!ks_first(kf)) {
			s->handler_calls++;
			rc = ks_object_release(s->state, kf->k->obj);
			if (rc != KS_OK)
				ks_handler_error(s, rc, "release");
		}
		ks_leave(s);
	}
	ks_outbuf_put(kf->buf);
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

static const struct proc_ops ks_procfile_ops = {
	.proc_open = ks_procfile_open,
	.proc_read = ks_device_read,
	.proc_write = ks_device_write,
	.proc_release = ks_device_release,
	.proc_lseek = default_llseek,
};

/* ------------------------------------------------------------------ */
/* Timers */

/*
 * A Timer's run(), in a kworker (process context). It never waits for the
 * script: when a handler holds it, the tick is skipped (counted) and the
 * timer comes back one jiffy later. Periodic timers queue themselves again.
 */
static void ks_timer_fn(struct work_struct *work)
{
	struct ks_kobj *k = container_of(to_delayed_work(work), struct ks_kobj, timer.work);
	struct ks_script *s = k->script;
	unsigned long next;
	long refund;
	int rc;

	if (!mutex_trylock(&s->lock)) {
		k->timer.missed++;
		/* An unload that is waiting may yet be killed: come back until
		 * the script is dead (the unload's cancel copes with requeues). */
		if (!READ_ONCE(s->dead))
			queue_delayed_work(ks_wq, &k->timer.work, 1);
		return;
	}
	if (s->dead || !s->committed || k->obj->stopped) {
		mutex_unlock(&s->lock);
		return;
	}
	refund = atomic_long_xchg(&s->refund, 0);
	if (refund)
		ks_charge(s->state, -refund);
	s->handler_calls++;
	rc = ks_object_run(s->state, k->obj);
	if (rc != KS_OK)
		ks_handler_error(s, rc, "Timer.run");
	next = msecs_to_jiffies(k->interval_ms);
	if (k->obj->periodic && !k->obj->stopped && !s->dead)
		queue_delayed_work(ks_wq, &k->timer.work, next);
	ks_leave(s);
}

/* ------------------------------------------------------------------ */

int ks_objects_init(void)
{
	int err;

	ks_wq = alloc_workqueue("kscript", WQ_UNBOUND, 0);
	if (!ks_wq)
		return -ENOMEM;
	err = alloc_chrdev_region(&ks_devt, 0, KS_MAX_DEVICES, "kscript");
	if (err) {
		destroy_workqueue(ks_wq);
		return err;
	}
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	ks_class = class_create("kscript");
#else
	ks_class = class_create(THIS_MODULE, "kscript");
#endif
	if (IS_ERR(ks_class)) {
		unregister_chrdev_region(ks_devt, KS_MAX_DEVICES);
		destroy_workqueue(ks_wq);
		return PTR_ERR(ks_class);
	}
	ks_class->devnode = ks_devnode;
	return 0;
}

void ks_objects_exit(void)
{
	destroy_workqueue(ks_wq);	/* waits for a teardown still returning */
	class_destroy(ks_class);
	unregister_chrdev_region(ks_devt, KS_MAX_DEVICES);
	ida_destroy(&ks_minor_ida);
}
