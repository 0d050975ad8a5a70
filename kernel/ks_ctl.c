// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kscript: scripts come in here. Written and closed (as
 * `cat hello.k > /dev/kscript` does), the text is compiled and run when the
 * writer closes the file; the kscript tool uses the KS_IOC_LOAD and
 * KS_IOC_UNLOAD ioctls instead. read() gives the diagnostics of the last
 * load.
 *
 * CAP_SYS_ADMIN is checked at open and again at every write, load and
 * unload: a privileged process's file descriptor passed to (or kept by) an
 * unprivileged one loads nothing. Several writers may share one file: each
 * copies its data in before taking the file's lock, so a writer stalled in
 * copy_from_user blocks no one and never writes into a freed buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ks.h"
#include "kscript_ioctl.h"

#define KS_DIAG_SIZE 4096

static char ks_last_diag[KS_DIAG_SIZE];
static size_t ks_last_diag_len;
static DEFINE_MUTEX(ks_diag_lock);

struct ks_ctl {
	struct mutex lock;		/* src, len, cap */
	char *src;			/* text written so far */
	size_t len;
	size_t cap;
};

static void ks_remember_diag(const struct ks_diag *dg)
{
	mutex_lock(&ks_diag_lock);
	ks_last_diag_len = min(dg->len, sizeof(ks_last_diag));
	memcpy(ks_last_diag, dg->buf, ks_last_diag_len);
	mutex_unlock(&ks_diag_lock);
}

static int ks_diag_init(struct ks_diag *dg)
{
	dg->size = KS_DIAG_SIZE;
	dg->len = 0;
	dg->buf = kmalloc(dg->size, GFP_KERNEL);
	if (!dg->buf)
		return -ENOMEM;
	dg->buf[0] = 0;
	return 0;
}

static int ks_ctl_open(struct inode *inode, struct file *file)
{
	struct ks_ctl *c;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	file->private_data = c;
	return 0;
}

static ssize_t ks_ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct ks_ctl *c = file->private_data;
	size_t need;
	char *chunk;
	ssize_t ret = count;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (count > KS_MAX_SOURCE)
		return -EFBIG;
	if (!count)
		return 0;
	chunk = kvmalloc(count, GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	if (copy_from_user(chunk, ubuf, count)) {
		kvfree(chunk);
		return -EFAULT;
	}
	if (mutex_lock_killable(&c->lock)) {
		kvfree(chunk);
		return -EINTR;
	}
	if (check_add_overflow(c->len, count, &need) || need > KS_MAX_SOURCE) {
		ret = -EFBIG;
		goto out;
	}
	if (need > c->cap) {
		size_t cap = min_t(size_t, max_t(size_t, need, c->cap ? c->cap * 2 : 4096), KS_MAX_SOURCE);
		char *src = kvmalloc(cap, GFP_KERNEL);

		if (!src) {
			ret = -ENOMEM;
			goto out;
		}
		if (c->len)
			memcpy(src, c->src, c->len);
		kvfree(c->src);
		c->src = src;
		c->cap = cap;
	}
	memcpy(c->src + c->len, chunk, count);
	c->len += count;
	*ppos += count;
out:
	mutex_unlock(&c->lock);
	kvfree(chunk);
	return ret;
}

/*
 * The last writer closes the file: compile and run what was written. The
 * error reaches close(2); the diagnostics are in the log and in read().
 * Closing one of several descriptors of the file (a shell's child that
 * exits) loads nothing: the text may not be complete yet.
 */
static int ks_ctl_flush(struct file *file, fl_owner_t id)
{
	struct ks_ctl *c = file->private_data;
	struct ks_script *s;
	struct ks_diag dg;
	char *src;
	size_t len;
	int err;

	if (file_count(file) > 1)
		return 0;
	mutex_lock(&c->lock);
	src = c->src;
	len = c->len;
	c->src = NULL;
	c->len = c->cap = 0;
	mutex_unlock(&c->lock);
	if (!len) {
		kvfree(src);
		return 0;
	}
	err = capable(CAP_SYS_ADMIN) ? ks_diag_init(&dg) : -EPERM;
	if (!err) {
		err = ks_load_script(src, len, NULL, 0, 0, 0, &dg, &s);
		if (!err)
			ks_commit_script(s, &dg);
		ks_remember_diag(&dg);
		kfree(dg.buf);
	}
	kvfree(src);
	return err;
}

static ssize_t ks_ctl_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	char *copy;
	size_t len;
	ssize_t ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* A snapshot: no lock across the copy to user memory. */
	copy = kmalloc(KS_DIAG_SIZE, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	mutex_lock(&ks_diag_lock);
	len = ks_last_diag_len;
	memcpy(copy, ks_last_diag, len);
	mutex_unlock(&ks_diag_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, copy, len);
	kfree(copy);
	return ret;
}

/*
 * KS_IOC_LOAD. The diagnostics buffer is checked writable before anything
 * runs, and the load commits only once they are copied out: if that still
 * fails, this very load is undone before any handler of it ran, and the
 * call fails with nothing left behind.
 */
static long ks_ctl_load(struct ks_ioc_load __user *uarg)
{
	struct ks_ioc_load req;
	struct ks_script *s = NULL;
	void __user *udiag;
	struct ks_diag dg;
	char *src;
	long err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	req.name[KS_NAME_MAX - 1] = 0;
	if (req.length > KS_MAX_SOURCE)
		return -EFBIG;
	if (req.budget < 0 || req.pad)
		return -EINVAL;
	udiag = u64_to_user_ptr(req.diagnostics);
	if (req.diagnostics && req.diagnostics_size) {
		if (req.diagnostics_size > KS_DIAG_SIZE)
			req.diagnostics_size = KS_DIAG_SIZE;
		if (clear_user(udiag, req.diagnostics_size))
			return -EFAULT;
	}
	src = kvmalloc(req.length ? req.length : 1, GFP_KERNEL);
	if (!src)
		return -ENOMEM;
	if (copy_from_user(src, u64_to_user_ptr(req.source), req.length)) {
		kvfree(src);
		return -EFAULT;
	}
	err = ks_diag_init(&dg);
	if (err) {
		kvfree(src);
		return err;
	}
	err = ks_load_script(src, req.length, req.name, req.memory_quota, req.budget, req.max_depth, &dg, &s);
	kvfree(src);
	if (!err)
		ks_diag_add(&dg, "%s: loaded\n", s->name);
	if (req.diagnostics && req.diagnostics_size) {
		size_t n = min_t(size_t, dg.len, req.diagnostics_size - 1);

		if (copy_to_user(udiag, dg.buf, n) || put_user(0, (char __user *)udiag + n)) {
			if (!err) {
				ks_abort_script(s);
				s = NULL;
			}
			err = -EFAULT;
		}
	}
	if (s)
		ks_commit_script(s, NULL);
	ks_remember_diag(&dg);
	kfree(dg.buf);
	return err;
}

static long ks_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct ks_ioc_name req;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KS_IOC_LOAD:
		return ks_ctl_load(uarg);
	case KS_IOC_UNLOAD:
		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		req.name[KS_NAME_MAX - 1] = 0;
		return ks_unload_script(req.name);
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

int ks_ctl_init(void)
{
	return misc_register(&ks_ctl_misc);
}

void ks_ctl_exit(void)
{
	misc_deregister(&ks_ctl_misc);
}
