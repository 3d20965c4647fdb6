/* SPDX-License-Identifier: GPL-2.0 */
/*
 * req: requests and responses on TCP connections, at the return of the calls that move
 * bytes, run by the syscall dispatcher or by req's fexit programs (req.bpf.c). The task
 * filters were applied before: the current task is the one that read or wrote.
 *
 * A connection (its struct sock, checked against its ports: a freed sock's address may
 * come back as another connection) is followed in req_conns from the first call that
 * moved bytes on it: its first REQ_PEEK bytes say the protocol and the role. A client
 * writes a request first, a server reads one first; a connection seen first in the middle
 * of an exchange takes its role from a response too. From then on only the calls that can
 * change something have their bytes looked at: a request in the request direction when
 * none is outstanding (its return time kept), a response in the other direction when one
 * is. The response's return ends the request: one more on its row of req_rows, and its
 * latency in the row's histogram. Nothing is streamed.
 *
 * One call, one request: several requests in one write (pipelining) count as one, and so
 * do several responses in one read. HTTP 1xx responses (100 Continue) are interim: the
 * request stays outstanding. MSG_PEEK receives are not looked at.
 */
#ifndef KSIGHT_REQ_SYS_BPF_H
#define KSIGHT_REQ_SYS_BPF_H

#include "syscalls.bpf.h"
#include "task_fd.bpf.h"
#include "uabi.bpf.h"
#include "req.h"
#include "req_parse.bpf.h"
#include <bpf/bpf_endian.h>

#define REQ_S_IFMT 0170000
#define REQ_S_IFSOCK 0140000
#define REQ_SOCK_STREAM 1
#define REQ_IPPROTO_TCP 6
#define REQ_MSG_PEEK 2

const volatile __u16 req_port = 0;	/* --port: local or remote port, 0 = any */
const volatile bool req_per_proc = false;	/* -P: no endpoints */
const volatile bool req_per_conn = false;	/* --conn: both endpoints */
const volatile bool req_srv_peer = false;	/* the agent's map: a server row keeps its
						 * client's address unless that end is here */
const volatile __u32 req_protos = (1 << REQ_P_HTTP) | (1 << REQ_P_REDIS) | (1 << REQ_P_PG);
						/* --proto */

/* One connection, as followed. */
struct req_conn {
	__u64 start;		/* ns: the outstanding request's return; 0: none */
	__u16 lport, rport;	/* the connection's, to tell a reused sock address */
	__u8 proto;		/* REQ_P_*; REQ_P_OTHER: not followed */
	__u8 role;		/* REQ_R_*; 0: not known yet */
	__u8 method;		/* the outstanding request's */
	__u8 __pad;
	__u64 cmd;		/* the outstanding Redis request's command */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, REQ_CONNS);
	__type(key, __u64);	/* struct sock address */
	__type(value, struct req_conn);
} req_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, REQ_ROWS);
	__type(key, struct req_key);
	__type(value, struct req_val);
} req_rows SEC(".maps");

#include "req_peer.bpf.h"	/* needs req_conns */

/* The TCP socket open on @fd in the current task, or NULL. */
static __always_inline struct sock *req_sock_of(int fd)
{
	struct file *f = ks_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & REQ_S_IFMT) != REQ_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != REQ_SOCK_STREAM)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != REQ_IPPROTO_TCP)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == REQ_AF_INET || family == REQ_AF_INET6 ? sk : NULL;
}

/* The first bytes of the call's buffer @buf (@buflen there, @ret moved), classified. */
static __always_inline void req_peek(__u64 buf, __u64 buflen, long ret, __u32 want, bool fresh,
				     struct req_peek *p)
{
	__u8 b[REQ_PEEK] = {};
	__u64 n = (__u64)ret < buflen ? (__u64)ret : buflen;

	p->kind = REQ_K_NONE;
	if (n > REQ_PEEK)
		n = REQ_PEEK;
	n = ks_mask(n, 31);
	if (n > REQ_PEEK)
		n = REQ_PEEK;
	if (!buf || !n || bpf_probe_read_user(b, n, (const void *)buf))
		return;
	req_classify(b, n, want, fresh, p);
}

/* A request answered: one more on its row, its latency in the row's histogram. */
static __always_inline void req_count(struct sock *sk, const struct req_conn *c, __u8 status,
				      __u64 lat, __u64 pid_tgid)
{
	struct req_key k = { .pid = pid_tgid >> 32, .proto = c->proto, .role = c->role,
			     .method = c->method, .status = status, .cmd = c->cmd };
	struct req_val *v;

	if (!req_per_proc) {
		bool server = c->role == REQ_R_SERVER;

		/* the agent's map: a server row whose client is counted here too keeps no
		 * client address (the map takes the client's row); one whose client is not,
		 * its address, for the edge from that remote client */
		bool peer = server && req_srv_peer && !req_per_conn;

		if (peer && req_peer_here(sk, c)) {
			k.peer = REQ_PEER_HERE;
			peer = false;
		}
		if (server || req_per_conn)
			k.lport = c->lport;
		if (!server || req_per_conn || peer) {
			if (!peer)
				k.rport = c->rport;	/* a client's ephemeral port: not kept */
			k.family = BPF_CORE_READ(sk, __sk_common.skc_family);
			if (k.family == REQ_AF_INET)
				bpf_core_read(k.raddr, 4, &sk->__sk_common.skc_daddr);
			else
				bpf_core_read(k.raddr, 16, &sk->__sk_common.skc_v6_daddr);
		}
	}
	v = bpf_map_lookup_elem(&req_rows, &k);
	if (!v) {
		struct req_val zero = { .cgroup = bpf_get_current_cgroup_id() };

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&req_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&req_rows, &k);
		if (!v) {
			ks_lost(REQ_EV_ROW);
			return;
		}
	}
	/* atomic: a thread of the same process may count on another CPU */
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->lat_sum, lat);
	ks_log2_count(v->slots, lat / 1000);
}

/* @ret bytes moved on @sk (@tx: written) from or into the user buffer @buf (@buflen). */
static __always_inline void req_io(struct sock *sk, bool tx, long ret, __u64 buf,
				   __u64 buflen, __u64 pid_tgid)
{
	__u64 key = (__u64)sk;
	struct req_conn *c, nc = {};
	struct req_peek p = {};
	bool known, req_dir = false;

	nc.lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	nc.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (req_port && nc.lport != req_port && nc.rport != req_port)
		return;
	c = bpf_map_lookup_elem(&req_conns, &key);
	known = c && c->lport == nc.lport && c->rport == nc.rport;
	if (known) {
		if (c->proto == REQ_P_OTHER)
			return;
		/* the request direction: a client writes requests, a server reads them */
		req_dir = tx == (c->role == REQ_R_CLIENT);
		if (req_dir == !!c->start)
			return;	/* a request outstanding, or no request to answer */
	}
	/* one place that classifies (each is verified in full): a known connection by its
	 * own protocol, one not seen before by what its first bytes are */
	req_peek(buf, buflen, ret, known ? 1 << (c->proto & 7) : req_protos, !known, &p);
	if (known && c) {
		if (req_dir) {
			if (p.kind == REQ_K_REQ || p.kind == REQ_K_EITHER) {
				c->method = p.method;
				c->cmd = p.cmd;
				c->start = bpf_ktime_get_ns();
			}
			return;
		}
		if (p.kind != REQ_K_RESP && p.kind != REQ_K_EITHER)
			return;
		if (p.proto == REQ_P_HTTP && p.status == 1)
			return;	/* interim: the final response follows */
		req_count(sk, c, p.status, bpf_ktime_get_ns() - c->start, pid_tgid);
		c->start = 0;
		return;
	}
	nc.proto = p.kind == REQ_K_NONE ? REQ_P_OTHER : p.proto;
	if (p.kind == REQ_K_REQ || p.kind == REQ_K_EITHER) {
		nc.role = tx ? REQ_R_CLIENT : REQ_R_SERVER;
		nc.method = p.method;
		nc.cmd = p.cmd;
		nc.start = bpf_ktime_get_ns();
	} else if (p.kind == REQ_K_RESP) {
		nc.role = tx ? REQ_R_SERVER : REQ_R_CLIENT;
	} else if (p.kind == REQ_K_HELLO) {
		nc.role = tx ? REQ_R_CLIENT : REQ_R_SERVER;
	}
	bpf_map_update_elem(&req_conns, &key, &nc, BPF_ANY);
	if (req_srv_peer && nc.role == REQ_R_CLIENT)
		req_peer_add(sk, &nc);
}

/* The first iovec of @iov (user memory): where a call's first bytes are. */
static __always_inline void req_first_iov(__u64 iov, __u64 cnt, __u64 *buf, __u64 *len)
{
	struct ks_uiovec v;

	*buf = *len = 0;
	if (!cnt || bpf_probe_read_user(&v, sizeof(v), (const void *)iov))
		return;
	*buf = v.base;
	*len = v.len;
}

static __always_inline void req_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					 __u64 pid_tgid)
{
	const __u64 *a = c->args;
	struct ks_umsghdr m;
	struct sock *sk;
	__u64 buf, len;
	bool tx;

	if (ret <= 0)
		return;
	switch (c->id) {
	case __NR_write:
	case __NR_writev:
	case __NR_sendto:
	case __NR_sendmsg:
		tx = true;
		break;
	case __NR_recvfrom:
		if (a[3] & REQ_MSG_PEEK)
			return;
		tx = false;
		break;
	case __NR_recvmsg:
		if (a[2] & REQ_MSG_PEEK)
			return;
		tx = false;
		break;
	default:	/* read, readv */
		tx = false;
	}
	sk = req_sock_of(a[0]);
	if (!sk)
		return;
	/* where the first bytes are; then one req_io() (each place it is inlined is
	 * verified in full) */
	switch (c->id) {
	case __NR_readv:
	case __NR_writev:
		req_first_iov(a[1], a[2], &buf, &len);
		break;
	case __NR_sendmsg:
	case __NR_recvmsg:
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)a[1]))
			return;
		req_first_iov(m.iov, m.iovlen, &buf, &len);
		break;
	default:	/* read, write, sendto, recvfrom */
		buf = a[1];
		len = a[2];
	}
	req_io(sk, tx, ret, buf, len, pid_tgid);
}

#endif
