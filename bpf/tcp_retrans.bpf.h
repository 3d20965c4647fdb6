/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpretrans (tcp_mode RETRANS), part of bpf/tcp.bpf.c: retransmissions
 * (tcp:tcp_retransmit_skb), resets sent (tcp:tcp_send_reset) and received
 * (tcp:tcp_receive_reset), streamed one by one or counted per connection in the kernel
 * (-c, tcp_retr_conns). In tcplife's mode (the agent) the same hooks only add to the
 * per-CPU totals of tcp_agent_counts.
 *
 * Segments: the kernel adds tcp_skb_pcount(skb), the skb's GSO segment count, to
 * TcpRetransSegs and to the socket's total_retrans before it transmits, and the
 * tracepoint sees that skb after the transmit. A retransmission's segments are what the
 * socket's total_retrans grew by since the last one traced (tcp_retr_segs): the count the
 * kernel made, whatever happened to the skb between (CI saw the skbs' counts sum to 481
 * of 485 once, with the socket's own count right and nothing missed). The skb's count
 * stands for a connection's first one (no baseline yet) and one not in tcp_conns. Kernels whose
 * tracepoint has no err argument trace only retransmissions that were handed to the IP
 * layer without error; those with one trace failures too (tcp_retr_err), which ksight
 * counts apart: a failure before the counting (no memory, the window) is not in
 * TcpRetransSegs, one from the transmit itself (a netfilter drop on output, a full qdisc)
 * is.
 *
 * A reset sent with no connection's socket (no listener: sk NULL, traced from 6.10; a
 * time-wait or request socket; a listener) answers a packet: its ends are that packet's,
 * reversed.
 */
#ifndef KSIGHT_TCP_RETRANS_BPF_H
#define KSIGHT_TCP_RETRANS_BPF_H

const volatile bool tcp_retr_count = false;	/* tcpretrans -c: count per connection */
const volatile bool tcp_retr_err = false;	/* tcp_retransmit_skb has an err argument */
const volatile bool tcp_count = false;		/* tcplife's mode: the agent's totals */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_RETR_CONNS);
	__type(key, struct tcp_retr_key);
	__type(value, struct tcp_retr_val);
} tcp_retr_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_counts);
} tcp_agent_counts SEC(".maps");

static __always_inline struct tcp_counts *tcp_counts_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tcp_agent_counts, &zero);
}

/* A connection's own socket: not a time-wait or request socket (the kernel's
 * sk_fullsock()), nor a listener (which resets a stray ACK: its ends are the packet's). */
static __always_inline bool tcp_conn_sock(struct sock *sk)
{
	int st = BPF_CORE_READ(sk, __sk_common.skc_state);

	return st != TCP_TIME_WAIT && st != TCP_NEW_SYN_RECV && st != TCP_LISTEN;
}

/* The ends of the packet @skb answers: its destination is our end. Returns the family, or
 * 0 when it is neither IPv4 nor IPv6. */
static __always_inline __u16 tcp_skb_ends(struct sk_buff *skb, struct tcp_end *l,
					  struct tcp_end *r)
{
	unsigned char *head = BPF_CORE_READ(skb, head), *ip;
	unsigned char *th = BPF_CORE_READ(skb, data);
	__u16 ports[2] = {};
	__u8 ver = 0;

	ip = head + BPF_CORE_READ(skb, network_header);
	bpf_probe_read_kernel(&ver, 1, ip);
	bpf_probe_read_kernel(ports, sizeof(ports), th);	/* source, dest */
	r->port = bpf_ntohs(ports[0]);
	l->port = bpf_ntohs(ports[1]);
	ver >>= 4;
	if (ver == 4) {
		bpf_probe_read_kernel(r->addr, 4, ip + 12);
		bpf_probe_read_kernel(l->addr, 4, ip + 16);
		return TCP_AF_INET;
	}
	if (ver == 6) {
		bpf_probe_read_kernel(r->addr, 16, ip + 8);
		bpf_probe_read_kernel(l->addr, 16, ip + 24);
		return TCP_AF_INET6;
	}
	return 0;
}

/* -c: add one event to its connection's counts. */
static __always_inline void tcp_retr_add(const struct tcp_retr_ev *e, const struct ks_owner *o)
{
	struct tcp_retr_key k = { .local = e->local, .remote = e->remote, .family = e->family };
	struct tcp_retr_val *v = bpf_map_lookup_elem(&tcp_retr_conns, &k);

	if (!v) {
		struct tcp_retr_val zero = {};

		bpf_map_update_elem(&tcp_retr_conns, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&tcp_retr_conns, &k);
		if (!v) {
			ks_lost(TCP_EV_RETR_CONN);
			return;
		}
	}
	if (o && !v->owner.pid)
		v->owner = *o;
	v->state = e->state;
	v->side = e->side;
	if (e->kind == TCP_RK_RETRANS && e->err)
		__sync_fetch_and_add(&v->failed, e->segs);
	else if (e->kind == TCP_RK_RETRANS) {
		__sync_fetch_and_add(&v->segs, e->segs);
		__sync_fetch_and_add(&v->events, 1);
	} else if (e->kind == TCP_RK_RST_SENT)
		__sync_fetch_and_add(&v->rst_sent, 1);
	else
		__sync_fetch_and_add(&v->rst_rcvd, 1);
}

/* The agent: the totals only. */
static __always_inline void tcp_retr_total(const struct tcp_retr_ev *e)
{
	struct tcp_counts *n = tcp_counts_get();

	if (!n)
		return;
	/* atomic even per CPU: a softirq's update may interrupt a task's */
	if (e->kind == TCP_RK_RETRANS && e->err)
		__sync_fetch_and_add(&n->retrans_failed, e->segs);
	else if (e->kind == TCP_RK_RETRANS)
		__sync_fetch_and_add(&n->retrans_segs, e->segs);
	else if (e->kind == TCP_RK_RST_SENT)
		__sync_fetch_and_add(&n->rst_sent, 1);
	else
		__sync_fetch_and_add(&n->rst_rcvd, 1);
}

/* The segments retransmission @err on @sk (its connection @c) made the kernel count: the
 * growth of the socket's total_retrans since the last one traced (the socket's lock is
 * held: one at a time per socket). One that failed before the kernel counted it grew
 * nothing: the skb's @pcount is what failed. */
static __always_inline __u32 tcp_retr_segs(struct tcp_conn *c, struct sock *sk, __u32 pcount,
					   __s32 err)
{
	__u32 now = BPF_CORE_READ((struct tcp_sock *)sk, total_retrans), segs = pcount;

	if (c->retr_known) {
		segs = now - c->retr_seen;
		if (!segs && err)
			segs = pcount;
	}
	c->retr_seen = now;
	c->retr_known = 1;
	return segs;
}

/* One retransmission (@skb, its @err) or reset (@kind) on @sk, which may be NULL or not a
 * full socket for a reset sent. */
static __always_inline int tcp_retr(struct sock *sk, struct sk_buff *skb, __u8 kind, __s32 err)
{
	const struct ks_owner *o = NULL;
	struct tcp_conn *c = NULL;
	struct tcp_retr_ev e = {};
	struct tcp_retr_ev *rec;
	__u64 key = (__u64)sk;

	if (sk && tcp_conn_sock(sk)) {
		e.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (e.family != TCP_AF_INET && e.family != TCP_AF_INET6)
			return 0;
		tcp_read_ends(sk, e.family, &e.local, &e.remote);
		e.state = BPF_CORE_READ(sk, __sk_common.skc_state);
		c = bpf_map_lookup_elem(&tcp_conns, &key);
	} else if (skb) {
		e.family = tcp_skb_ends(skb, &e.local, &e.remote);
		if (!e.family)
			return 0;
		if (sk)
			e.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	} else {
		return 0;
	}
	if (tcp_family && e.family != tcp_family)
		return 0;
	if (c && c->owner.pid)
		o = &c->owner;
	if (tcp_owner_filtered() && !o)
		return 0;
	if (!tcp_ends_wanted(e.family, &e.local, &e.remote))
		return 0;
	e.kind = kind;
	e.side = c ? c->side : TCP_SIDE_NONE;
	if (kind == TCP_RK_RETRANS) {
		struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];

		e.segs = BPF_CORE_READ(cb, tcp_gso_segs);	/* tcp_skb_pcount() */
		e.err = err;
		if (c)
			e.segs = tcp_retr_segs(c, sk, e.segs, err);
	}
	if (tcp_count) {
		tcp_retr_total(&e);
		return 0;
	}
	if (tcp_retr_count) {
		tcp_retr_add(&e, o);
		return 0;
	}
	rec = ks_reserve_as(TCP_EV_RETR, sizeof(*rec), o);
	if (!rec)
		return 0;
	__builtin_memcpy((char *)rec + sizeof(rec->hdr), (char *)&e + sizeof(e.hdr),
			 sizeof(e) - sizeof(e.hdr));
	ks_submit(rec);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp__retrans_btf, struct sock *sk, struct sk_buff *skb)
{
	/* a constant: the verifier never sees the third argument's access on a kernel whose
	 * tracepoint has only two */
	__s32 err = tcp_retr_err ? (__s32)ctx[2] : 0;

	return tcp_retr(sk, skb, TCP_RK_RETRANS, err);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp__retrans_raw, struct sock *sk, struct sk_buff *skb)
{
	__s32 err = tcp_retr_err ? (__s32)ctx[2] : 0;

	return tcp_retr(sk, skb, TCP_RK_RETRANS, err);
}

/*
 * The classic tracepoints' records: skbaddr and skaddr (tcp_event_sk_skb, tcp_send_reset),
 * skaddr alone (tcp_event_sk) come first, at these offsets since 4.15 (the events' format
 * files). err moved in with its argument: found by CO-RE where the kernel has it.
 */
struct tcp_tp_sk_skb {
	__u64 common;
	struct sk_buff *skb;
	struct sock *sk;
};

struct tcp_tp_sk {
	__u64 common;
	struct sock *sk;
};

struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

SEC("tp/tcp/tcp_retransmit_skb")
int tcp__retrans_tp(struct tcp_tp_sk_skb *ctx)
{
	__s32 err = 0;

	if (tcp_retr_err &&
	    bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err))
		err = ((struct trace_event_raw_tcp_retransmit_skb___err *)ctx)->err;
	return tcp_retr(ctx->sk, ctx->skb, TCP_RK_RETRANS, err);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp__rst_sent_btf, struct sock *sk, struct sk_buff *skb)
{
	return tcp_retr(sk, skb, TCP_RK_RST_SENT, 0);
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(tcp__rst_sent_raw, struct sock *sk, struct sk_buff *skb)
{
	return tcp_retr(sk, skb, TCP_RK_RST_SENT, 0);
}

SEC("tp/tcp/tcp_send_reset")
int tcp__rst_sent_tp(struct tcp_tp_sk_skb *ctx)
{
	return tcp_retr(ctx->sk, ctx->skb, TCP_RK_RST_SENT, 0);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp__rst_rcvd_btf, struct sock *sk)
{
	return tcp_retr(sk, NULL, TCP_RK_RST_RCVD, 0);
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(tcp__rst_rcvd_raw, struct sock *sk)
{
	return tcp_retr(sk, NULL, TCP_RK_RST_RCVD, 0);
}

SEC("tp/tcp/tcp_receive_reset")
int tcp__rst_rcvd_tp(struct tcp_tp_sk *ctx)
{
	return tcp_retr(ctx->sk, NULL, TCP_RK_RST_RCVD, 0);
}

#endif
