// SPDX-License-Identifier: GPL-2.0
/*
 * drops: packets the kernel dropped, from skb:kfree_skb, counted in drops_rows per
 * (reason, interface, protocol, owner of the packet's socket); nothing is streamed.
 *
 * The tracepoint fires where the packet is freed, mostly in softirq, where the current task
 * is whatever was interrupted: nothing here reads it. The owner is the packet's socket's
 * (skb->sk, else the receiving socket the tracepoint names since 6.11): the cgroup that
 * socket was charged to when it was made.
 *
 * Its arguments grew: (skb, location) until 5.16, then the reason (5.17), then the
 * receiving socket (6.11). User space counts them in the kernel's BTF and sets
 * drops_reason_arg and drops_rx_sk_arg; being constants, the verifier never sees a read
 * past the arguments this kernel has. Before 5.17 every kfree_skb() is counted with the
 * reason DROPS_REASON_UNKNOWN (some of those frees are not drops: the kernel did not say).
 * Where it says, a free that is no drop (SKB_NOT_DROPPED_YET, SKB_CONSUMED) is skipped.
 */
#include "common.bpf.h"
#include "drops.h"
#include <bpf/bpf_endian.h>

#define DROPS_ETH_P_IP 0x0800
#define DROPS_ETH_P_IPV6 0x86dd

const volatile bool drops_reason_arg = false;	/* the tracepoint has the reason */
const volatile bool drops_rx_sk_arg = false;	/* ... and the receiving socket */
const volatile bool drops_want_reason = false;	/* --reason */
const volatile __u32 drops_reason = 0;		/* --reason's value in this kernel */
const volatile __u32 drops_ifindex = 0;		/* -i, 0 = any */
const volatile __u32 drops_netns = 0;		/* -i, --netns: the namespace's inode, 0 = any */
const volatile bool drops_pid_socks = false;	/* -p: only sockets in drops_socks */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DROPS_ROWS);
	__type(key, struct drops_key);
	__type(value, struct drops_val);
} drops_rows SEC(".maps");

/* -p: the inodes of the process's sockets, kept by user space (src/modules/drops.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DROPS_SOCKS);
	__type(key, __u64);
	__type(value, __u32);
} drops_socks SEC(".maps");

/* Whether the kernel says this free is no drop (6.0+ name these two). */
static __always_inline bool drops_not_a_drop(__u32 reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_NOT_DROPPED_YET) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_NOT_DROPPED_YET))
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return true;
	return false;
}

/* The route's device, for a packet not yet given one (dropped on the way out). */
static __always_inline struct net_device *drops_dst_dev(struct sk_buff *skb)
{
	unsigned long refdst = BPF_CORE_READ(skb, _skb_refdst);
	struct dst_entry *dst = (struct dst_entry *)(refdst & ~1UL);	/* ~SKB_DST_NOREF */

	if (!dst)
		return NULL;
	return BPF_CORE_READ(dst, dev);
}

/* The kernels before 5.15 kept the cgroup in sock_cgroup_data.val (bit 0 clear). */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

static __always_inline __u64 drops_sk_cgroup(struct sock *sk)
{
	struct cgroup *cg;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup)) {
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	} else {
		struct sock_cgroup_data___old *d = (void *)&sk->sk_cgrp_data;
		__u64 v = BPF_CORE_READ(d, val);

		cg = (v & 1) ? NULL : (struct cgroup *)v;
	}
	if (!cg)
		return 0;
	return BPF_CORE_READ(cg, kn, id);
}

/* A full socket: not a request (NEW_SYN_RECV) nor a timewait socket. */
static __always_inline bool drops_fullsock(struct sock *sk)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

	return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

/* The socket's inode number (what /proc/PID/fd shows as socket:[N]), 0: none. */
static __always_inline __u64 drops_sk_ino(struct sock *sk)
{
	struct socket_alloc *sa = (struct socket_alloc *)BPF_CORE_READ(sk, sk_socket);

	if (!sa)
		return 0;
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* The transport protocol from the IPv4 or IPv6 header, when the packet has one. */
static __always_inline __u8 drops_l4(struct sk_buff *skb, __u16 proto)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u8 l4 = 0;

	if (!head || nh == (__u16)~0U)
		return 0;
	if (proto == DROPS_ETH_P_IP)
		bpf_probe_read_kernel(&l4, 1, head + nh + 9);	/* iphdr.protocol */
	else if (proto == DROPS_ETH_P_IPV6)
		bpf_probe_read_kernel(&l4, 1, head + nh + 6);	/* ipv6hdr.nexthdr */
	return l4;
}

static __always_inline int drops_count(struct sk_buff *skb, __u32 reason, struct sock *rx_sk)
{
	struct drops_key k = { .reason = reason };
	struct net_device *dev;
	struct drops_val *v;
	struct sock *sk;

	if (!skb)
		return 0;
	if (reason != DROPS_REASON_UNKNOWN && drops_not_a_drop(reason))
		return 0;
	if (drops_want_reason && reason != drops_reason)
		return 0;
	dev = BPF_CORE_READ(skb, dev);
	if (!dev)
		dev = drops_dst_dev(skb);
	sk = BPF_CORE_READ(skb, sk);
	/* a fragment in reassembly keeps its offset there (ip_defrag_offset, a union with sk):
	 * a kernel address is negative as a long on the 64-bit arches ksight builds for */
	if ((long)sk >= 0)
		sk = rx_sk;
	if (dev) {
		k.ifindex = BPF_CORE_READ(dev, ifindex);
		k.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	} else if (sk) {
		k.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	}
	if (drops_ifindex && k.ifindex != drops_ifindex)
		return 0;
	if (drops_netns && k.netns != drops_netns)
		return 0;
	if (sk && !drops_fullsock(sk))
		sk = NULL;
	if (drops_pid_socks) {
		__u64 ino = sk ? drops_sk_ino(sk) : 0;

		if (!ino || !bpf_map_lookup_elem(&drops_socks, &ino))
			return 0;
	}
	if (sk) {
		k.cgroup = drops_sk_cgroup(sk);
		k.flags |= DROPS_K_SOCK;
	}
	k.proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	k.l4 = drops_l4(skb, k.proto);

	v = bpf_map_lookup_elem(&drops_rows, &k);
	if (!v) {
		struct drops_val zero = {};

		if (dev)
			BPF_CORE_READ_STR_INTO(&zero.ifname, dev, name);
		/* another CPU may have made the row meanwhile: then it is there to find */
		bpf_map_update_elem(&drops_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&drops_rows, &k);
		if (!v) {
			ks_lost(DROPS_EV_ROW);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->bytes, BPF_CORE_READ(skb, len));
	return 0;
}

static __always_inline __u32 drops_ctx_reason(unsigned long long *ctx)
{
	if (!drops_reason_arg)
		return DROPS_REASON_UNKNOWN;
	return (__u32)ctx[2];
}

static __always_inline struct sock *drops_ctx_rx_sk(unsigned long long *ctx)
{
	if (!drops_rx_sk_arg)
		return NULL;
	return (struct sock *)ctx[3];
}

SEC("tp_btf/kfree_skb")
int drops__kfree_btf(unsigned long long *ctx)
{
	return drops_count((struct sk_buff *)ctx[0], drops_ctx_reason(ctx), drops_ctx_rx_sk(ctx));
}

SEC("raw_tp/kfree_skb")
int drops__kfree_raw(unsigned long long *ctx)
{
	return drops_count((struct sk_buff *)ctx[0], drops_ctx_reason(ctx), drops_ctx_rx_sk(ctx));
}

/* The classic record has no reason before 5.17 and no receiving socket before 6.11. */
SEC("tp/skb/kfree_skb")
int drops__kfree_tp(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = DROPS_REASON_UNKNOWN;
	struct sock *rx_sk = NULL;

	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = ctx->rx_sk;
	return drops_count(ctx->skbaddr, reason, rx_sk);
}

char LICENSE[] SEC("license") = "GPL";
