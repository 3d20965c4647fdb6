/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session's life (tcp_mode LIFE, CONNECT, ACCEPT), part of bpf/tcp.bpf.c: its entry in
 * the connection table made at SYN_SENT or SYN_RECV (tcp_open), completed at ESTABLISHED
 * (tcp_established) and written out at TCP_CLOSE with its counters (tcp_closed), or, for
 * tcpconnect and tcpaccept, the connect or accept itself (tcp_open_out). tcp.bpf.c's
 * state hook calls these; its top says how bytes, owners and ends are taken.
 */
#ifndef KSIGHT_TCP_LIFE_BPF_H
#define KSIGHT_TCP_LIFE_BPF_H

/* A connection is created: SYN_SENT in the connecting task, SYN_RECV in softirq. */
static __always_inline void tcp_open(struct sock *sk, __u64 key, __u16 family, __u8 side)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tcp_conn c = {};

	/* tcpconnect needs only connects, tcpaccept only accepted connections */
	if ((tcp_mode == TCP_MODE_CONNECT && side != TCP_SIDE_CLIENT) ||
	    (tcp_mode == TCP_MODE_ACCEPT && side != TCP_SIDE_SERVER))
		return;
	if (side == TCP_SIDE_CLIENT && !ks_want(pid_tgid))
		return;
	c.start_ns = bpf_ktime_get_ns();
	c.family = family;
	c.side = side;
	/* what is known of the ends now; they are complete only at ESTABLISHED, where they
	 * are read again: a connecting socket has no local port yet, and an accepted child
	 * enters SYN_RECV before its peer's address and port are copied in. So --port and
	 * --addr are checked at close. */
	tcp_read_ends(sk, family, &c.local, &c.remote);
	if (side == TCP_SIDE_CLIENT) {
		tcp_owner_current(&c.owner, pid_tgid);
		c.flags = TCP_F_OWNER;
	}
	if (bpf_map_update_elem(&tcp_conns, &key, &c, BPF_ANY))
		ks_lost(TCP_EV_CONN);
}

/* tcpconnect and tcpaccept: a connection opened (or a connect failed) about @o. */
static __always_inline void tcp_open_out(__u32 type, struct sock *sk,
					 const struct tcp_conn *c, const struct tcp_end *l,
					 const struct tcp_end *r, __s32 err, int state,
					 const struct ks_owner *o)
{
	struct tcp_open_ev *e;

	if (!tcp_ends_wanted(c->family, l, r))
		return;
	e = ks_reserve_as(type, sizeof(*e), o);
	if (!e)
		return;
	e->lat_ns = e->hdr.ts - c->start_ns;
	e->local = *l;
	e->remote = *r;
	e->err = err;
	e->family = c->family;
	e->state = state;
	e->__pad = 0;
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->__pad2 = 0;
	ks_submit(e);
}

/* tcpconnect -L: an established connect's latency into the histogram. */
static __always_inline void tcp_lat_add(const struct tcp_conn *c)
{
	__u64 ns = bpf_ktime_get_ns() - c->start_ns;
	struct tcp_lat_hist *h;
	__u32 zero = 0;

	if (!tcp_ends_wanted(c->family, &c->local, &c->remote))
		return;
	h = bpf_map_lookup_elem(&tcp_lats, &zero);
	if (!h) {
		ks_lost(TCP_EV_LAT);
		return;
	}
	ks_log2_count(h->slots, ns / 1000);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, ns);
}

static __always_inline void tcp_established(struct sock *sk, __u64 key)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct tcp_conn *c = bpf_map_lookup_elem(&tcp_conns, &key);

	if (!c)
		return;
	c->base_acked = BPF_CORE_READ(tp, bytes_acked);
	c->base_rcvd = BPF_CORE_READ(tp, bytes_received);
	c->flags |= TCP_F_ESTAB;
	c->state_ns = bpf_ktime_get_ns();	/* the connect latency, at close */
	tcp_read_ends(sk, c->family, &c->local, &c->remote);
	if (tcp_mode != TCP_MODE_CONNECT || c->side != TCP_SIDE_CLIENT)
		return;
	if (tcp_lat_hist)
		tcp_lat_add(c);
	else
		tcp_open_out(TCP_EV_CONNECT, sk, c, &c->local, &c->remote, 0, TCP_ESTABLISHED,
			     &c->owner);
}

/* -P: add a closed session to its owner's row. */
static __always_inline void tcp_proc_add(const struct tcp_close *e)
{
	struct tcp_proc_key k = { .pid = e->hdr.pid };
	struct tcp_proc_val *v = bpf_map_lookup_elem(&tcp_procs, &k);

	if (!v) {
		struct tcp_proc_val zero = { .cgroup = e->hdr.cgroup };

		__builtin_memcpy(zero.comm, e->hdr.comm, sizeof(zero.comm));
		bpf_map_update_elem(&tcp_procs, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&tcp_procs, &k);
		if (!v) {
			ks_lost(TCP_EV_PROC);
			return;
		}
	}
	__sync_fetch_and_add(&v->conns, 1);
	__sync_fetch_and_add(&v->tx_bytes, e->tx_bytes);
	__sync_fetch_and_add(&v->rx_bytes, e->rx_bytes);
	if (e->start_ns)
		__sync_fetch_and_add(&v->dur_ns, e->hdr.ts - e->start_ns);
	__sync_fetch_and_add(&v->retrans, e->retrans);
}

/* The kernels before 6.4 kept sk_flags in struct sock, later ones in sock_common. */
struct sock___old {
	unsigned long sk_flags;
} __attribute__((preserve_access_index));

static __always_inline __u64 tcp_sk_flags(struct sock *sk)
{
	if (bpf_core_field_exists(sk->__sk_common.skc_flags))
		return BPF_CORE_READ(sk, __sk_common.skc_flags);
	return BPF_CORE_READ((struct sock___old *)sk, sk_flags);
}

/* The session's counters at close, SYN and FINs taken out (see the top of tcp.bpf.c). */
static __always_inline void tcp_counters(struct sock *sk, const struct tcp_conn *c, int old,
					 struct tcp_close *e)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 acked = BPF_CORE_READ(tp, bytes_acked), rcvd = BPF_CORE_READ(tp, bytes_received);
	__u64 sk_flags = tcp_sk_flags(sk);
	bool fin_sent = old == TCP_FIN_WAIT1 || old == TCP_FIN_WAIT2 || old == TCP_CLOSING ||
			old == TCP_LAST_ACK || old == TCP_TIME_WAIT;

	if (fin_sent)
		e->flags |= TCP_F_FIN_SENT;
	if (fin_sent && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq)) {
		e->flags |= TCP_F_FIN_ACKED;
		acked -= acked > 0;
	}
	if (sk_flags & (1ULL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) {
		e->flags |= TCP_F_FIN_RCVD;
		rcvd -= rcvd > 0;
	}
	if (c && (c->flags & TCP_F_ESTAB)) {
		acked = acked > c->base_acked ? acked - c->base_acked : 0;
		rcvd = rcvd > c->base_rcvd ? rcvd - c->base_rcvd : 0;
	} else if (c) {
		acked = rcvd = 0;	/* never established: nothing was sent or received */
	}
	e->tx_bytes = acked;
	e->rx_bytes = rcvd;
	e->retrans = BPF_CORE_READ(tp, total_retrans);
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	e->err = BPF_CORE_READ(sk, sk_err);
	e->oldstate = old;
}

/* tcpconnect and tcpaccept: a close reports only a connect that failed (refused, timed
 * out, abandoned), with its error. */
static __always_inline void tcp_closed_open(struct sock *sk, __u64 key, __u16 family, int old)
{
	struct tcp_conn *c = bpf_map_lookup_elem(&tcp_conns, &key);
	struct tcp_end l = {}, r = {};

	if (!c)
		return;
	if (tcp_mode == TCP_MODE_CONNECT && !(c->flags & TCP_F_ESTAB)) {
		tcp_read_ends(sk, family, &l, &r);
		tcp_open_out(TCP_EV_CONNECT, sk, c, &l, &r, BPF_CORE_READ(sk, sk_err), old,
			     &c->owner);
	}
	bpf_map_delete_elem(&tcp_conns, &key);
}

static __always_inline void tcp_closed(struct sock *sk, __u64 key, __u16 family, int old)
{
	struct tcp_conn *c = bpf_map_lookup_elem(&tcp_conns, &key);
	const struct ks_owner *o;
	struct tcp_close e = {};
	struct tcp_close *rec;

	if (!c && old == TCP_LISTEN)
		return;		/* a listener closing: no session */
	o = tcp_owner_of(c);
	/* a task filter wants the owner known: no entry (opened before ksight, or by a task
	 * the filter refused) or no owner (accepted by nobody, or by a refused task) fails */
	if (tcp_owner_filtered() && !o)
		goto out;
	if (c && (c->flags & TCP_F_ESTAB)) {
		e.local = c->local;
		e.remote = c->remote;
	} else {
		tcp_read_ends(sk, family, &e.local, &e.remote);
	}
	if (!tcp_ends_wanted(family, &e.local, &e.remote))
		goto out;
	e.flags = c ? c->flags & ~TCP_F_OWNER : TCP_F_BEFORE;
	if (o)
		e.flags |= TCP_F_OWNER;
	e.start_ns = c ? c->start_ns : 0;
	if (c && (c->flags & TCP_F_ESTAB) && c->state_ns > c->start_ns) {
		__u64 us = (c->state_ns - c->start_ns) / 1000;

		e.connect_us = us > 0xffffffffULL ? 0xffffffffU : us;
	}
	e.family = family;
	e.side = c ? c->side : TCP_SIDE_NONE;
	e.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	tcp_counters(sk, c, old, &e);
	if (tcp_per_proc) {
		/* counted, never streamed: it takes no sequence number */
		e.hdr.ts = bpf_ktime_get_ns();
		ks_hdr_owner(&e.hdr, o);
		tcp_proc_add(&e);
		goto out;
	}
	rec = ks_reserve_as(TCP_EV_CLOSE, sizeof(*rec), o);
	if (!rec)
		goto out;
	__builtin_memcpy((char *)rec + sizeof(rec->hdr), (char *)&e + sizeof(e.hdr),
			 sizeof(e) - sizeof(e.hdr));
	ks_submit(rec);
out:
	if (c)
		bpf_map_delete_elem(&tcp_conns, &key);
}

#endif
