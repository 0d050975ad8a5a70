// The Linux library: kernel information and the host-object requests of the
// prelude's Device, Proc, Timer, Kprobe, Kretprobe and Netfilter classes.
#pragma once

#include "Library.h"

// The Linux natives, in table order (see Library.h).
#define KS_LINUX_NATIVES(NATIVE) \
    NATIVE("Linux", "printk", "vs", linux_printk) \
    NATIVE("Linux", "jiffies", "i", linux_jiffies) \
    NATIVE("Linux", "ktimeNs", "i", linux_ktime) \
    NATIVE("Linux", "pid", "i", linux_pid) \
    NATIVE("Linux", "comm", "s", linux_comm) \
    NATIVE("Linux", "uid", "i", linux_uid) \
    NATIVE("Linux", "random", "i", linux_random) \
    NATIVE("Linux", "__deviceCreate", "vosi", linux_device_create) \
    NATIVE("Linux", "__procCreate", "vosb", linux_proc_create) \
    NATIVE("Linux", "__timerCreate", "voib", linux_timer_create) \
    NATIVE("Linux", "__timerStop", "vo", linux_timer_stop) \
    NATIVE("Linux", "__probeCreate", "vosb", linux_probe_create) \
    NATIVE("Linux", "__netfilterCreate", "voiii", linux_netfilter_create) \
    NATIVE("Linux", "__packetBytes", "yoii", linux_packet_bytes) \
    NATIVE("Linux", "readKernel", "yii", linux_read_kernel) \
    NATIVE("Linux", "readKernelString", "sii", linux_read_kernel_string)

namespace ks::lib {
KS_LINUX_NATIVES(KS_DECLARE_NATIVE)
}
