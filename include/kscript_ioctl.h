/*
 * The /dev/kscript ioctl interface, shared by the kernel module and the
 * kscript command-line tool.
 */
#ifndef KSCRIPT_IOCTL_H
#define KSCRIPT_IOCTL_H

#include <linux/ioctl.h>   /* the kernel's UAPI headers, in both worlds */
#include <linux/types.h>

#ifdef __KERNEL__
#include <linux/kernel.h>  /* snprintf */
#else
#include <stdio.h>
#endif
#include "kscript.h"       /* KS_NAME_MAX, KS_SYMBOL_MAX, KS_OBJECT_* */

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

/*
 * KS_IOC_LIST: the loaded scripts and their host objects, as fixed-size
 * records. This is the one definition of what `kscript list` and `kscript
 * stats` show and of what /proc/kscript/scripts prints (the kernel prints
 * that file from the same records, the objects through
 * ks_ioc_object_text() below): nothing parses text back.
 *
 * Layout rule: fixed-width fields only, no pointers (user addresses are
 * __u64), every record a multiple of 8 bytes with no implicit padding, so
 * that 32-bit and 64-bit callers see one layout (compat_ptr_ioctl).
 *
 * Growth: [version] names the meaning of the fields (KS_LIST_VERSION).
 * The caller says how big its records are ([script_size], [object_size]:
 * at least the sizes of version 1); the kernel writes each record at the
 * caller's stride, min(caller's size, its own) bytes of it, and returns
 * its own sizes, so a newer caller sees which trailing fields are absent
 * and an older one gets the prefix it knows.
 *
 * Counts: the kernel fills min(count, room) records of each kind and
 * returns the full counts; a caller whose room was too small calls again
 * with more (the list may change between calls).
 */
#define KS_LIST_VERSION 1

/* The objects of one script (struct ks_ioc_object). */
struct ks_ioc_object {
	__u32 kind;             /* KS_OBJECT_* (kscript.h) */
	__u32 family;           /* netfilter: 4 (IPv4) or 6 (IPv6) */
	__u32 hook;             /* netfilter: the inet hook point, 0..4 (NF_INET_*) */
	__s32 priority;         /* netfilter */
	__u64 interval_ms;      /* timer */
	__u64 missed;           /* timer: ticks skipped while a handler held the script */
	char name[KS_SYMBOL_MAX]; /* device or /proc file name, probe symbol */
};

/* One loaded script. Memory figures in bytes. */
struct ks_ioc_script {
	char name[KS_NAME_MAX];
	__u64 memory_used;      /* held by the script's objects now */
	__u64 memory_peak;
	__u64 memory_quota;
	__u64 held;             /* pages the script holds (its state and slab) */
	__u64 calls;            /* entries into the script */
	__u64 exceptions;
	__u64 collections;
	__u64 handler_calls;    /* handlers the module ran (files, timers) */
	__u64 handler_errors;
	__u32 first_object;     /* its objects: [first_object, first_object + objects) */
	__u32 objects;
};

struct ks_ioc_list {
	__u32 version;          /* in: KS_LIST_VERSION */
	__u32 script_size;      /* in: the caller's record size; out: the kernel's */
	__u32 object_size;      /* the same for objects */
	__u32 max_scripts;      /* in: room at [scripts] */
	__u32 max_objects;      /* in: room at [objects] */
	__u32 script_count;     /* out: scripts loaded */
	__u32 object_count;     /* out: their objects */
	__u32 pad;              /* 0 */
	__u64 scripts;          /* user address of max_scripts records */
	__u64 objects;          /* user address of max_objects records */
};

/* The layout rule, checked: one size on 32 and 64 bits, no hidden padding. */
#ifdef __cplusplus
#define KS_IOC_ASSERT static_assert
#else
#define KS_IOC_ASSERT _Static_assert
#endif
KS_IOC_ASSERT(sizeof(struct ks_ioc_object) == 16 + 16 + KS_SYMBOL_MAX, "ks_ioc_object layout");
KS_IOC_ASSERT(sizeof(struct ks_ioc_script) == KS_NAME_MAX + 9 * 8 + 8, "ks_ioc_script layout");
KS_IOC_ASSERT(sizeof(struct ks_ioc_list) == 8 * 4 + 2 * 8, "ks_ioc_list layout");

#define KS_IOC_MAGIC 'k'
#define KS_IOC_LOAD _IOWR(KS_IOC_MAGIC, 1, struct ks_ioc_load)
#define KS_IOC_UNLOAD _IOW(KS_IOC_MAGIC, 2, struct ks_ioc_name)
#define KS_IOC_LIST _IOWR(KS_IOC_MAGIC, 3, struct ks_ioc_list)

/* The inet hook points by number (NF_INET_*), as scripts name them. */
static inline const char *ks_nf_hook_name(unsigned int hook)
{
	static const char *const names[5] = { "PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING" };

	return hook < 5 ? names[hook] : "?";
}

/*
 * An object as the listing shows it: "/dev/NAME", "/proc/kscript/NAME",
 * "timer:100ms[,missed:N]", "kprobe:SYM", "kretprobe:SYM",
 * "netfilter:ipv4:LOCAL_IN:0". Writes at most [size] bytes with the NUL;
 * returns snprintf's length (the text is cut only if [size] is smaller
 * than KS_IOC_OBJECT_TEXT).
 */
#define KS_IOC_OBJECT_TEXT (KS_SYMBOL_MAX + 64)
static inline int ks_ioc_object_text(const struct ks_ioc_object *o, char *buf, unsigned long size)
{
	int n = KS_SYMBOL_MAX - 1;   /* the name may fill its array without a NUL */

	switch (o->kind) {
	case KS_OBJECT_DEVICE:
		return snprintf(buf, size, "/dev/%.*s", n, o->name);
	case KS_OBJECT_PROC:
		return snprintf(buf, size, "/proc/kscript/%.*s", n, o->name);
	case KS_OBJECT_TIMER:
		if (o->missed)
			return snprintf(buf, size, "timer:%llums,missed:%llu", (unsigned long long)o->interval_ms,
				(unsigned long long)o->missed);
		return snprintf(buf, size, "timer:%llums", (unsigned long long)o->interval_ms);
	case KS_OBJECT_KPROBE:
		return snprintf(buf, size, "kprobe:%.*s", n, o->name);
	case KS_OBJECT_KRETPROBE:
		return snprintf(buf, size, "kretprobe:%.*s", n, o->name);
	case KS_OBJECT_NETFILTER:
		return snprintf(buf, size, "netfilter:ipv%u:%s:%d", o->family == 6 ? 6u : 4u, ks_nf_hook_name(o->hook),
			o->priority);
	default:
		return snprintf(buf, size, "object:%u", o->kind);
	}
}

#endif
