/* SPDX-License-Identifier: GPL-2.0 */
/* What the req module's files share (req.c: options, hooks; req_rows.c: the kernel's
 * counts as tables and metrics; req_edges.c: the agent's per-edge metrics). */
#ifndef KSIGHT_REQ_INT_H
#define KSIGHT_REQ_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "req.h"

/* One row of the kernel's table, as user space keeps it. */
struct req_row {
	struct req_key k;
	struct req_val v;
};

struct req_state {
	bool per_proc;		/* -P */
	bool per_conn;		/* --conn */
	bool agent;		/* in the agent */
	uint64_t port;		/* --port, 0: any */
	const char *proto;	/* --proto, as given */
	uint32_t protos;	/* its mask of 1 << REQ_P_* */
	struct ks_task_rows rows;	/* the kernel's table at the previous read */
	/* the registry */
	struct ks_metric *m_reqs, *m_lat;
	/* the agent's edges (req_edges.c): [client, server][requests, errors], latency */
	struct ks_metric *m_edge[2][2], *m_edge_lat[2];
	/* the agent's summary: since the last one, per REQ_P_* */
	uint64_t iv_reqs[REQ_P_NR], iv_errs[REQ_P_NR];
};

extern const struct ks_module req_module;

struct bpf_map;
/* Tools: the rows that changed since the last report, as records; and the registry. */
void req_rows_report(struct ks_ctx *ctx, struct req_state *st, struct bpf_map *map);
/* Agent: the same into the registry only. */
void req_rows_collect(struct ks_ctx *ctx, struct req_state *st, struct bpf_map *map);
void req_rows_init(struct req_state *st);
void req_rows_free(struct req_state *st);

/* Names as shown: "http", "GET", "5xx", "error"... A Redis row's method is its command
 * ("GET", "CONFIG"; "?" when not known), into @buf. */
const char *req_proto_name(unsigned int proto);
const char *req_method_name(const struct req_key *k, char *buf, size_t len);
const char *req_status_name(unsigned int status, char *buf, size_t len);
bool req_status_error(unsigned int proto, unsigned int status);
/* Whether the agent's row with key @k gives the map a req_row record: a client row, or a
 * server row whose client end is not counted here (REQ_PEER_HERE not set). */
bool req_edge_row(const struct req_key *k);
/* The row's remote address as text ("10.1.2.3", "fd00::1"), "-" when not kept. */
const char *req_addr_str(const struct req_key *k, char *buf, size_t len);

/* The agent's edge families in the registry (req_edges.c); a row's requests on its edge. */
int req_edges_init(struct ks_ctx *ctx, struct req_state *st);
void req_edges_count(struct ks_ctx *ctx, struct req_state *st, const struct ks_hdr *h,
		     const struct req_row *r);

#endif
