// SPDX-License-Identifier: GPL-2.0
/*
 * The reference for the device benchmark: the same device as
 * bench/kernel/bench_device.k, written in C. read() gives one fixed line.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

static const char refdev_text[] = "Hello from a kernel device\n";

static ssize_t refdev_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	return simple_read_from_buffer(buf, count, ppos, refdev_text, sizeof(refdev_text) - 1);
}

static const struct file_operations refdev_fops = {
	.owner = THIS_MODULE,
	.read = refdev_read,
	.llseek = default_llseek,
};

static struct miscdevice refdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "refdev",
	.fops = &refdev_fops,
	.mode = 0444,
};

module_misc_device(refdev_misc);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("C reference device for the kscript device benchmark");
