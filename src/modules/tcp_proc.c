// SPDX-License-Identifier: GPL-2.0
/*
 * tcplife -P: closed sessions counted per process in the kernel (tcp_procs), printed each
 * interval as the counts since the last report, busiest (bytes both ways) first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ident.h"
#include "core/rows.h"
#include "modules/tcp_int.h"

static int by_pid(const void *a, const void *b)
{
	const struct tcp_proc_row *x = a, *y = b;

	return x->k.pid < y->k.pid ? -1 : x->k.pid > y->k.pid;
}

static int by_bytes(const void *a, const void *b)
{
	const struct tcp_proc_row *x = a, *y = b;
	uint64_t bx = x->v.tx_bytes + x->v.rx_bytes, by = y->v.tx_bytes + y->v.rx_bytes;

	if (bx != by)
		return bx > by ? -1 : 1;
	if (x->v.conns != y->v.conns)
		return x->v.conns > y->v.conns ? -1 : 1;
	return by_pid(a, b);
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct tcp_proc_row *d = r;
	const struct tcp_proc_row *o = p;

	if (o) {
		d->v.conns -= o->v.conns;
		d->v.tx_bytes -= o->v.tx_bytes;
		d->v.rx_bytes -= o->v.rx_bytes;
		d->v.dur_ns -= o->v.dur_ns;
		d->v.retrans -= o->v.retrans;
	}
	return d->v.conns;
}

static void emit_row(struct ks_ctx *ctx, const struct tcp_proc_row *p)
{
	static char pid[16];
	struct ks_hdr h = { .pid = p->k.pid, .tid = p->k.pid, .cgroup = p->v.cgroup };
	const char *svc;
	struct ks_rec r;

	memcpy(h.comm, p->v.comm, sizeof(h.comm));
	h.ts = ks_clock_mono_now();	/* the report's time */
	h.flags = p->k.pid ? KS_HDR_F_OWNER : KS_HDR_F_NOTASK;
	svc = p->k.pid ? ks_ident__service(ks_ctx_ident(ctx), &h) : "-";
	ks_rec_init(&r, "tcplife_proc", &h);
	r.kind = KS_K_REPORT;
	if (p->k.pid)
		snprintf(pid, sizeof(pid), "%u", p->k.pid);
	else
		snprintf(pid, sizeof(pid), "-");
	ks_rec_str(&r, NULL, "PID", -7, pid, strlen(pid));
	if (p->k.pid)
		ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	else
		ks_rec_str(&r, NULL, "COMM", -16, "(no owner)", 10);
	ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));	/* JSON: the header's */
	ks_rec_add(&r, "sessions", "SESSIONS", 8, KS_V_COUNT)->u = p->v.conns;
	ks_rec_add(&r, "tx_bytes", "TX", 9, KS_V_BYTES)->u = p->v.tx_bytes;
	ks_rec_add(&r, "rx_bytes", "RX", 9, KS_V_BYTES)->u = p->v.rx_bytes;
	ks_rec_add(&r, "duration_ns", NULL, 0, KS_V_NS)->u = p->v.dur_ns;
	ks_rec_add(&r, "avg_duration_ns", "AVG_DUR", 8, KS_V_NS)->u =
		p->v.conns ? p->v.dur_ns / p->v.conns : 0;
	ks_rec_uint(&r, "retrans", "RETRANS", 7, p->v.retrans);
	ks_emit(ctx, &r);
}

void tcp_proc_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map)
{
	struct tcp_proc_row *rows, *delta;
	uint64_t total = 0;
	size_t n, nd;

	n = KS_MAP_ROWS(map, struct tcp_proc_row, by_pid, &rows);
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		total += rows[i].v.conns;
	ks_ctx_aggregated(ctx, TCP_EV_PROC, total);
	nd = ks_rows_deltas(rows, n, st->prev, st->nprev, sizeof(*rows), by_pid, sub_row,
			    (void **)&delta);
	free(st->prev);
	st->prev = rows;
	st->nprev = n;
	if (!delta)
		return;
	qsort(delta, nd, sizeof(*delta), by_bytes);
	for (size_t i = 0; i < nd; i++)
		emit_row(ctx, &delta[i]);
	free(delta);
}

void tcp_proc_free(struct tcp_state *st)
{
	free(st->prev);
	st->prev = NULL;
	st->nprev = 0;
}
