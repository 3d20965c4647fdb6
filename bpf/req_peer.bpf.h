/* SPDX-License-Identifier: GPL-2.0 */
/*
 * req: whether a server connection's client end is followed here too, for the agent's
 * map (req_srv_peer). A request between two processes of this machine is counted at both
 * ends; the map takes the client's row for it (as a TCP edge seen at both ends takes the
 * client's bytes), so the server's row must leave it out, and keep the client's address
 * only for the others (a remote client, one outside the watched tasks). The two ends
 * share no pointer the handler can follow: each client connection is filed by its
 * four-tuple, which its server end sees reversed. Included by req.sys.bpf.h after
 * req_conns.
 */
#ifndef KSIGHT_REQ_PEER_BPF_H
#define KSIGHT_REQ_PEER_BPF_H

/* The client connections followed here (their role known), by four-tuple: their
 * struct sock address. Filled and read only with req_srv_peer. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, REQ_CONNS);
	__type(key, struct req_tuple);
	__type(value, __u64);
} req_peers SEC(".maps");

/* @sk's local (@local) or remote address into @out (16 bytes, zeroed before), IPv4 and
 * IPv4-mapped IPv6 in the first 4: a dual-stack server and its IPv4 client name one
 * connection alike. */
static __always_inline void req_addr(struct sock *sk, bool local, __u8 *out)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u32 *w = (__u32 *)out;

	if (family == REQ_AF_INET) {
		if (local)
			bpf_core_read(out, 4, &sk->__sk_common.skc_rcv_saddr);
		else
			bpf_core_read(out, 4, &sk->__sk_common.skc_daddr);
		return;
	}
	if (local)
		bpf_core_read(out, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	else
		bpf_core_read(out, 16, &sk->__sk_common.skc_v6_daddr);
	if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
		w[0] = w[3];
		w[2] = w[3] = 0;
	}
}

/* A client connection just classified, in req_peers (agent's map only). */
static __always_inline void req_peer_add(struct sock *sk, const struct req_conn *c)
{
	struct req_tuple t = { .cport = c->lport, .sport = c->rport };
	__u64 v = (__u64)sk;

	req_addr(sk, true, t.caddr);
	req_addr(sk, false, t.saddr);
	bpf_map_update_elem(&req_peers, &t, &v, BPF_ANY);
}

/* Whether the client end of server connection @c (@sk) is followed here as a client: its
 * four-tuple in req_peers, and that sock still the client connection with those ports (an
 * entry outlives its connection). */
static __always_inline bool req_peer_here(struct sock *sk, const struct req_conn *c)
{
	struct req_tuple t = { .cport = c->rport, .sport = c->lport };
	struct req_conn *pc;
	__u64 *psk;

	req_addr(sk, false, t.caddr);
	req_addr(sk, true, t.saddr);
	psk = bpf_map_lookup_elem(&req_peers, &t);
	if (!psk)
		return false;
	pc = bpf_map_lookup_elem(&req_conns, psk);
	return pc && pc->role == REQ_R_CLIENT && pc->lport == c->rport && pc->rport == c->lport;
}

#endif
