// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's udp_flows table read each interval: what changed since the previous read,
 * as a tool's records (busiest first) and into the registry per service. The table is
 * not cleared: a plain delete could fall between an update and the read that should have
 * seen it. Rows of processes that exited leave it once counted (no update follows a
 * process's exit record). A flow has no close: a long-lived process that talks to ever
 * new ports (a DNS client's) would fill the table, so once it is three quarters full the
 * idle rows are taken out with lookup-and-delete (core/rows.h: atomic, what came between
 * the read and the delete is counted, not lost).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/dnsnames.h"
#include "core/ident.h"
#include "core/rows.h"
#include "modules/udp_int.h"

const char *udp_addr_str(uint16_t family, const uint8_t *addr, char *buf, size_t len)
{
	int af = family == UDP_AF_INET ? AF_INET : family == UDP_AF_INET6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "-");
	return buf;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(&((const struct udp_row *)a)->k, &((const struct udp_row *)b)->k,
		      sizeof(struct udp_flow_key));
}

static uint64_t bytes(const struct udp_row *r)
{
	return r->v.tx_bytes + r->v.rx_bytes;
}

static int by_bytes(const void *a, const void *b)
{
	const struct udp_row *x = a, *y = b;
	uint64_t dx = x->v.tx_dgrams + x->v.rx_dgrams, dy = y->v.tx_dgrams + y->v.rx_dgrams;

	if (bytes(x) != bytes(y))
		return bytes(x) > bytes(y) ? -1 : 1;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return by_key(a, b);
}

/* Turns @r into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct udp_row *d = r;
	const struct udp_row *o = p;

	if (o) {
		d->v.tx_dgrams -= o->v.tx_dgrams;
		d->v.tx_bytes -= o->v.tx_bytes;
		d->v.rx_dgrams -= o->v.rx_dgrams;
		d->v.rx_bytes -= o->v.rx_bytes;
	}
	return d->v.tx_dgrams || d->v.rx_dgrams;
}

static uint64_t dgrams(const void *row)
{
	const struct udp_row *r = row;

	return r->v.tx_dgrams + r->v.rx_dgrams;
}

/* The rows that changed since the previous call, in a new array (*out, NULL when out of
 * memory); the totals become the reference and the rows of processes gone leave the
 * kernel's table. Returns the row count. */
static size_t read_deltas(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map,
			  struct udp_row **out)
{
	uint64_t total;
	size_t m = ks_task_rows_read(&st->rows, map, &total, (void **)out);

	ks_ctx_aggregated(ctx, UDP_EV_FLOW, total);
	if (*out)
		qsort(*out, m, sizeof(**out), by_bytes);
	return m;
}

static const char *fam_name(uint16_t family)
{
	return family == UDP_AF_INET ? "ipv4" : family == UDP_AF_INET6 ? "ipv6" : "-";
}

/* A header for a row: its process, as the kernel saw it when the row was made. */
static void row_hdr(struct ks_hdr *h, const struct udp_row *r)
{
	ks_row_hdr(h, r->k.pid, 0, r->v.cgroup, r->v.comm);
}

static void count_row(struct ks_ctx *ctx, struct udp_state *st, const struct ks_hdr *h,
		      const struct udp_row *r)
{
	const char *svc = ks_ident__service(ks_ctx_ident(ctx), h);

	ks_counter_add(ks_metric_get(st->m_txd, svc), r->v.tx_dgrams);
	ks_counter_add(ks_metric_get(st->m_txb, svc), r->v.tx_bytes);
	ks_counter_add(ks_metric_get(st->m_rxd, svc), r->v.rx_dgrams);
	ks_counter_add(ks_metric_get(st->m_rxb, svc), r->v.rx_bytes);
	if (st->agent && !st->per_proc)
		udp_edges_count(st, r, svc);
}

static void add_counts(struct ks_rec *r, const struct udp_flow_val *v)
{
	ks_rec_add(r, "tx_datagrams", "TX_DGRAMS", 9, KS_V_COUNT)->u = v->tx_dgrams;
	ks_rec_add(r, "tx_bytes", "TX_BYTES", 9, KS_V_BYTES)->u = v->tx_bytes;
	ks_rec_add(r, "rx_datagrams", "RX_DGRAMS", 9, KS_V_COUNT)->u = v->rx_dgrams;
	ks_rec_add(r, "rx_bytes", "RX_BYTES", 9, KS_V_BYTES)->u = v->rx_bytes;
}

static void emit_row(struct ks_ctx *ctx, const struct udp_state *st, const struct ks_hdr *h,
		     const struct udp_row *row)
{
	static char pid[16], raddr[64];
	const char *fam = fam_name(row->k.family);
	struct ks_rec r;

	ks_rec_init(&r, st->per_proc ? "udp_proc" : "udp", h);
	r.kind = KS_K_REPORT;
	snprintf(pid, sizeof(pid), "%u", row->k.pid);
	ks_rec_str(&r, NULL, "PID", -7, pid, strlen(pid));	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	if (st->per_proc) {
		const char *svc = ks_ident__service(ks_ctx_ident(ctx), h);

		ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));
	} else {
		udp_addr_str(row->k.family, row->k.raddr, raddr, sizeof(raddr));
		ks_rec_uint(&r, "lport", "LPORT", 5, row->k.lport);
		ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
		ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
		ks_rec_uint(&r, "rport", "RPORT", 5, row->k.rport);
	}
	add_counts(&r, &row->v);
	ks_emit(ctx, &r);
}

/*
 * The agent with an output that takes events (the store): one "udp_flow" record per flow
 * that moved in the interval, its change, for the service map (docs/map.md, "UDP edges").
 * side: this end's own rule, "server" when its port was bound explicitly and its first
 * datagram was received, else "client"; the map refines it when it has both ends.
 */
/* The name a DNS answer gave the remote address, valid now (the interval's end): the
 * agent's table (core/dnsnames.h). */
static void rec_rdns(struct ks_rec *r, const struct udp_row *row)
{
	struct ks_dnsnames *t = ks_dnsnames_agent();
	const char *name;

	if (!t || (row->k.family != UDP_AF_INET && row->k.family != UDP_AF_INET6))
		return;
	name = ks_dnsnames_get(t, row->k.family == UDP_AF_INET ? AF_INET : AF_INET6, row->k.raddr,
			       ks_clock_mono_now());
	if (name)
		ks_rec_str(r, "rdns", NULL, 0, name, strlen(name));
}

static void emit_flow(struct ks_ctx *ctx, const struct ks_hdr *h, const struct udp_row *row)
{
	static char raddr[64];
	const char *fam = fam_name(row->k.family);
	bool bound = row->v.flags & UDP_FLOW_F_BOUND, rx1 = row->v.flags & UDP_FLOW_F_RX_FIRST;
	const char *side = bound && rx1 ? "server" : "client", *first = rx1 ? "recv" : "send";
	struct ks_rec r;

	ks_rec_init(&r, "udp_flow", h);
	udp_addr_str(row->k.family, row->k.raddr, raddr, sizeof(raddr));
	ks_rec_uint(&r, "lport", "LPORT", 5, row->k.lport);
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
	ks_rec_uint(&r, "rport", "RPORT", 5, row->k.rport);
	rec_rdns(&r, row);
	ks_rec_str(&r, "side", "SIDE", -6, side, strlen(side));
	ks_rec_uint(&r, "bound", NULL, 0, bound);
	ks_rec_str(&r, "first", NULL, 0, first, strlen(first));
	add_counts(&r, &row->v);
	ks_emit(ctx, &r);
}

/* The rows that changed into the registry, and with @print into records too. */
static void one_delta(struct ks_ctx *ctx, struct udp_state *st, const struct udp_row *d,
		      bool print)
{
	struct ks_hdr h;

	row_hdr(&h, d);
	count_row(ctx, st, &h, d);
	if (print)
		emit_row(ctx, st, &h, d);
	else if (st->agent && !st->per_proc && ks_ctx_streaming(ctx))
		emit_flow(ctx, &h, d);
}

static void flows_deltas(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map,
			 bool print)
{
	struct udp_row *d;
	size_t n = read_deltas(ctx, st, map, &d);

	for (size_t i = 0; i < n; i++)
		one_delta(ctx, st, &d[i], print);
	free(d);
	if (st->rows.no_take && !st->evict_refused) {
		st->evict_refused = true;
		fprintf(stderr, "ksight udp: the flow table is filling and this kernel cannot "
			"take idle flows out atomically (lookup-and-delete on hash maps, 5.14): "
			"when full, new flows are counted lost\n");
	}
}

void udp_flows_report(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map)
{
	flows_deltas(ctx, st, map, true);
}

void udp_flows_collect(struct ks_ctx *ctx, struct udp_state *st, struct bpf_map *map)
{
	flows_deltas(ctx, st, map, false);
}

void udp_flows_init(struct udp_state *st)
{
	st->rows = (struct ks_task_rows)KS_TASK_ROWS(struct udp_row, by_key, sub_row, dgrams);
	st->rows.evict = true;	/* a flow has no close */
}

void udp_flows_free(struct udp_state *st)
{
	ks_task_rows_free(&st->rows);
}
