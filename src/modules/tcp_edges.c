// SPDX-License-Identifier: GPL-2.0
/*
 * The tcp module in the agent: each closed session on its edge in the registry, so that
 * Prometheus holds the dependency map of every host it scrapes (`ksight map --prometheus`,
 * docs/map.md). A client end counts as (service, its own address, the server's
 * ADDR:PORT), a server end as (service, its own ADDR:PORT, the client's address): the two
 * ends of one connection, seen by two agents, name the same endpoints crosswise, and the
 * client's ephemeral port is left out (one series per peer, not per connection); the
 * client's real server where DNAT sent it, the server's real client where its own
 * namespace did an SNAT (conntrack, tcp_nat.c). Ends whose side is not known (opened
 * before ksight) are left out here: they are in ksight_tcp_sessions_closed_total.
 * Errors, resets and retransmits are counted on the same edges, and the client's connect
 * latency, and both ends' smoothed RTT and duration, are histograms on them, so the
 * fleet's map has them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

#define EDGE_BUDGET 512		/* endpoints pairs kept per family, then the overflow */

#define EDGE_DESC(side_, what, help_)                                                 \
	{ .name = "ksight_tcp_" #side_ "_" what, .help = help_, .type = KS_METRIC_COUNTER, \
	  .labels = { "service", "local", "peer" }, .budget = EDGE_BUDGET, .idle = 60 }

/* The last three count only what happened (a series is made at an edge's first error,
 * reset or retransmit), so an edge that has none costs none of their budget. */
static const struct ks_metric_desc edge_descs[2][6] = {
	{ EDGE_DESC(client, "connections_total", "TCP sessions closed by their client end: "
		    "service, its address, the server's ADDR:PORT"),
	  EDGE_DESC(client, "sent_bytes_total", "Bytes the client end sent, by edge"),
	  EDGE_DESC(client, "received_bytes_total", "Bytes the client end received, by edge"),
	  EDGE_DESC(client, "errors_total", "Client ends closed by an error (refused, timed "
		    "out, aborted, abandoned, other), by edge"),
	  EDGE_DESC(client, "resets_total", "Client ends closed by a reset (sent or "
		    "received), by edge"),
	  EDGE_DESC(client, "retrans_segs_total", "Segments the client end retransmitted, "
		    "by edge") },
	{ EDGE_DESC(server, "connections_total", "TCP sessions closed by their server end: "
		    "service, its ADDR:PORT, the client's address"),
	  EDGE_DESC(server, "sent_bytes_total", "Bytes the server end sent, by edge"),
	  EDGE_DESC(server, "received_bytes_total", "Bytes the server end received, by edge"),
	  EDGE_DESC(server, "errors_total", "Server ends closed by an error, by edge"),
	  EDGE_DESC(server, "resets_total", "Server ends closed by a reset (sent or "
		    "received), by edge"),
	  EDGE_DESC(server, "retrans_segs_total", "Segments the server end retransmitted, "
		    "by edge") },
};

/* The names: a client end whose server's address a DNS answer named (docs/map.md, "DNS
 * names") also counts here, so PromQL can put the name beside the peer, e.g.
 * sum by (peer, dns) (ksight_tcp_client_dns_connections_total). A series of its own: the
 * families above keep their label sets whether or not a name was known. */
static const struct ks_metric_desc edge_dns_desc = {
	.name = "ksight_tcp_client_dns_connections_total",
	.help = "TCP sessions closed by their client end whose server address a DNS answer "
		"named: service, the server's ADDR:PORT, the name",
	.type = KS_METRIC_COUNTER,
	.labels = { "service", "peer", "dns" },
	.budget = EDGE_BUDGET,
	.idle = 60,
};

/* The client's connect latency (SYN sent to ESTABLISHED), whose p50/p99 the fleet's map
 * gives each edge. A histogram's series is its buckets (log2 of microseconds, shown up
 * to the last that holds something: about 12 at loopback speeds, 20 for a second) times
 * its label sets: a quarter of the counters' budget. */
static const struct ks_metric_desc edge_connect_desc = {
	.name = "ksight_tcp_client_connect_seconds",
	.help = "Connect latency of TCP sessions closed by their client end, SYN sent to "
		"ESTABLISHED: service, its address, the server's ADDR:PORT",
	.type = KS_METRIC_HIST,
	.labels = { "service", "local", "peer" },
	.budget = EDGE_BUDGET / 4,
	.idle = 60,
	.unit = "seconds",
	.scale = 1e-6,
};

#define EDGE_HIST(side_, what, help_)                                               \
	{ .name = "ksight_tcp_" #side_ "_" what "_seconds", .help = help_,               \
	  .type = KS_METRIC_HIST, .labels = { "service", "local", "peer" },              \
	  .budget = EDGE_BUDGET / 4, .idle = 60, .unit = "seconds", .scale = 1e-6 }

/* The smoothed RTT at close (where the kernel measured one) and the duration (created to
 * closed, where ksight saw it created) of each end, in microseconds as the connect
 * latency: the fleet's map gives each edge their p50/p99 as the local map does from the
 * records, the client's RTT where it has one, else the server's. */
static const struct ks_metric_desc edge_hist_descs[2][2] = {
	{ EDGE_HIST(client, "rtt", "Smoothed RTT at close of TCP sessions closed by their "
		    "client end: service, its address, the server's ADDR:PORT"),
	  EDGE_HIST(client, "duration", "Duration (created to closed) of TCP sessions closed "
		    "by their client end: service, its address, the server's ADDR:PORT") },
	{ EDGE_HIST(server, "rtt", "Smoothed RTT at close of TCP sessions closed by their "
		    "server end: service, its ADDR:PORT, the client's address"),
	  EDGE_HIST(server, "duration", "Duration (created to closed) of TCP sessions closed "
		    "by their server end: service, its ADDR:PORT, the client's address") },
};

int tcp_edges_init(struct ks_ctx *ctx, struct tcp_state *st)
{
	if (!(st->m_edge_dns = ks_ctx_metric(ctx, &edge_dns_desc)) ||
	    !(st->m_edge_connect = ks_ctx_metric(ctx, &edge_connect_desc)))
		return -errno;
	for (int s = 0; s < 2; s++)
		if (!(st->m_edge_rtt[s] = ks_ctx_metric(ctx, &edge_hist_descs[s][0])) ||
		    !(st->m_edge_dur[s] = ks_ctx_metric(ctx, &edge_hist_descs[s][1])))
			return -errno;
	for (int s = 0; s < 2; s++)
		for (int w = 0; w < 6; w++)
			if (!(st->m_edge[s][w] = ks_ctx_metric(ctx, &edge_descs[s][w])))
				return -errno;
	return 0;
}

/* "ADDR:PORT", "[V6]:PORT"; "ADDR" when @port is 0. */
static void endpoint(char *out, size_t len, uint16_t family, const struct tcp_end *e,
		     uint16_t port)
{
	char a[TCP_ADDR_STRLEN];

	tcp_addr_str(family, e->addr, a, sizeof(a));
	if (!port)
		snprintf(out, len, "%s", a);
	else if (family == TCP_AF_INET6)
		snprintf(out, len, "[%s]:%u", a, port);
	else
		snprintf(out, len, "%s:%u", a, port);
}

void tcp_edges_count(struct tcp_state *st, const struct tcp_close *e, const char *svc,
		     const struct tcp_nat_res *nat, const char *rdns)
{
	char l[TCP_ADDR_STRLEN + 8], p[TCP_ADDR_STRLEN + 8];
	const char *v[3] = { svc, l, p }, *reason;
	size_t len[3];
	int s;

	if (e->side == TCP_SIDE_CLIENT) {
		s = 0;
		endpoint(l, sizeof(l), e->family, &e->local, 0);
		/* DNAT'd: the server this end reached, as the server's agent names itself */
		if (nat && nat->dnat)
			endpoint(p, sizeof(p), nat->family, &nat->real, nat->real.port);
		else
			endpoint(p, sizeof(p), e->family, &e->remote, e->remote.port);
	} else if (e->side == TCP_SIDE_SERVER) {
		s = 1;
		endpoint(l, sizeof(l), e->family, &e->local, e->local.port);
		/* SNAT'd in this namespace: the real client, as its own agent names itself,
		 * not the source it was given */
		if (nat && nat->snat)
			endpoint(p, sizeof(p), nat->family, &nat->orig_src, 0);
		else
			endpoint(p, sizeof(p), e->family, &e->remote, 0);
	} else {
		return;
	}
	for (int i = 0; i < 3; i++)
		len[i] = strlen(v[i]);
	ks_counter_add(ks_metric_getn(st->m_edge[s][0], v, len), 1);
	ks_counter_add(ks_metric_getn(st->m_edge[s][1], v, len), e->tx_bytes);
	ks_counter_add(ks_metric_getn(st->m_edge[s][2], v, len), e->rx_bytes);
	/* the close's kind as the map's store reader tells it (sink/map_store.c) */
	reason = tcp_close_reason(e);
	if (!strcmp(reason, "rst_sent") || !strcmp(reason, "rst_received"))
		ks_counter_add(ks_metric_getn(st->m_edge[s][4], v, len), 1);
	else if (strcmp(reason, "fin") && strcmp(reason, "close"))
		ks_counter_add(ks_metric_getn(st->m_edge[s][3], v, len), 1);
	if (e->retrans)
		ks_counter_add(ks_metric_getn(st->m_edge[s][5], v, len), e->retrans);
	/* as the record's connect_ns: established here, not opened before ksight */
	if (s == 0 && (e->flags & TCP_F_ESTAB) && !(e->flags & TCP_F_BEFORE))
		ks_hist_observe(ks_metric_getn(st->m_edge_connect, v, len), e->connect_us);
	/* as the record's srtt_ns (0: not measured) and duration_ns (none when opened
	 * before ksight) */
	if (e->srtt_us)
		ks_hist_observe(ks_metric_getn(st->m_edge_rtt[s], v, len), e->srtt_us);
	if (!(e->flags & TCP_F_BEFORE))
		ks_hist_observe(ks_metric_getn(st->m_edge_dur[s], v, len),
				e->hdr.ts > e->start_ns ? (e->hdr.ts - e->start_ns) / 1000 : 0);
	if (rdns && s == 0) {
		const char *d[3] = { svc, p, rdns };
		size_t dl[3] = { len[0], len[2], strlen(rdns) };

		ks_counter_add(ks_metric_getn(st->m_edge_dns, d, dl), 1);
	}
}
