// SPDX-License-Identifier: GPL-2.0
/*
 * net: traffic counted where packets pass, per interface (TC clsact, both directions) and
 * per cgroup (cgroup_skb ingress and egress on the cgroup v2 root or --cgroup): packets
 * and bytes per direction, family and protocol, a log2 histogram of their sizes, the
 * remote ends (address, port) they come from and go to, and with --payload the first
 * bytes of the last NET_PAYLOAD_SLOTS packets with --port at one end. Only maps are
 * filled; nothing is streamed, so the cost per packet is a few map updates.
 *
 * These programs run in softirq or for a socket, never for a task of their own: they do
 * not ask for the current task (6.1 refuses bpf_get_current_pid_tgid in TC and
 * cgroup_skb programs). The cgroup is the packet's socket's (bpf_skb_cgroup_id: cgroup_skb
 * programs run with skb->sk set to the socket the packet is for or from).
 *
 * Everything is read with bpf_skb_load_bytes, which also reaches the non-linear part of a
 * packet (a TCP payload usually sits in page fragments). At TC the data starts at the link
 * header, whose length user space knows per interface (net_l2: 14 for Ethernet and the
 * loopback, 0 for layer-3 devices such as tun or WireGuard); cgroup_skb programs see the
 * packet from its IP header on.
 */
#include "common.bpf.h"
#include "net.h"
#include <bpf/bpf_endian.h>

#define NET_ETH_P_IP 0x0800
#define NET_ETH_P_IPV6 0x86dd

const volatile __u16 net_port = 0;		/* --port: at either end, 0 = any */
const volatile __u8 net_addr_family = 0;	/* --addr: NET_F_IPV4/6, 0 = any */
const volatile __u8 net_addr[16] = {};
const volatile bool net_remotes_on = true;		/* count remote ends (not in the agent) */
const volatile __u8 net_remote_via = NET_VIA_IFACE;	/* the view that counts them */
const volatile bool net_remote_cgroup = false;		/* -P: remote ends per cgroup */
const volatile __u8 net_payload_via = NET_VIA_IFACE;	/* the view that keeps payloads */
const volatile __u32 net_payload_cap = 0;		/* --payload N, 0 = off */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_TRAFFIC_ROWS);
	__type(key, struct net_key);
	__type(value, struct net_count);
} net_traffic SEC(".maps");

/* Sizes: (via * 2 + dir) * NET_SIZE_SLOTS + log2(length). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NET_VIA_N * 2 * NET_SIZE_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} net_sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_REMOTE_ROWS);
	__type(key, struct net_rkey);
	__type(value, struct net_rval);
} net_remotes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NET_PAYLOAD_SLOTS);
	__type(key, __u32);
	__type(value, struct net_cap);
} net_payload SEC(".maps");

/* ifindex -> bytes of link header before the IP header (absent: 14, Ethernet). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} net_l2 SEC(".maps");

/*
 * The captures' counter (the last one's number). A spin lock, not an atomic fetch-and-add:
 * that needs BPF atomics with a fetched result (5.12+, clang -mcpu=v3); locks work in TC
 * and cgroup_skb programs since 5.1.
 */
struct net_seq {
	struct bpf_spin_lock lock;
	__u64 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct net_seq);
} net_payload_seq SEC(".maps");

/* One packet as the programs need it. */
struct net_pkt {
	__u8 saddr[16], daddr[16];
	__u32 l4off;		/* from skb->data: the transport header */
	__u32 l4len;		/* transport bytes: header and payload */
	__u16 sport, dport;
	__u8 family, proto;
	__u8 ports;		/* sport and dport were read */
	__u8 ipproto;		/* the IP protocol number */
};

static __always_inline __u8 net_proto_class(__u8 ipproto)
{
	switch (ipproto) {
	case 6: return NET_P_TCP;
	case 17: return NET_P_UDP;
	case 1:
	case 58: return NET_P_ICMP;
	default: return NET_P_OTHER;
	}
}

/* IPv6: skip up to three extension headers; 0, or -1 for a later fragment (no ports). */
static __always_inline int net_v6_ext(struct __sk_buff *skb, struct net_pkt *p, __u32 *off,
				      __u32 *left)
{
	for (int i = 0; i < 3; i++) {
		__u8 h[2];
		__u32 len;

		if (p->ipproto != 0 && p->ipproto != 43 && p->ipproto != 60 && p->ipproto != 44)
			return 0;
		if (bpf_skb_load_bytes(skb, *off, h, sizeof(h)))
			return -1;
		if (p->ipproto == 44) {
			__be16 frag;

			if (bpf_skb_load_bytes(skb, *off + 2, &frag, sizeof(frag)))
				return -1;
			len = 8;
			p->ipproto = h[0];
			if (bpf_ntohs(frag) & 0xfff8)
				return -1;
		} else {
			len = ((__u32)h[1] + 1) * 8;
			p->ipproto = h[0];
		}
		if (len > *left)
			return -1;
		*off += len;
		*left -= len;
	}
	return 0;
}

/* Parse the IP and transport headers at @off (from skb->data). */
static __always_inline void net_parse(struct __sk_buff *skb, __u32 off, struct net_pkt *p)
{
	__u32 left = 0;

	if (skb->protocol == bpf_htons(NET_ETH_P_IP)) {
		struct iphdr ip;
		__u32 hl, tot;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.version != 4)
			return;
		p->family = NET_F_IPV4;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		p->ipproto = ip.protocol;
		p->proto = net_proto_class(ip.protocol);
		hl = ip.ihl * 4;
		tot = bpf_ntohs(ip.tot_len);
		/* BIG TCP (6.3+): a GSO packet past 64 KiB has tot_len 0 */
		if (!tot && skb->len > off)
			tot = skb->len - off;
		/* a later fragment has no transport header */
		if (hl < 20 || tot < hl || (bpf_ntohs(ip.frag_off) & 0x1fff))
			return;
		off += hl;
		left = tot - hl;
	} else if (skb->protocol == bpf_htons(NET_ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.version != 6)
			return;
		p->family = NET_F_IPV6;
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		p->ipproto = ip6.nexthdr;
		off += sizeof(ip6);
		left = bpf_ntohs(ip6.payload_len);
		if (!left && skb->len > off)	/* BIG TCP: payload_len 0 */
			left = skb->len - off;
		if (net_v6_ext(skb, p, &off, &left)) {
			p->proto = net_proto_class(p->ipproto);
			return;
		}
		p->proto = net_proto_class(p->ipproto);
	} else {
		return;
	}
	p->l4off = off;
	p->l4len = left;
	if (p->proto == NET_P_TCP || p->proto == NET_P_UDP) {
		__be16 ports[2];

		if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
			return;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->ports = 1;
	}
}

static __always_inline bool net_addr_is(const __u8 *a)
{
	int n = net_addr_family == NET_F_IPV4 ? 4 : 16;

	for (int i = 0; i < 16; i++)
		if (i < n && a[i] != net_addr[i])
			return false;
	return true;
}

/* Whether the packet passes --port and --addr. */
static __always_inline bool net_wanted(const struct net_pkt *p)
{
	if (net_port && !(p->ports && (p->sport == net_port || p->dport == net_port)))
		return false;
	if (net_addr_family &&
	    !(p->family == net_addr_family && (net_addr_is(p->saddr) || net_addr_is(p->daddr))))
		return false;
	return true;
}

/* Add to a hash map's row, made if missing; false when the map is full. */
static __always_inline void *net_row(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);	/* EEXIST: another CPU made it */
	return bpf_map_lookup_elem(map, key);
}

static __always_inline void net_count_traffic(const struct net_pkt *p, __u8 via, __u8 dir,
					      __u64 id, __u32 len)
{
	struct net_key k = { .id = id, .via = via, .dir = dir, .family = p->family,
			     .proto = p->proto };
	struct net_count zero = {}, *c = net_row(&net_traffic, &k, &zero);
	__u32 slot = (via * 2 + dir) * NET_SIZE_SLOTS + ks_log2(len);
	__u64 *n;

	if (!c) {
		ks_lost(NET_EV_TRAFFIC);
	} else {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, len);
	}
	n = bpf_map_lookup_elem(&net_sizes, &slot);
	if (n)
		*n += 1;
}

static __always_inline void net_count_remote(const struct net_pkt *p, __u8 dir, __u64 cgroup,
					     __u32 len)
{
	struct net_rkey k = { .family = p->family, .proto = p->proto, .cgroup = cgroup };
	struct net_rval zero = {}, *v;

	if (dir == NET_DIR_IN) {
		__builtin_memcpy(k.raddr, p->saddr, 16);
		k.rport = p->sport;
		k.lport = p->dport;
	} else {
		__builtin_memcpy(k.raddr, p->daddr, 16);
		k.rport = p->dport;
		k.lport = p->sport;
	}
	v = net_row(&net_remotes, &k, &zero);
	if (!v) {
		ks_lost(NET_EV_REMOTE);
		return;
	}
	if (dir == NET_DIR_IN) {
		__sync_fetch_and_add(&v->in_packets, 1);
		__sync_fetch_and_add(&v->in_bytes, len);
	} else {
		__sync_fetch_and_add(&v->out_packets, 1);
		__sync_fetch_and_add(&v->out_bytes, len);
	}
}

/* The transport header's length, for where the payload starts; 0 if unknown. */
static __always_inline __u32 net_l4_hdr(struct __sk_buff *skb, const struct net_pkt *p)
{
	__u8 doff;

	if (p->proto == NET_P_UDP || p->proto == NET_P_ICMP)
		return 8;
	if (p->proto != NET_P_TCP || bpf_skb_load_bytes(skb, p->l4off + 12, &doff, 1))
		return 0;
	return (doff >> 4) * 4;
}

static __always_inline void net_keep_payload(struct __sk_buff *skb, const struct net_pkt *p,
					     __u8 via, __u8 dir, __u64 id)
{
	__u32 hl = net_l4_hdr(skb, p), plen, n, slot, zero = 0;
	struct net_seq *sq;
	struct net_cap *c;
	__u64 seq;

	if (!hl || p->l4len < hl)
		return;
	plen = p->l4len - hl;
	if (!plen)
		return;		/* a bare ACK carries nothing to keep */
	sq = bpf_map_lookup_elem(&net_payload_seq, &zero);
	if (!sq)
		return;
	bpf_spin_lock(&sq->lock);
	seq = ++sq->seq;
	bpf_spin_unlock(&sq->lock);
	slot = seq & (NET_PAYLOAD_SLOTS - 1);
	c = bpf_map_lookup_elem(&net_payload, &slot);
	if (!c)
		return;
	c->seq = 0;	/* torn while written: user space skips it */
	c->ts = bpf_ktime_get_ns();
	c->id = id;
	__builtin_memcpy(c->saddr, p->saddr, 16);
	__builtin_memcpy(c->daddr, p->daddr, 16);
	c->sport = p->sport;
	c->dport = p->dport;
	c->via = via;
	c->dir = dir;
	c->family = p->family;
	c->proto = p->proto;
	c->len = plen;
	n = plen < net_payload_cap ? plen : net_payload_cap;
	if (!n)
		return;
	/* 1..NET_PAYLOAD_MAX in a form the verifier follows (ks_mask: not folded away) */
	n = ks_mask(n - 1, 0xff) + 1;
	if (bpf_skb_load_bytes(skb, p->l4off + hl, c->data, n))
		n = 0;
	c->cap = n;
	asm volatile("" ::: "memory");	/* seq last (x86 keeps stores in order) */
	c->seq = seq;
}

static __always_inline void net_seen(struct __sk_buff *skb, __u8 via, __u8 dir, __u32 l2,
				     __u64 id)
{
	struct net_pkt p = {};
	__u32 len = skb->len;

	net_parse(skb, l2, &p);
	if ((net_port || net_addr_family) && !net_wanted(&p))
		return;
	net_count_traffic(&p, via, dir, id, len);
	if (net_remotes_on && via == net_remote_via && p.ports) {
		__u64 cg = net_remote_cgroup ? bpf_skb_cgroup_id(skb) : 0;

		net_count_remote(&p, dir, cg, len);
	}
	if (net_payload_cap && via == net_payload_via && p.ports)
		net_keep_payload(skb, &p, via, dir, id);
}

static __always_inline int net_tc(struct __sk_buff *skb, __u8 dir)
{
	__u32 ifindex = skb->ifindex, *l2 = bpf_map_lookup_elem(&net_l2, &ifindex);

	net_seen(skb, NET_VIA_IFACE, dir, l2 ? *l2 : 14, ifindex);
	/* TC_ACT_UNSPEC, tcx's TCX_NEXT: the filters and programs after this one still run */
	return -1;
}

SEC("tc")
int net__tc_in(struct __sk_buff *skb)
{
	return net_tc(skb, NET_DIR_IN);
}

SEC("tc")
int net__tc_out(struct __sk_buff *skb)
{
	return net_tc(skb, NET_DIR_OUT);
}

/* cgroup_skb: 1 lets the packet pass; ksight never drops one. */
SEC("cgroup_skb/ingress")
int net__cg_in(struct __sk_buff *skb)
{
	net_seen(skb, NET_VIA_CGROUP, NET_DIR_IN, 0, bpf_skb_cgroup_id(skb));
	return 1;
}

SEC("cgroup_skb/egress")
int net__cg_out(struct __sk_buff *skb)
{
	net_seen(skb, NET_VIA_CGROUP, NET_DIR_OUT, 0, bpf_skb_cgroup_id(skb));
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
