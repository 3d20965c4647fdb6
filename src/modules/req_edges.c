// SPDX-License-Identifier: GPL-2.0
/*
 * The req module in the agent: each row's requests on its edge in the registry, so that
 * Prometheus holds the request view of every host it scrapes and `ksight map --prometheus`
 * gives the fleet's TCP edges their requests, errors and latency percentiles (docs/map.md,
 * "Requests on edges"), as the local map has them from the req_row records. The rows are
 * the ones the local map joins (req_edge_row): a client row as (service, the server's
 * ADDR:PORT), the peer the tcp module's client edges name; a server row whose client end
 * is not counted on this machine as (service, its port, the client's address). The
 * protocols are summed (a server's port speaks one; ksight_req_requests_total has them
 * with methods and statuses), as the map's edge has one set of request figures. A server row whose client is here makes none: the client's row stands for
 * those requests (its bytes are the client end's too), so a fleet query sums each request
 * once per host. The server's own address is not in the kernel's row: its port is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/ident.h"
#include "modules/req_int.h"

#define EDGE_BUDGET 512		/* label sets kept per family, then the overflow */

#define EDGE_COUNTER(side_, what, help_, ...)                                         \
	{ .name = "ksight_req_" #side_ "_" what "_total", .help = help_,                  \
	  .type = KS_METRIC_COUNTER, .labels = { __VA_ARGS__ }, .budget = EDGE_BUDGET,   \
	  .idle = 60 }

/* [client, server][requests, errors]: errors count only what happened (a series appears
 * at its edge's first failed request) */
static const struct ks_metric_desc edge_descs[2][2] = {
	{ EDGE_COUNTER(client, "requests", "Requests a client end made and got an answer to "
		       "(HTTP/1.x, Redis, PostgreSQL): service, the server's ADDR:PORT", "service",
		       "peer"),
	  EDGE_COUNTER(client, "errors", "Of them, the failed ones (HTTP 5xx, Redis and "
		       "PostgreSQL errors), by edge", "service", "peer") },
	{ EDGE_COUNTER(server, "requests", "Requests a server end answered to a client not "
		       "counted on this host: service, its port, the client's address", "service",
		       "port", "peer"),
	  EDGE_COUNTER(server, "errors", "Of them, the failed ones, by edge", "service", "port",
		       "peer") },
};

/* Request to response, log2 buckets of microseconds as ksight_req_latency_seconds: a
 * quarter of the counters' budget (a label set is a dozen bucket series and more). */
static const struct ks_metric_desc edge_hist_descs[2] = {
	{ .name = "ksight_req_client_latency_seconds",
	  .help = "Request to response at the client end: service, the server's ADDR:PORT",
	  .type = KS_METRIC_HIST, .labels = { "service", "peer" },
	  .budget = EDGE_BUDGET / 4, .idle = 60, .unit = "seconds", .scale = 1e-6 },
	{ .name = "ksight_req_server_latency_seconds",
	  .help = "Request to response at the server end (a client not counted on this "
		  "host): service, its port, the client's address",
	  .type = KS_METRIC_HIST, .labels = { "service", "port", "peer" },
	  .budget = EDGE_BUDGET / 4, .idle = 60, .unit = "seconds", .scale = 1e-6 },
};

int req_edges_init(struct ks_ctx *ctx, struct req_state *st)
{
	for (int s = 0; s < 2; s++)
		if (!(st->m_edge[s][0] = ks_ctx_metric(ctx, &edge_descs[s][0])) ||
		    !(st->m_edge[s][1] = ks_ctx_metric(ctx, &edge_descs[s][1])) ||
		    !(st->m_edge_lat[s] = ks_ctx_metric(ctx, &edge_hist_descs[s])))
			return -errno;
	return 0;
}

const char *req_addr_str(const struct req_key *k, char *buf, size_t len)
{
	int af = k->family == REQ_AF_INET ? AF_INET : k->family == REQ_AF_INET6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, k->raddr, buf, len))
		snprintf(buf, len, "-");
	return buf;
}

void req_edges_count(struct ks_ctx *ctx, struct req_state *st, const struct ks_hdr *h,
		     const struct req_row *r)
{
	char addr[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 8], port[8];
	const char *v[3];
	size_t len[3];
	int s = r->k.role == REQ_R_SERVER, n = 0;

	if (!st->m_edge[0][0] || !req_edge_row(&r->k) || !r->k.family || !r->v.count)
		return;
	req_addr_str(&r->k, addr, sizeof(addr));
	if (s)
		snprintf(peer, sizeof(peer), "%s", addr);
	else if (r->k.family == REQ_AF_INET6)
		snprintf(peer, sizeof(peer), "[%s]:%u", addr, r->k.rport);
	else
		snprintf(peer, sizeof(peer), "%s:%u", addr, r->k.rport);
	v[n++] = ks_ident__service(ks_ctx_ident(ctx), h);
	if (s) {
		snprintf(port, sizeof(port), "%u", r->k.lport);
		v[n++] = port;
	}
	v[n++] = peer;
	for (int i = 0; i < n; i++)
		len[i] = strlen(v[i]);
	ks_counter_add(ks_metric_getn(st->m_edge[s][0], v, len), r->v.count);
	if (req_status_error(r->k.proto, r->k.status))
		ks_counter_add(ks_metric_getn(st->m_edge[s][1], v, len), r->v.count);
	ks_hist_add(ks_metric_getn(st->m_edge_lat[s], v, len), r->v.slots, REQ_SLOTS, r->v.count,
		    r->v.lat_sum / 1e3);
}
