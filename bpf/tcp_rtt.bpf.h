/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt (tcp_mode RTT), part of bpf/tcp.bpf.c: the smoothed RTT of each connection each
 * time tcp:tcp_probe fires, counted in log2 histograms in the kernel (tcp_rtts), one per
 * remote address, per local port or one for everything (tcp_rtt_by).
 *
 * tcp_probe fires at the start of tcp_rcv_established(), for every segment an
 * established socket takes in (both ends of a connection on this machine each count
 * theirs), and records tcp_sock.srtt_us >> 3: srtt_us holds the smoothed RTT in us
 * shifted left by 3 (tcp_rtt_estimator keeps 8 * srtt to average in integers), so the
 * sample, like the tracepoint's srtt field, is in us. A socket that has measured no RTT
 * yet gives 0. The sample is the value before the segment is processed, as the tracepoint
 * sees it.
 *
 * The owner filters (-p, -u, -n, --cgroup) go through the connection table: tcp_probe
 * runs in softirq, where the current task is whoever was interrupted, so only a socket
 * whose owner is in the table (the connecting task, or the accepting one once accept()
 * returned) and passed the filter counts while one of them is set.
 */
#ifndef KSIGHT_TCP_RTT_BPF_H
#define KSIGHT_TCP_RTT_BPF_H

const volatile __u8 tcp_rtt_by = TCP_RTT_BY_RADDR;	/* tcprtt: TCP_RTT_BY_* */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_RTT_KEYS);
	__type(key, struct tcp_rtt_key);
	__type(value, struct tcp_rtt_hist);
} tcp_rtts SEC(".maps");

/* One sample of @srtt_us on the connection @l - @r; @sk may be NULL (the classic
 * tracepoint of kernels without its skaddr field): no owner is known then. */
static __always_inline int tcp_rtt_add(struct sock *sk, __u16 family, const struct tcp_end *l,
				       const struct tcp_end *r, __u32 srtt_us)
{
	struct tcp_rtt_key k = {};
	struct tcp_rtt_hist *h;
	__u64 key = (__u64)sk;

	if (tcp_mode != TCP_MODE_RTT)
		return 0;
	if (family != TCP_AF_INET && family != TCP_AF_INET6)
		return 0;
	if (tcp_family && family != tcp_family)
		return 0;
	if (tcp_owner_filtered()) {
		struct tcp_conn *c = sk ? bpf_map_lookup_elem(&tcp_conns, &key) : NULL;

		if (!c || !c->owner.pid)
			return 0;
	}
	if (!tcp_ends_wanted(family, l, r))
		return 0;
	if (tcp_rtt_by == TCP_RTT_BY_RADDR) {
		__builtin_memcpy(k.addr, r->addr, sizeof(k.addr));
		k.family = family;
	} else if (tcp_rtt_by == TCP_RTT_BY_LPORT) {
		k.port = l->port;
	}
	h = bpf_map_lookup_elem(&tcp_rtts, &k);
	if (!h) {
		struct tcp_rtt_hist zero = {};

		bpf_map_update_elem(&tcp_rtts, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&tcp_rtts, &k);
		if (!h) {
			ks_lost(TCP_EV_RTT);
			return 0;
		}
	}
	/* atomic: the same histogram is filled from every CPU's softirq */
	ks_log2_count(h->slots, srtt_us);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, srtt_us);
	return 0;
}

static __always_inline int tcp_rtt_sk(struct sock *sk)
{
	struct tcp_end l = {}, r = {};
	__u16 family;

	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != TCP_AF_INET && family != TCP_AF_INET6)
		return 0;
	tcp_read_ends(sk, family, &l, &r);
	return tcp_rtt_add(sk, family, &l, &r, BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp__rtt_btf, struct sock *sk, struct sk_buff *skb)
{
	return tcp_rtt_sk(sk);
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(tcp__rtt_raw, struct sock *sk, struct sk_buff *skb)
{
	return tcp_rtt_sk(sk);
}

/* skaddr joined the record in 6.x (after the others): found by CO-RE where it is. */
struct trace_event_raw_tcp_probe___sk {
	const void *skaddr;
} __attribute__((preserve_access_index));

/* One end from the record's sockaddr (sockaddr_in: the address at 4, sockaddr_in6: at 8). */
static __always_inline void tcp_rtt_tp_end(const __u8 *sa, __u16 family, __u16 port,
					   struct tcp_end *e)
{
	e->port = port;
	if (family == TCP_AF_INET)
		bpf_probe_read_kernel(e->addr, 4, sa + 4);
	else
		bpf_probe_read_kernel(e->addr, 16, sa + 8);
}

/* The classic tracepoint's record already holds what the tracepoint read: its own
 * fields, with the ports in host order and srtt in us. */
SEC("tp/tcp/tcp_probe")
int tcp__rtt_tp(struct trace_event_raw_tcp_probe *ctx)
{
	struct tcp_end l = {}, r = {};
	struct sock *sk = NULL;
	__u16 family;

	/* before 5.12 the event has no family field: the sockaddr's own sa_family says it */
	if (bpf_core_field_exists(ctx->family))
		family = BPF_CORE_READ(ctx, family);
	else
		family = *(__u16 *)ctx->saddr;

	if (bpf_core_field_exists(struct trace_event_raw_tcp_probe___sk, skaddr))
		sk = (struct sock *)((struct trace_event_raw_tcp_probe___sk *)ctx)->skaddr;
	tcp_rtt_tp_end(ctx->saddr, family, ctx->sport, &l);
	tcp_rtt_tp_end(ctx->daddr, family, ctx->dport, &r);
	return tcp_rtt_add(sk, family, &l, &r, ctx->srtt);
}

#endif
