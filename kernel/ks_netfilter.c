// SPDX-License-Identifier: GPL-2.0
/*
 * Netfilter hooks: a script's Netfilter.hook(Packet) at an IPv4 or IPv6
 * hook point of the initial network namespace; its result is the verdict
 * (NF_DROP, or NF_ACCEPT for anything else: a script cannot steal, queue
 * or repeat a packet).
 *
 * ATOMIC CONTEXT: ks_nf_hook() runs in softirq or with preemption off, on
 * every CPU at once; it reads the headers through skb_header_pointer()
 * (bounded by the packet, never past it) and calls ks_hook_event()
 * (ks.h), which never sleeps or waits. Registration and
 * unregistration run in process context; nf_unregister_net_hook() waits
 * for hooks in flight.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include "ks.h"

/* TCP and UDP ports at [offset] (both start with the two ports). */
static void ks_nf_ports(struct sk_buff *skb, int offset, int protocol, struct ks_event *e)
{
	__be16 _ports[2];
	const __be16 *ports;

	if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
		return;
	ports = skb_header_pointer(skb, offset, sizeof(_ports), _ports);
	if (ports) {
		e->sport = ntohs(ports[0]);
		e->dport = ntohs(ports[1]);
	}
}

/* The packet's event: its size and addresses, protocol and ports. */
static void ks_nf_describe(struct sk_buff *skb, const struct nf_hook_state *state, struct ks_event *e)
{
	int offset = skb_network_offset(skb);

	/* saddr6 and daddr6 are read only for IPv6, which sets them. */
	e->protocol = 0;
	e->saddr = e->daddr = 0;
	e->sport = e->dport = 0;
	e->family = state->pf;
	e->hook = state->hook;
	e->length = skb->len - offset;
	e->packet = (unsigned long)skb;
	if (state->pf == NFPROTO_IPV4) {
		struct iphdr _iph;
		const struct iphdr *iph = skb_header_pointer(skb, offset, sizeof(_iph), &_iph);

		if (!iph)
			return;
		e->protocol = iph->protocol;
		e->saddr = ntohl(iph->saddr);
		e->daddr = ntohl(iph->daddr);
		if (!(iph->frag_off & htons(IP_OFFSET)) && iph->ihl >= 5)
			ks_nf_ports(skb, offset + iph->ihl * 4, iph->protocol, e);
	} else {
		struct ipv6hdr _ip6h;
		const struct ipv6hdr *ip6h = skb_header_pointer(skb, offset, sizeof(_ip6h), &_ip6h);
		u8 nexthdr;
		__be16 frag_off = 0;
		int transport;

		if (!ip6h) {
			memset(e->saddr6, 0, sizeof(e->saddr6));
			memset(e->daddr6, 0, sizeof(e->daddr6));
			return;
		}
		memcpy(e->saddr6, &ip6h->saddr, 16);
		memcpy(e->daddr6, &ip6h->daddr, 16);
		nexthdr = ip6h->nexthdr;
		transport = ipv6_skip_exthdr(skb, offset + sizeof(*ip6h), &nexthdr, &frag_off);
		if (transport < 0)
			return;
		e->protocol = nexthdr;
		if (!(frag_off & htons(~0x7)))
			ks_nf_ports(skb, transport, nexthdr, e);
	}
}

/* Atomic context. */
static unsigned int ks_nf_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct ks_event e;

	ks_nf_describe(skb, state, &e);
	return ks_hook_event(priv, &e) == 0 ? NF_DROP : NF_ACCEPT;
}

static int ks_nf_create(struct ks_kobj *k)
{
	k->nf.ops.hook = ks_nf_hook;
	k->nf.ops.priv = k;
	k->nf.ops.pf = k->obj->family;
	k->nf.ops.hooknum = k->obj->hooknum;
	k->nf.ops.priority = k->obj->priority;
	return 0;
}

static int ks_nf_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	int err = nf_register_net_hook(&init_net, &k->nf.ops);

	if (err) {
		ks_diag_add(dg, "%s:%u: error: cannot register the netfilter hook (error %d)\n", k->script->name,
			    k->obj->line, err);
		pr_warn("%s:%u: cannot register a netfilter hook (error %d)\n", k->script->name, k->obj->line, err);
	}
	return err;
}

static void ks_nf_disable(struct ks_kobj *k)
{
	if (k->registered)
		nf_unregister_net_hook(&init_net, &k->nf.ops);
}

static void ks_nf_record(const struct ks_kobj *k, struct ks_ioc_object *o)
{
	o->family = k->nf.ops.pf == NFPROTO_IPV6 ? 6 : 4;
	o->hook = k->nf.ops.hooknum;
	o->priority = k->nf.ops.priority;
}

/* The kernel's hook entries array grows by one entry per hook. */
const struct ks_kind_ops ks_netfilter_ops = {
	.name = "netfilter",
	.cost = 256,
	.create = ks_nf_create,
	.enable = ks_nf_enable,
	.disable = ks_nf_disable,
	.record = ks_nf_record,
};
