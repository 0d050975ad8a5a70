// SPDX-License-Identifier: GPL-2.0
/*
 * Devices and /proc files: two kinds of host object that share their file
 * operations (open, read, write, release reach the script's handlers).
 *
 * Devices live in kscript's own character region (KS_MAX_DEVICES minors,
 * class "kscript"), so their numbers never collide with misc or any other
 * driver, and a full region is a clean ENOSPC. An open file finds its
 * device through ks_minors[] under ks_minors_lock.
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
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/proc_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "ks.h"

#define KS_MAX_DEVICES 256
#define KS_MAX_DEVICE_IO (1UL << 20)

static dev_t ks_devt;
static struct class *ks_class;
static DEFINE_IDA(ks_minor_ida);
/* The devices by minor. */
static DEFINE_SPINLOCK(ks_minors_lock);
static struct ks_kobj *ks_minors[KS_MAX_DEVICES];

static const struct file_operations ks_device_fops;
static const struct proc_ops ks_procfile_ops;

/* Is [name] a node in /dev already, or a misc device's name? */
bool ks_dev_name_in_use(const char *name)
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

/* ------------------------------------------------------------------ */
/* Devices */

/* A name free in /dev, and a device number. */
static int ks_device_create(struct ks_kobj *k)
{
	if (ks_dev_name_in_use(k->name))
		return -EEXIST;
	k->device.minor = ida_alloc_max(&ks_minor_ida, KS_MAX_DEVICES - 1, GFP_KERNEL);
	if (k->device.minor < 0)
		return k->device.minor == -ENOSPC ? -ENOSPC : -ENOMEM;
	return 0;
}

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

/* A failed registration, said in the load's diagnostics and the log. */
static int ks_file_failed(struct ks_kobj *k, struct ks_diag *dg, const char *where, int err)
{
	ks_diag_add(dg, "%s: cannot create %s%s (error %d)\n", k->script->name, where, k->name, err);
	pr_warn("%s: cannot create %s%s (error %d)\n", k->script->name, where, k->name, err);
	return err;
}

static int ks_device_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	dev_t devt = MKDEV(MAJOR(ks_devt), k->device.minor);
	struct device *dev;
	int err;

	k->device.cdev = cdev_alloc();
	if (!k->device.cdev)
		return ks_file_failed(k, dg, "/dev/", -ENOMEM);
	k->device.cdev->ops = &ks_device_fops;
	k->device.cdev->owner = THIS_MODULE;
	err = cdev_add(k->device.cdev, devt, 1);
	if (err) {
		kobject_put(&k->device.cdev->kobj);
		k->device.cdev = NULL;
		return ks_file_failed(k, dg, "/dev/", err);
	}
	spin_lock(&ks_minors_lock);
	ks_minors[k->device.minor] = k;
	spin_unlock(&ks_minors_lock);
	dev = device_create(ks_class, NULL, devt, k, "%s", k->name);
	if (IS_ERR(dev)) {
		spin_lock(&ks_minors_lock);
		ks_minors[k->device.minor] = NULL;
		spin_unlock(&ks_minors_lock);
		cdev_del(k->device.cdev);
		k->device.cdev = NULL;
		return ks_file_failed(k, dg, "/dev/", PTR_ERR(dev));
	}
	return 0;
}

static void ks_device_disable(struct ks_kobj *k)
{
	if (!k->registered)
		return;
	device_destroy(ks_class, MKDEV(MAJOR(ks_devt), k->device.minor));
	spin_lock(&ks_minors_lock);
	ks_minors[k->device.minor] = NULL;
	spin_unlock(&ks_minors_lock);
	cdev_del(k->device.cdev);
	k->device.cdev = NULL;
	/* An open file of it keeps the script, not the number. */
	ida_free(&ks_minor_ida, k->device.minor);
	k->device.minor = -1;
}

static void ks_device_destroy(struct ks_kobj *k)
{
	if (k->device.minor >= 0)
		ida_free(&ks_minor_ida, k->device.minor);
	k->device.minor = -1;
}

/*
 * Kernel memory per device beyond our structure: struct device, its
 * kobject and sysfs directory, a devtmpfs inode, a cdev.
 */
const struct ks_kind_ops ks_device_ops = {
	.name = "device",
	.cost = 6144,
	.named = true,
	.create = ks_device_create,
	.enable = ks_device_enable,
	.disable = ks_device_disable,
	.destroy = ks_device_destroy,
};

/* ------------------------------------------------------------------ */
/* /proc files */

static int ks_procfile_create(struct ks_kobj *k)
{
	return 0;
}

static int ks_procfile_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	k->proc.pde = proc_create_data(k->name, k->mode, ks_proc_dir, &ks_procfile_ops, k);
	return k->proc.pde ? 0 : ks_file_failed(k, dg, "/proc/kscript/", -ENOMEM);
}

/* Waits for operations in flight on the file. */
static void ks_procfile_disable(struct ks_kobj *k)
{
	if (k->registered)
		proc_remove(k->proc.pde);
	k->proc.pde = NULL;
}

const struct ks_kind_ops ks_proc_ops = {
	.name = "proc",
	.cost = 1024,
	.named = true,
	.create = ks_procfile_create,
	.enable = ks_procfile_enable,
	.disable = ks_procfile_disable,
};

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

	spin_lock(&ks_minors_lock);
	if (minor < KS_MAX_DEVICES)
		k = ks_minors[minor];
	/* A node of a device that is gone (its number reused) finds nothing. */
	if (k && k->device.cdev != inode->i_cdev)
		k = NULL;
	/* The script lives while its device is in the table. */
	if (k)
		kref_get(&k->script->ref);
	spin_unlock(&ks_minors_lock);
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

int ks_file_init(void)
{
	int err;

	err = alloc_chrdev_region(&ks_devt, 0, KS_MAX_DEVICES, "kscript");
	if (err)
		return err;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	ks_class = class_create("kscript");
#else
	ks_class = class_create(THIS_MODULE, "kscript");
#endif
	if (IS_ERR(ks_class)) {
		unregister_chrdev_region(ks_devt, KS_MAX_DEVICES);
		return PTR_ERR(ks_class);
	}
	ks_class->devnode = ks_devnode;
	return 0;
}

void ks_file_exit(void)
{
	class_destroy(ks_class);
	unregister_chrdev_region(ks_devt, KS_MAX_DEVICES);
	ida_destroy(&ks_minor_ida);
}
