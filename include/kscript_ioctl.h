/*
 * The /dev/kscript ioctl interface, shared by the kernel module and the
 * kscript command-line tool.
 */
#ifndef KSCRIPT_IOCTL_H
#define KSCRIPT_IOCTL_H

#include <linux/ioctl.h>   /* the kernel's UAPI headers, in both worlds */
#include <linux/types.h>

#ifndef KS_NAME_MAX
#define KS_NAME_MAX 32   /* as in kscript.h */
#endif

struct ks_ioc_load {
	__u64 source;          /* user pointer to the script text */
	__u64 length;
	char name[KS_NAME_MAX]; /* empty: the module picks one */
	__u64 memory_quota;    /* 0: default */
	__s64 budget;          /* 0: default */
	__u32 max_depth;       /* 0: default */
	__u32 pad;
	__u64 diagnostics;     /* user buffer for "line:col: error: ..." lines */
	__u64 diagnostics_size;
};

struct ks_ioc_name {
	char name[KS_NAME_MAX];
};

#define KS_IOC_MAGIC 'k'
#define KS_IOC_LOAD _IOWR(KS_IOC_MAGIC, 1, struct ks_ioc_load)
#define KS_IOC_UNLOAD _IOW(KS_IOC_MAGIC, 2, struct ks_ioc_name)

#endif
