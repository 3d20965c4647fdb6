// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's req_rows table read each interval: what changed since the previous read,
 * as a tool's records and into the registry. The table is not cleared (a plain delete
 * could fall between an update and the read that should have seen it); rows of processes
 * that exited leave it once counted, and idle rows once it is filling (core/rows.h: by
 * lookup-and-delete, nothing lost), as a long-lived server's clients come and go.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hist.h"
#include "core/ident.h"
#include "core/rows.h"
#include "modules/req_int.h"

static const char *const req_methods[REQ_M_NR] = {
	"-", "GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
	"QUERY", "PARSE", "BIND", "EXECUTE", "FUNCCALL",
};

const char *req_proto_name(unsigned int proto)
{
	return proto == REQ_P_HTTP ? "http" : proto == REQ_P_REDIS ? "redis"
	       : proto == REQ_P_PG ? "postgres" : "-";
}

const char *req_method_name(const struct req_key *k, char *buf, size_t len)
{
	size_t n = 0;

	if (k->proto != REQ_P_REDIS)
		return k->method < REQ_M_NR ? req_methods[k->method] : "?";
	/* the command's letters, the first in the highest non-zero byte */
	for (int sh = 56; sh >= 0 && n + 1 < len; sh -= 8) {
		char c = k->cmd >> sh;

		if (c)
			buf[n++] = c;
	}
	if (!n && len > 1)
		buf[n++] = '?';
	buf[n] = 0;
	return buf;
}

const char *req_status_name(unsigned int status, char *buf, size_t len)
{
	if (status == REQ_S_OK)
		return "ok";
	if (status == REQ_S_ERR)
		return "error";
	snprintf(buf, len, "%uxx", status);
	return buf;
}

bool req_status_error(unsigned int proto, unsigned int status)
{
	return proto == REQ_P_HTTP ? status >= 5 && status <= 9 : status == REQ_S_ERR;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(&((const struct req_row *)a)->k, &((const struct req_row *)b)->k,
		      sizeof(struct req_key));
}

/* Busiest first, then by key: the same order each run. */
static int by_count(const void *a, const void *b)
{
	const struct req_row *x = a, *y = b;

	if (x->v.count != y->v.count)
		return x->v.count > y->v.count ? -1 : 1;
	return by_key(a, b);
}

/* Turns @r into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct req_row *d = r;
	const struct req_row *o = p;

	if (o) {
		d->v.count -= o->v.count;
		d->v.lat_sum -= o->v.lat_sum;
		for (int i = 0; i < REQ_SLOTS; i++)
			d->v.slots[i] -= o->v.slots[i];
	}
	return d->v.count;
}

static uint64_t row_count(const void *row)
{
	return ((const struct req_row *)row)->v.count;
}

static void row_hdr(struct ks_hdr *h, const struct req_row *r)
{
	ks_row_hdr(h, r->k.pid, 0, r->v.cgroup, r->v.comm);
}

static void count_row(struct req_state *st, const struct req_row *r)
{
	char sbuf[8], mbuf[16];
	const char *lab[3] = { req_proto_name(r->k.proto),
			       req_method_name(&r->k, mbuf, sizeof(mbuf)),
			       req_status_name(r->k.status, sbuf, sizeof(sbuf)) };
	const size_t len[3] = { strlen(lab[0]), strlen(lab[1]), strlen(lab[2]) };

	ks_counter_add(ks_metric_getn(st->m_reqs, lab, len), r->v.count);
	if (r->k.proto < REQ_P_NR) {
		st->iv_reqs[r->k.proto] += r->v.count;
		if (req_status_error(r->k.proto, r->k.status))
			st->iv_errs[r->k.proto] += r->v.count;
	}
	ks_hist_add(ks_metric_getn(st->m_lat, lab, len), r->v.slots, REQ_SLOTS, r->v.count,
		    r->v.lat_sum / 1e3);
}

/* A row's request kind and counts, the same in both records: method, status, requests,
 * errors, the latency sum (the static buffers live until the record is emitted). */
static void rec_counts(struct ks_rec *r, const struct req_row *row)
{
	static char sbuf[8], mbuf[16];
	const char *method = req_method_name(&row->k, mbuf, sizeof(mbuf));
	const char *status = req_status_name(row->k.status, sbuf, sizeof(sbuf));
	bool err = req_status_error(row->k.proto, row->k.status);

	ks_rec_str(r, "method", "METHOD", -8, method, strlen(method));
	ks_rec_str(r, "status", "STATUS", -6, status, strlen(status));
	ks_rec_add(r, "requests", "REQS", 7, KS_V_COUNT)->u = row->v.count;
	ks_rec_add(r, "errors", "ERRS", 7, KS_V_COUNT)->u = err ? row->v.count : 0;
	ks_rec_add(r, "latency_sum_ns", NULL, 0, KS_V_NS)->u = row->v.lat_sum;
}

static void emit_row(struct ks_ctx *ctx, const struct req_state *st, const struct ks_hdr *h,
		     const struct req_row *row)
{
	static char pid[16], raddr[64];
	const struct ks_histv hv = { .slots = row->v.slots, .nslots = REQ_SLOTS,
				     .unit = "usecs", .unit_ns = 1e3 };
	const char *role = row->k.role == REQ_R_SERVER ? "server" : "client";
	const char *proto = req_proto_name(row->k.proto);
	double p50 = ks_hist_percentile(row->v.slots, REQ_SLOTS, 50);
	double p99 = ks_hist_percentile(row->v.slots, REQ_SLOTS, 99);
	struct ks_rec r;

	ks_rec_init(&r, "req", h);
	r.kind = KS_K_REPORT;
	snprintf(pid, sizeof(pid), "%u", row->k.pid);
	ks_rec_str(&r, NULL, "PID", -7, pid, strlen(pid));	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -15, h->comm, sizeof(h->comm), false);
	ks_rec_str(&r, "role", "ROLE", -6, role, strlen(role));
	ks_rec_str(&r, "proto", "PROTO", -8, proto, strlen(proto));
	if (!st->per_proc) {
		req_addr_str(&row->k, raddr, sizeof(raddr));
		ks_rec_uint(&r, "lport", "LPORT", 5, row->k.lport);
		ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
		ks_rec_uint(&r, "rport", "RPORT", 5, row->k.rport);
	}
	rec_counts(&r, row);
	ks_rec_add(&r, "latency_avg_ns", "AVG", 8, KS_V_NS)->u = row->v.lat_sum / row->v.count;
	ks_rec_add(&r, "latency_p50_ns", "P50", 8, KS_V_NS)->u = p50 < 0 ? 0 : p50 * 1e3;
	ks_rec_add(&r, "latency_p99_ns", "P99", 8, KS_V_NS)->u = p99 < 0 ? 0 : p99 * 1e3;
	ks_rec_add(&r, "hist", NULL, 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

/*
 * The agent with an output that takes events (the store): one "req_row" record per row
 * that changed in the interval, its change, for the service map's TCP edges (docs/
 * map.md, "Requests on edges"): a client row's server endpoint, or a server row's port
 * and client address; its counts and histogram. A server row whose client end is a
 * client row here too (REQ_PEER_HERE) makes none: the client's row stands for those
 * requests, as a TCP edge seen at both ends has the client's counts.
 */
static void emit_edge_row(struct ks_ctx *ctx, const struct ks_hdr *h, const struct req_row *row)
{
	static char raddr[64];
	const struct ks_histv hv = { .slots = row->v.slots, .nslots = REQ_SLOTS,
				     .unit = "usecs", .unit_ns = 1e3 };
	const char *proto = req_proto_name(row->k.proto);
	bool server = row->k.role == REQ_R_SERVER;
	const char *role = server ? "server" : "client";
	struct ks_rec r;

	ks_rec_init(&r, "req_row", h);
	req_addr_str(&row->k, raddr, sizeof(raddr));
	ks_rec_str(&r, "role", "ROLE", -6, role, strlen(role));
	ks_rec_str(&r, "proto", "PROTO", -8, proto, strlen(proto));
	if (server)
		ks_rec_uint(&r, "lport", "LPORT", 5, row->k.lport);
	ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
	if (!server)
		ks_rec_uint(&r, "rport", "RPORT", 5, row->k.rport);
	rec_counts(&r, row);
	ks_rec_add(&r, "hist", NULL, 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

/* Whether the agent's row with key @k makes a req_row record: a client row; a server row
 * whose client is not here (its address kept). */
bool req_edge_row(const struct req_key *k)
{
	if (k->role == REQ_R_CLIENT)
		return true;
	return k->role == REQ_R_SERVER && k->peer != REQ_PEER_HERE && k->family;
}

static void rows_deltas(struct ks_ctx *ctx, struct req_state *st, struct bpf_map *map,
			bool print)
{
	struct req_row *d;
	uint64_t total;
	size_t n = ks_task_rows_read(&st->rows, map, &total, (void **)&d);

	ks_ctx_aggregated(ctx, REQ_EV_ROW, total);
	if (!d)
		return;
	qsort(d, n, sizeof(*d), by_count);
	for (size_t i = 0; i < n; i++) {
		struct ks_hdr h;

		count_row(st, &d[i]);
		row_hdr(&h, &d[i]);
		if (st->agent && !st->per_proc)
			req_edges_count(ctx, st, &h, &d[i]);
		if (print)
			emit_row(ctx, st, &h, &d[i]);
		else if (st->agent && !st->per_proc && req_edge_row(&d[i].k) &&
			 ks_ctx_streaming(ctx))
			emit_edge_row(ctx, &h, &d[i]);
	}
	free(d);
}

void req_rows_report(struct ks_ctx *ctx, struct req_state *st, struct bpf_map *map)
{
	rows_deltas(ctx, st, map, true);
}

void req_rows_collect(struct ks_ctx *ctx, struct req_state *st, struct bpf_map *map)
{
	rows_deltas(ctx, st, map, false);
}

void req_rows_init(struct req_state *st)
{
	st->rows = (struct ks_task_rows)KS_TASK_ROWS(struct req_row, by_key, sub_row, row_count);
	st->rows.evict = true;	/* rows per endpoint: a server's clients come and go */
}

void req_rows_free(struct req_state *st)
{
	ks_task_rows_free(&st->rows);
}
