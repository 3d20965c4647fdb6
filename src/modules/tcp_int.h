/* SPDX-License-Identifier: GPL-2.0 */
/* What the tcp module's files share (tcp.c: options, hooks, sessions; tcp_proc.c: -P;
 * tcp_open.c: tcpconnect and tcpaccept; tcp_states.c: tcpstates; tcp_retrans.c:
 * tcpretrans; tcp_rtt.c: tcprtt; tcp_agent.c: the agent's counts of both). */
#ifndef KSIGHT_TCP_INT_H
#define KSIGHT_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "modules/tcp_nat.h"
#include "modules/tcp_retr_rows.h"
#include "tcp.h"

struct tcp_state {
	int mode;		/* TCP_MODE_*: the command (its variant writes it) */
	bool per_proc;		/* -P */
	bool lat;		/* -L (tcpconnect) */
	bool count;		/* -c (tcpretrans) */
	bool v4, v6;		/* -4, -6 */
	uint64_t port;		/* --port, 0: any */
	const char *addr;	/* --addr */
	uint8_t addr_bin[16];	/* --addr parsed */
	unsigned int addr_family;	/* its TCP_AF_*, 0: no --addr */
	/* the registry: sessions closed and bytes each way, per service */
	struct ks_metric *m_closed, *m_tx, *m_rx;
	/* ... and per edge: [client, server][connections, sent, received, errors, resets,
	 * retransmitted segments] (tcp_edges.c, TCP_EDGE_FAMILIES) */
	struct ks_metric *m_edge[2][6];
	struct ks_metric *m_edge_dns;	/* client ends whose server a DNS answer named */
	struct ks_metric *m_edge_connect;	/* client ends' connect latency, by edge */
	struct ks_metric *m_edge_rtt[2], *m_edge_dur[2];	/* [client, server] ends' */
	/* -P: the totals the last report showed, sorted by pid */
	struct tcp_proc_row *prev;
	size_t nprev;
	struct tcp_lat_hist lat_prev;	/* -L: the totals the last report showed */
	/* -c: the totals the last report showed, sorted by connection */
	struct tcp_retr_row *retr_prev;
	size_t nretr_prev;
	/* the agent: state changes by state entered, retransmits and resets */
	struct ks_metric *m_states, *m_retrans, *m_rst_sent, *m_rst_rcvd;
	struct tcp_counts counts_prev;	/* the kernel's totals at the last collect() */
	uint64_t discarded;		/* children the kernel made and closed in a handshake
					 * (tcp_child_discarded), at the last report/collect */
	const char *by;		/* tcprtt --by */
	int rtt_by;		/* ... parsed: TCP_RTT_BY_* */
	bool owners;		/* an owner filter (-p, -t, -u, -n, --cgroup) is set */
	bool seed;		/* tcplife: scan the connections open at start (bpf/tcp_seed.bpf.h) */
	/* the accepts waiting at start, where the accept hook is fexit (tcp_late.c): the
	 * sys_exit program's link while one has not returned, else NULL */
	struct bpf_link *late;
	struct bpf_map *late_map;
	bool no_dnat;		/* --no-dnat: do not ask conntrack (tcp_nat.c) */
	bool dnat;		/* tcpconnect --dnat: ask it */
	struct tcp_nat nat;	/* tcplife, tcpconnect --dnat: conntrack's sockets and counts */
	struct ks_metric *m_nat_fail;	/* lookups that could not be made, by reason */
	/* tcprtt: the totals the last report showed, per key */
	struct tcp_rtt_key *rtt_prev_keys;
	struct tcp_rtt_hist *rtt_prev;
	size_t nrtt_prev;
};

struct tcp_proc_row {
	struct tcp_proc_key k;
	struct tcp_proc_val v;
};

/* -P: each interval (and at the end), the kernel's per-process counts since the last
 * report, busiest first. @map is the module's tcp_procs. */
struct bpf_map;
void tcp_proc_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);
void tcp_proc_free(struct tcp_state *st);

/* tcpconnect, tcpaccept: one opened connection, or a connect that failed; @nat: what
 * conntrack said of it (--dnat; tcp_rec_nat's), or NULL. */
void tcp_open_emit(struct ks_ctx *ctx, const struct tcp_open_ev *e,
		   const struct tcp_nat_res *nat, enum tcp_nat_fail fail);
/* tcplife's closed session @e (tcp_close.c): DNAT, DNS name, counters, the record. */
void tcp_close_event(struct ks_ctx *ctx, struct tcp_state *st, const struct tcp_close *e);
/* What DNAT and SNAT did to the connection of end @l -> @r in namespace @netns, from
 * conntrack (tcp_close.c); a failure counted in the registry. */
enum tcp_nat_fail tcp_ask_nat(struct tcp_state *st, const struct ks_hdr *h, uint32_t netns,
			      uint16_t family, const struct tcp_end *l, const struct tcp_end *r,
			      struct tcp_nat_res *nat);
/* The NAT fields and column of a record (tcp_close.c): @fail why conntrack was not asked,
 * else @nat its answer about an end of @side whose own end is @local. */
struct ks_rec;
void tcp_rec_nat(struct ks_rec *r, const struct tcp_nat_res *nat, enum tcp_nat_fail fail,
		 uint16_t side, const struct tcp_end *local);
/* tcpconnect -L: the connect latency histogram since the last report. @map: tcp_lats. */
void tcp_lat_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);

/* The index of inet_csk_accept()'s return value among the fexit program's arguments (its
 * parameters changed in 6.10); 2 when @btf does not say. */
struct btf;
uint32_t tcp_accept_ret_index(struct btf *btf);
/* Whether tracepoint @tp (its btf_trace_ typedef's name) has more than @n arguments in
 * @btf; false when @btf does not say. */
bool tcp_tp_has_more_args(struct btf *btf, const char *tp, unsigned int n);

/* Append @e's owner (PID and COMM columns, "-" for no task: JSON has the header's) to
 * @r; @pid is the caller's buffer of 16 bytes, alive until the emit. */
void tcp_rec_owner(struct ks_rec *r, const struct ks_hdr *h, char *pid);
/* Append both ends (laddr, lport, raddr, rport) to @r; @lbuf and @rbuf hold
 * TCP_ADDR_STRLEN bytes each, alive until the emit. */
void tcp_rec_ends(struct ks_rec *r, uint16_t family, const struct tcp_end *l,
		  const struct tcp_end *rem, char *lbuf, char *rbuf);

/* tcpstates: one state change. */
void tcp_state_emit(struct ks_ctx *ctx, const struct tcp_state_ev *e);

/* tcpretrans: one retransmission or reset. */
void tcp_retr_emit(struct ks_ctx *ctx, const struct tcp_retr_ev *e);
/* tcpretrans -c: each interval (and at the end), the connections whose counts changed
 * since the last report, busiest first. @map is the module's tcp_retr_conns. */
void tcp_retr_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);
/* Emit the rows @rows[0..n) of tcpretrans -c (pure: the unit tests call it). */
void tcp_retr_emit_rows(struct ks_ctx *ctx, const struct tcp_retr_row *rows, size_t n);
void tcp_retr_free(struct tcp_state *st);

/* tcprtt: each interval (and at the end), each histogram's samples since the last
 * report, most samples first. @map is the module's tcp_rtts. */
void tcp_rtt_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);
void tcp_rtt_free(struct tcp_state *st);

/* Where the accept hook is fexit (it misses a call begun before it was attached): put the
 * threads waiting in accept() or accept4() on a TCP listener now (of process @only, when
 * not 0) into @map (tcp_late), and attach @prog (tcp__accept_late, loaded) to sys_exit if
 * there is one. Returns its link (the caller destroys it, or tcp_late_check does), or
 * NULL: none waits (*@err 0), or -errno in @err (those calls' connections then have no
 * owner). */
struct bpf_link;
struct bpf_program;
struct bpf_link *tcp_late_start(struct bpf_program *prog, struct bpf_map *map,
				unsigned long only, int *err);
/* Once every thread listed in @map returned from its accept (or is gone), destroy @link
 * and return NULL; else @link. NULL stays NULL. */
struct bpf_link *tcp_late_check(struct bpf_link *link, struct bpf_map *map);
/* The listening fd of a thread in accept() or accept4() from a line of its
 * /proc/PID/task/TID/syscall, or -1: in another call, or in none (pure: the unit tests
 * call it). */
int tcp_late_is_accept(const char *line);

/* The agent: register its metrics (0 or -errno), and bring the kernel's per-CPU totals
 * (@map: tcp_agent_counts) into them. */
int tcp_agent_init(struct ks_ctx *ctx, struct tcp_state *st);
/* tcp_edges.c: each closed session on its edge in the registry (for the fleet's map) */
int tcp_edges_init(struct ks_ctx *ctx, struct tcp_state *st);
/* @nat: the NAT conntrack found for it (DNAT: a client's peer is then the real server;
 * SNAT: a server's is the real client), or NULL;
 * @rdns: the DNS name of its peer's address (the agent's table), or NULL */
void tcp_edges_count(struct tcp_state *st, const struct tcp_close *e, const char *svc,
		     const struct tcp_nat_res *nat, const char *rdns);
void tcp_agent_collect(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);
/* The per-CPU tcp_agent_counts @map summed into @out. Returns 0 or -errno. */
int tcp_counts_read(struct bpf_map *map, struct tcp_counts *out);
/* Add the totals of @percpu[0..ncpu) into @out (pure). */
void tcp_counts_merge(struct tcp_counts *out, const struct tcp_counts *percpu,
		      unsigned int ncpu);
/* Register the deltas @cur - @st->counts_prev, and keep @cur. */
void tcp_agent_add(struct tcp_state *st, const struct tcp_counts *cur);

#endif
