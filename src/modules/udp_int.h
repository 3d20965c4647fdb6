/* SPDX-License-Identifier: GPL-2.0 */
/* What the udp module's files share (udp.c: options, hooks, dispatch; udp_flows.c: the
 * kernel's counts as tables and metrics; udp_dnsev.c: --dns records). */
#ifndef KSIGHT_UDP_INT_H
#define KSIGHT_UDP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "modules/udp_dns.h"
#include "udp.h"

#define UDP_PENDING 1024	/* --dns: queries remembered for their answer's latency */

/* One row of the kernel's table, as user space keeps it. */
struct udp_row {
	struct udp_flow_key k;
	struct udp_flow_val v;
};

/* --dns: a query seen, waiting for its answer (same socket, same id, other direction). */
struct udp_pending {
	uint64_t sock;
	uint64_t ts;		/* ns, CLOCK_MONOTONIC: when the query was sent or received */
	uint16_t id;
	bool tx;		/* the query was sent (client side), else received (server) */
	bool used;
};

#define UDP_SRC_SLOTS 256	/* the agent: ends' own addresses kept (udp_edges.c) */

/* The source address a namespace's routes chose toward a remote address, until @until. */
struct udp_src {
	uint64_t netns;
	int64_t until;		/* ns, CLOCK_MONOTONIC; 0: empty */
	uint8_t raddr[16], addr[16];	/* addr: zero when @failed */
	uint16_t family;
	bool failed;		/* no answer: the unspecified address */
};

struct udp_state {
	bool per_proc;		/* -P */
	bool dns;		/* --dns */
	bool agent;		/* in the agent: socket calls only, per process
				 * (udp_agent_defaults) */
	uint64_t port;		/* --port, 0: any */
	bool v4, v6;		/* -4, -6 */
	const char *addr;	/* --addr */
	uint8_t addr_bin[16];	/* --addr parsed */
	unsigned int addr_family;	/* its UDP_AF_*, 0: no --addr */
	struct ks_task_rows rows;	/* the kernel's table at the previous report or collect */
	/* --dns */
	struct udp_dns_msg *msg;	/* the decoder's output (large: not on the stack) */
	struct udp_pending pend[UDP_PENDING];
	size_t pend_next;	/* the slot the next query takes (the oldest) */
	/* the agent: DNS answers name addresses (core/dnsnames.h) */
	struct ks_dnsnames *names;
	struct ks_metric *m_dns_names, *m_dns_added, *m_dns_evicted, *m_dns_answers;
	/* the registry: per service */
	struct ks_metric *m_txd, *m_txb, *m_rxd, *m_rxb;
	/* the agent: per edge, [client, server][datagrams sent, bytes sent, datagrams
	 * received, bytes received] (udp_edges.c), and the ends' own addresses */
	struct ks_metric *m_edge[2][4], *m_edge_dns, *m_src_failed;
	struct udp_src src[UDP_SRC_SLOTS];
	bool evict_refused;	/* said: the kernel has no lookup-and-delete on hash maps
				 * (< 5.14), idle flows stay (core/rows.h) */
};

extern const struct ks_module udp_module;

/* Tools: the rows that changed since the last report, as records, busiest first; and the
 * registry. @map is the module's udp_flows. */
struct bpf_map;
void udp_flows_report(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map);
/* Agent: the same into the registry only. */
void udp_flows_collect(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map);
/* The flow table's reader (udp_flows.c knows the rows), at init. */
void udp_flows_init(struct udp_state *st);
void udp_flows_free(struct udp_state *st);

/* --dns: one captured datagram decoded into a record; a query is remembered, an answer
 * gets the latency from its query. */
void udp_dns_event(struct ks_ctx *ctx, struct udp_state *st, const struct udp_dns_ev *e);

/* The agent: a response its process received, its addresses named in st->names. */
void udp_dns_feed(struct ks_ctx *ctx, struct udp_state *st, const struct udp_dns_ev *e);
/* The agent: its name table's figures into the registry (each collect). */
void udp_dns_names_collect(struct udp_state *st);

/* udp_edges.c, the agent: each flow's change on its edge in the registry (for the fleet's
 * map). init: 0 or -errno. count: @r's change, of service @svc. */
int udp_edges_init(struct ks_ctx *ctx, struct udp_state *st);
void udp_edges_count(struct udp_state *st, const struct udp_row *r, const char *svc);

/* "10.1.2.3", "fd00::1", or "-" for family 0, into @buf (INET6_ADDRSTRLEN at least). */
const char *udp_addr_str(uint16_t family, const uint8_t *addr, char *buf, size_t len);

#endif
