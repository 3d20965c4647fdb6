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

/* What the first bytes of a call are */
#define REQ_K_NONE 0
#define REQ_K_REQ 1		/* a request of proto */
#define REQ_K_RESP 2		/* a response of proto */
#define REQ_K_EITHER 3		/* RESP '*': a request, or an array reply; PostgreSQL 'E' */
#define REQ_K_HELLO 4		/* PostgreSQL's startup (or SSL) request: the role, no request */

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

/* A call's first bytes as classified. */
struct req_peek {
	__u8 kind;		/* REQ_K_* */
	__u8 proto;
	__u8 method;
	__u8 status;
	__u64 cmd;		/* Redis: the command's name (req_key.cmd) */
};

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

/* The first @n (<= 8) bytes at @p as one little-endian word; for a literal, a constant. */
static __always_inline __u64 req_word(const char *p, __u32 n)
{
	__u64 w = 0;

	__builtin_memcpy(&w, p, n);
	return w;
}

/* Whether @w (8 bytes of the buffer) starts with the @n bytes of literal @p. */
static __always_inline bool req_is(__u64 w, const char *p, __u32 n)
{
	__u64 mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;

	return (w & mask) == req_word(p, n);
}

static __always_inline bool req_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/* An HTTP/1.x request line's method, 0 if @w does not start with one and a space. */
static __always_inline __u8 req_http_method(__u64 w)
{
	if (req_is(w, "GET ", 4))
		return REQ_M_GET;
	if (req_is(w, "POST ", 5))
		return REQ_M_POST;
	if (req_is(w, "PUT ", 4))
		return REQ_M_PUT;
	if (req_is(w, "HEAD ", 5))
		return REQ_M_HEAD;
	if (req_is(w, "DELETE ", 7))
		return REQ_M_DELETE;
	if (req_is(w, "PATCH ", 6))
		return REQ_M_PATCH;
	if (req_is(w, "OPTIONS ", 8))
		return REQ_M_OPTIONS;
	if (req_is(w, "CONNECT ", 8))
		return REQ_M_CONNECT;
	if (req_is(w, "TRACE ", 6))
		return REQ_M_TRACE;
	return 0;
}

/*
 * A RESP request's command name, "*2\r\n$3\r\nGET\r\n...", from the bytes after the
 * '*': the array's count, its first bulk string's length, then up to 8 letters of the
 * name, upper-cased, as in req_key.cmd; 0 when the bytes are not laid out so or the name
 * has a byte that is not a letter. One pass over the constant offsets, a state
 * machine (the verifier sees each byte at a fixed place).
 */
static __always_inline __u64 req_resp_cmd(const __u8 *b)
{
	__u32 state = 0, k = 0;	/* 0: count's digits, 1: '\n', 2: '$', 3: length's digits,
				 * 4: '\n', 5: the name */
	__u64 cmd = 0;

#pragma unroll
	for (int i = 1; i < REQ_PEEK; i++) {
		__u8 c = b[i];

		if (state == 0 || state == 3) {
			if (c == '\r')
				state++;
			else if (!req_digit(c))
				return 0;
		} else if (state == 1 || state == 4) {
			if (c != '\n')
				return 0;
			state++;
		} else if (state == 2) {
			if (c != '$')
				return 0;
			state++;
		} else {
			if (c == '\r' || !c || k == 8)
				break;
			if (c >= 'a' && c <= 'z')
				c -= 'a' - 'A';
			else if (c < 'A' || c > 'Z')
				return 0;
			cmd = cmd << 8 | c;
			k++;
		}
	}
	return state == 5 ? cmd : 0;
}

static __always_inline void req_http(const __u8 *b, __u32 n, struct req_peek *p)
{
	__u64 w = *(const __u64 *)b;

	p->proto = REQ_P_HTTP;
	p->method = req_http_method(w);
	if (p->method) {
		p->kind = REQ_K_REQ;
		return;
	}
	/* "HTTP/1.1 200": the status's three digits at 9..11 */
	if (n >= 12 && req_is(w, "HTTP/1.", 7) && b[8] == ' ' && req_digit(b[9]) &&
	    req_digit(b[10]) && req_digit(b[11])) {
		p->kind = REQ_K_RESP;
		p->status = b[9] - '0';
	}
}

static __always_inline void req_redis(const __u8 *b, __u32 n, struct req_peek *p)
{
	p->proto = REQ_P_REDIS;
	p->method = REQ_M_NONE;
	p->status = REQ_S_OK;
	switch (b[0]) {
	case '*':	/* "*2\r\n$3\r\nGET...": an array, what clients send */
		if (n >= 4 && req_digit(b[1])) {
			p->kind = REQ_K_EITHER;
			p->cmd = req_resp_cmd(b);
		}
		return;
	case '-':	/* "-ERR unknown command", RESP3 "!21\r\n..." */
	case '!':
		p->status = REQ_S_ERR;
		p->kind = REQ_K_RESP;
		return;
	case '+':
	case ':':
	case '$':
	case '_':
	case ',':
	case '#':
	case '=':
	case '(':
	case '%':
	case '~':
		/* a reply ends its first line with \r\n: "+OK\r\n", "$-1\r\n" */
		if (n >= 3)
			p->kind = REQ_K_RESP;
		return;
	}
}

static __always_inline __u32 req_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/*
 * PostgreSQL: a connection is known from its startup message (length, then protocol 3.0,
 * or the SSL or GSS encryption request's code); after it, a message is a type byte and a
 * length of 4 or more. Frontend types that ask for an answer are requests; the backend's
 * are responses, ErrorResponse ('E', also the frontend's Execute) an error.
 */
static __always_inline void req_pg(const __u8 *b, __u32 n, bool fresh, struct req_peek *p)
{
	__u32 code;

	p->proto = REQ_P_PG;
	p->status = REQ_S_OK;
	if (fresh) {
		if (n < 8 || req_be32(b) < 8 || req_be32(b) > 10000)
			return;
		code = req_be32(b + 4);
		if (code == 0x30000 || code == 80877103 || code == 80877104)
			p->kind = REQ_K_HELLO;
		return;
	}
	if (n < 5 || req_be32(b + 1) < 4)
		return;
	switch (b[0]) {
	case 'Q':
		p->method = REQ_M_QUERY;
		p->kind = REQ_K_REQ;
		return;
	case 'P':
		p->method = REQ_M_PARSE;
		p->kind = REQ_K_REQ;
		return;
	case 'B':
		p->method = REQ_M_BIND;
		p->kind = REQ_K_REQ;
		return;
	case 'F':
		p->method = REQ_M_FCALL;
		p->kind = REQ_K_REQ;
		return;
	case 'E':
		p->method = REQ_M_EXECUTE;
		p->status = REQ_S_ERR;
		p->kind = REQ_K_EITHER;
		return;
	case 'T':	/* RowDescription */
	case 'D':	/* DataRow */
	case 'C':	/* CommandComplete */
	case 'I':	/* EmptyQueryResponse */
	case 'N':	/* NoticeResponse */
	case 'Z':	/* ReadyForQuery */
	case '1':	/* ParseComplete */
	case '2':	/* BindComplete */
	case '3':	/* CloseComplete */
	case 'n':	/* NoData */
	case 's':	/* PortalSuspended */
	case 't':	/* ParameterDescription */
	case 'S':	/* ParameterStatus */
	case 'A':	/* NotificationResponse */
	case 'V':	/* FunctionCallResponse */
	case 'G':	/* CopyInResponse */
	case 'H':	/* CopyOutResponse */
	case 'W':	/* CopyBothResponse */
		p->kind = REQ_K_RESP;
		return;
	}
}

/*
 * Classify @b (@n bytes, the rest zeros) as one of the protocols of mask @want: on a
 * connection not seen before (@fresh), every protocol --proto allows; after, its own.
 */
static __always_inline void req_classify(const __u8 *b, __u32 n, __u32 want, bool fresh,
					 struct req_peek *p)
{
	p->kind = REQ_K_NONE;
	if (want & (1 << REQ_P_HTTP)) {
		req_http(b, n, p);
		if (p->kind != REQ_K_NONE)
			return;
	}
	if (want & (1 << REQ_P_REDIS)) {
		req_redis(b, n, p);
		if (p->kind != REQ_K_NONE)
			return;
	}
	if (want & (1 << REQ_P_PG))
		req_pg(b, n, fresh, p);
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
