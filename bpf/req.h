/* SPDX-License-Identifier: GPL-2.0 */
/*
 * req module: requests on TCP connections, HTTP/1.x, Redis (RESP) and PostgreSQL, told apart by the
 * first bytes a connection reads or writes; counted with their latency in the kernel at
 * the return of the calls that move them (bpf/req.sys.bpf.h). Nothing of a payload leaves
 * the kernel. Shared by bpf/req.bpf.c and src/modules/req*.c.
 */
#ifndef KSIGHT_REQ_H
#define KSIGHT_REQ_H

#include "common.h"

#define REQ_EV_ROW KS_EV(KS_MOD_req, 0)	/* counted in req_rows (loss: table full) */

#define REQ_ROWS 16384		/* (process, role, endpoint, proto, method, status) rows */
#define REQ_CONNS 65536		/* connections followed at once (LRU: the oldest go) */
#define REQ_PEEK 24		/* bytes of a call's buffer looked at: a Redis command's 8 letters fit */
#define REQ_SLOTS 32		/* latency histogram: log2 of microseconds */

/* Address families as the kernel numbers them. */
#define REQ_AF_INET 2
#define REQ_AF_INET6 10

/* req_key.proto; bit (1 << proto) in the --proto mask */
#define REQ_P_OTHER 0		/* a connection whose first bytes are none of these */
#define REQ_P_HTTP 1
#define REQ_P_REDIS 2
#define REQ_P_PG 3		/* PostgreSQL's wire protocol (3.0) */
#define REQ_P_NR 4

/* req_key.role */
#define REQ_R_CLIENT 1		/* wrote a request first */
#define REQ_R_SERVER 2		/* read a request first */

/* req_key.peer: a server row (the agent's, with endpoints) whose client end is counted
 * here as a client row: the map takes the client's figures for those requests (docs/
 * map.md, "Requests on edges"), so the row keeps no client address */
#define REQ_PEER_HERE 1

/* req_key.method (HTTP) */
enum req_method {
	REQ_M_NONE,		/* Redis: no method */
	REQ_M_GET,
	REQ_M_POST,
	REQ_M_PUT,
	REQ_M_HEAD,
	REQ_M_DELETE,
	REQ_M_PATCH,
	REQ_M_OPTIONS,
	REQ_M_CONNECT,
	REQ_M_TRACE,
	REQ_M_QUERY,		/* PostgreSQL: a simple query ('Q') */
	REQ_M_PARSE,		/* ... extended: a message run starting with Parse ('P') */
	REQ_M_BIND,		/* ... with Bind ('B': a prepared statement run again) */
	REQ_M_EXECUTE,		/* ... with Execute ('E') */
	REQ_M_FCALL,		/* ... a function call ('F') */
	REQ_M_NR,
};

/* req_key.status: HTTP's status class 1..9 (the first digit), or these (Redis, PostgreSQL) */
#define REQ_S_OK 20		/* a reply that is not an error */
#define REQ_S_ERR 21		/* an error reply (-ERR ..., RESP3 !; ErrorResponse 'E') */

/*
 * req_rows' key. Server role: lport is the port it serves; client role: raddr:rport is the
 * server it asks. With --conn the other end is kept too (one row per connection's
 * endpoints); with -P neither (one row per process, role, proto, method, status).
 */
struct req_key {
	__u32 pid;		/* thread group id */
	__u16 lport;		/* host order */
	__u16 rport;		/* host order */
	__u8 raddr[16];		/* network order; IPv4 (and v4-mapped v6) in the first 4 */
	__u16 family;		/* REQ_AF_INET, REQ_AF_INET6, 0 (not kept) */
	__u8 proto;		/* REQ_P_* */
	__u8 role;		/* REQ_R_* */
	__u8 method;		/* enum req_method */
	__u8 status;		/* 1..9 (HTTP class), REQ_S_OK, REQ_S_ERR */
	__u8 peer;		/* a server row in the agent: REQ_PEER_HERE, else 0 */
	__u8 __pad;
	__u64 cmd;		/* Redis: up to 8 letters of the command's name, upper-cased,
				 * the first in the highest non-zero byte ("GET" is 0x474554);
				 * 0: not known (HTTP, or not laid out as clients send it) */
};

/*
 * A client connection followed here, by its four-tuple as its server sees it reversed
 * (req_peers' key): a server end finds whether its client is counted on this machine.
 * Addresses in network order, IPv4 (and IPv4-mapped IPv6) in the first 4 bytes.
 */
struct req_tuple {
	__u8 caddr[16];		/* the client's (its local address) */
	__u8 saddr[16];		/* the server's (the address the client reached) */
	__u16 cport, sport;	/* host order */
	__u32 __pad;
};

struct req_val {
	__u64 count;		/* requests answered */
	__u64 lat_sum;		/* ns: request to response, summed */
	__u64 slots[REQ_SLOTS];	/* log2 of the latency in microseconds */
	__u64 cgroup;		/* of the thread that made the row */
	char comm[TASK_COMM_LEN];
};

#endif
