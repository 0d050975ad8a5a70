// SPDX-License-Identifier: GPL-2.0
/*
 * The C reference for the hook benchmarks (tools/kernel-bench.sh): a
 * kprobe on [probe] that counts its hits, and an IPv4 LOCAL_IN netfilter
 * hook that counts packets and accepts them. The same work as
 * bench/kernel/hook_bench.k does in script.
 *   insmod refhook.ko probe=__x64_sys_getppid     (or nf=1)
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/net_namespace.h>

static char *probe;
module_param(probe, charp, 0444);
static bool nf;
module_param(nf, bool, 0444);

static atomic64_t hits, packets;

static int refhook_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic64_inc(&hits);
	return 0;
}

static unsigned int refhook_nf(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	atomic64_inc(&packets);
	return NF_ACCEPT;
}

static struct kprobe kp = { .pre_handler = refhook_pre };
static struct nf_hook_ops ops = {
	.hook = refhook_nf, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN, .priority = 0,
};

static int __init refhook_init(void)
{
	int err;

	if (probe) {
		kp.symbol_name = probe;
		err = register_kprobe(&kp);
		if (err)
			return err;
	}
	if (nf) {
		err = nf_register_net_hook(&init_net, &ops);
		if (err) {
			if (probe)
				unregister_kprobe(&kp);
			return err;
		}
	}
	return 0;
}

static void __exit refhook_exit(void)
{
	if (probe)
		unregister_kprobe(&kp);
	if (nf)
		nf_unregister_net_hook(&init_net, &ops);
	pr_info("refhook: %lld hits, %lld packets\n", atomic64_read(&hits), atomic64_read(&packets));
}

module_init(refhook_init);
module_exit(refhook_exit);
MODULE_LICENSE("GPL");
