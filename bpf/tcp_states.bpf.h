/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates (tcp_mode STATES), part of bpf/tcp.bpf.c: every state change of a TCP socket
 * with the time it spent in the state it left, kept in the connection table (state_ns,
 * keyed like everything there by the struct sock's address) from its first change to
 * TCP_CLOSE, where the entry goes.
 *
 * Owners: the task current at a socket's first change when that change runs in a system
 * call (SYN_SENT in connect(), LISTEN in listen()); an accepted child gets its owner at
 * accept's return (tcp_set_owner); everything else is about no task.
 *
 * The change into SYN_SENT is made before connect() picks the local port, and an
 * accepted child enters SYN_RECV while it is cloned from its listener, before its peer's
 * address and port are copied in: both are written at the socket's next change (for an
 * accepted child a moment later, in the same softirq), with the ends complete and their
 * own time. A socket first seen in another change (opened before ksight started) has no
 * known time in its old state (TCP_SF_FIRST).
 */
#ifndef KSIGHT_TCP_STATES_BPF_H
#define KSIGHT_TCP_STATES_BPF_H

/* Write one change of @sk (ends read now) about @c's owner. @ts: when it happened (0: now). */
static __always_inline void tcp_state_out(struct sock *sk, const struct tcp_conn *c,
					  __u16 family, int old, int new, __u64 ts,
					  __u64 in_old, __u8 flags)
{
	const struct ks_owner *o = tcp_owner_of(c);
	struct tcp_end l = {}, r = {};
	struct tcp_state_ev *e;

	if (tcp_owner_filtered() && !o)
		return;
	tcp_read_ends(sk, family, &l, &r);
	if (!tcp_ends_wanted(family, &l, &r))
		return;
	e = ks_reserve_as(TCP_EV_STATE, sizeof(*e), o);
	if (!e)
		return;
	if (ts)
		e->hdr.ts = ts;
	e->in_old_ns = in_old;
	e->local = l;
	e->remote = r;
	e->family = family;
	e->oldstate = old;
	e->newstate = new;
	e->side = c ? c->side : TCP_SIDE_NONE;
	e->flags = flags;
	e->__pad = 0;
	ks_submit(e);
}

/* A socket's first change ksight sees: enter it in the table. */
static __always_inline void tcp_state_first(struct sock *sk, __u64 key, __u16 family, int old,
					    int new, __u64 now)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tcp_conn c = {};

	c.start_ns = now;
	c.state_ns = now;
	c.family = family;
	if (new == TCP_SYN_SENT)
		c.side = TCP_SIDE_CLIENT;
	else if (new == TCP_SYN_RECV)
		c.side = TCP_SIDE_SERVER;
	else if (new == TCP_LISTEN)
		c.side = TCP_SIDE_LISTENER;
	/* connect() and listen() run these changes in the task that owns the socket */
	if ((new == TCP_SYN_SENT || new == TCP_LISTEN) && ks_want(pid_tgid)) {
		tcp_owner_current(&c.owner, pid_tgid);
		c.flags = TCP_F_OWNER;
	}
	if (new == TCP_SYN_SENT || new == TCP_SYN_RECV) {
		c.flags |= TCP_F_DEFER;
		c.defer_old = old;
	}
	if (bpf_map_update_elem(&tcp_conns, &key, &c, BPF_ANY)) {
		/* not kept: counted, and the change written now, ends as they are */
		ks_lost(TCP_EV_CONN);
		tcp_state_out(sk, &c, family, old, new, now, 0, TCP_SF_FIRST);
		return;
	}
	if (!(c.flags & TCP_F_DEFER))
		tcp_state_out(sk, &c, family, old, new, now, 0, TCP_SF_FIRST);
}

static __always_inline void tcp_state_change(struct sock *sk, __u64 key, __u16 family, int old,
					     int new)
{
	struct tcp_conn *c;
	__u64 now;

	if (old == new)
		return;		/* tcp_set_state() to the state it is in: no change */
	c = bpf_map_lookup_elem(&tcp_conns, &key);
	now = bpf_ktime_get_ns();
	/* a socket that starts over (CLOSE -> SYN_SENT or LISTEN, a new child): whatever
	 * the table holds at its address is a missed close's */
	if (!c || old == TCP_CLOSE || new == TCP_SYN_RECV) {
		if (new == TCP_CLOSE)
			tcp_state_out(sk, c, family, old, new, now, 0, TCP_SF_FIRST);
		else
			tcp_state_first(sk, key, family, old, new, now);
		goto out;
	}
	if (c->flags & TCP_F_DEFER) {
		c->flags &= ~TCP_F_DEFER;
		tcp_state_out(sk, c, family, c->defer_old, old, c->state_ns, 0, TCP_SF_FIRST);
	}
	tcp_state_out(sk, c, family, old, new, now, now - c->state_ns, 0);
	c->state_ns = now;
out:
	if (new == TCP_CLOSE && c)
		bpf_map_delete_elem(&tcp_conns, &key);
}

#endif
