/* SPDX-License-Identifier: GPL-2.0 */
/* What the tcp module's files share (tcp.c: options, hooks, sessions; tcp_proc.c: -P;
 * tcp_open.c: tcpconnect and tcpaccept). */
#ifndef KSIGHT_TCP_INT_H
#define KSIGHT_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "tcp.h"

struct tcp_state {
	int mode;		/* TCP_MODE_*: the command (its variant writes it) */
	bool per_proc;		/* -P */
	bool lat;		/* -L (tcpconnect) */
	bool v4, v6;		/* -4, -6 */
	uint64_t port;		/* --port, 0: any */
	const char *addr;	/* --addr */
	uint8_t addr_bin[16];	/* --addr parsed */
	unsigned int addr_family;	/* its TCP_AF_*, 0: no --addr */
	/* the registry: sessions closed and bytes each way, per service */
	struct ks_metric *m_closed, *m_tx, *m_rx;
	/* -P: the totals the last report showed, by pid (sorted) */
	struct tcp_proc_key *prev_keys;
	struct tcp_proc_val *prev;
	size_t nprev;
	struct tcp_lat_hist lat_prev;	/* -L: the totals the last report showed */
};

/* -P: each interval (and at the end), the kernel's per-process counts since the last
 * report, busiest first. @map is the module's tcp_procs. */
struct bpf_map;
void tcp_proc_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);
void tcp_proc_free(struct tcp_state *st);

/* tcpconnect, tcpaccept: one opened connection, or a connect that failed. */
void tcp_open_emit(struct ks_ctx *ctx, const struct tcp_open_ev *e);
/* tcpconnect -L: the connect latency histogram since the last report. @map: tcp_lats. */
void tcp_lat_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map);

#endif
