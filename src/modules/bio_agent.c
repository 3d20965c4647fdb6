// SPDX-License-Identifier: GPL-2.0
/*
 * biotop in the agent (`ksight run --modules biotop`): block requests and bytes per
 * service and disk in the registry, one bio_row event per service for the store, and the
 * summary line.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bio.h"
#include "biolat.h"
#include "bio.skel.h"
#include "core/rows_collect.h"
#include "modules/bio_fmt.h"
#include "modules/bio_int.h"

/* Per service and disk: a service's disk I/O on its own disk told apart from the rest
 * (a database's data disk, the root disk its logs go to). */
#define BIO_METRIC(var, what, text, typ)                                                 \
	static const struct ks_metric_desc var = {                                        \
		.name = "ksight_bio_" what "_total",                                      \
		.help = text ", by the service that queued them and the disk",            \
		.type = KS_METRIC_COUNTER,                                                \
		.labels = { "service", "disk" },                                          \
		.unit = typ,                                                              \
		.idle = 60,                                                               \
	}

BIO_METRIC(rbytes_desc, "read_bytes", "Bytes of block read requests completed", "bytes");
BIO_METRIC(wbytes_desc, "write_bytes", "Bytes of block write requests completed", "bytes");
BIO_METRIC(ops_desc, "requests", "Block requests completed", NULL);

int bio_agent_init(struct ks_ctx *ctx, struct bio_state *st)
{
	st->m_rbytes = ks_ctx_metric(ctx, &rbytes_desc);
	st->m_wbytes = ks_ctx_metric(ctx, &wbytes_desc);
	st->m_ops = ks_ctx_metric(ctx, &ops_desc);
	return st->m_rbytes && st->m_wbytes && st->m_ops ? 0 : -errno;
}

/*
 * The agent with an output that takes events (the store): one "bio_row" record per service
 * whose requests completed in the interval, their sums and latency histogram (a row of its
 * own past BIO_SVC_MAX services): the timeline's disk p99 per service and interval
 * (docs/store.md), which the store's rollups (a histogram's sum and count) cannot give.
 */
static void emit_svc_row(struct ks_ctx *ctx, const char *svc, const struct bio_val *v)
{
	const struct ks_histv hv = { v->slots, BIO_SLOTS, "usecs", 1e3 };
	struct ks_rec r;

	ks_rec_init(&r, "bio_row", NULL);
	r.kind = KS_K_EVENT;	/* history for the store, though no task's header */
	r.service = svc;
	ks_rec_uint(&r, "ops", NULL, 0, v->ops);
	ks_rec_uint(&r, "bytes", NULL, 0, v->bytes);
	ks_rec_uint(&r, "svc_ns", NULL, 0, v->svc_ns);
	ks_rec_uint(&r, "queue_ns", NULL, 0, v->queue_ns);
	ks_rec_add(&r, "hist", NULL, 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

static void bio_add(void *state, const void *row, const char *svc)
{
	const struct bio_row *r = row;
	struct bio_state *st = state;
	const char *v[2] = { svc, bio_disk_name(st, r->k.dev) };
	const size_t len[2] = { strlen(v[0]), strlen(v[1]) };

	if (st->ctx && bio_svcs_add(&st->svcs, svc, &r->v))
		emit_svc_row(st->ctx, svc, &r->v);

	ks_counter_add(ks_metric_getn(st->m_ops, v, len), r->v.ops);
	if (r->k.op == BIOLAT_OP_READ)
		ks_counter_add(ks_metric_getn(st->m_rbytes, v, len), r->v.bytes);
	else if (r->k.op == BIOLAT_OP_WRITE)
		ks_counter_add(ks_metric_getn(st->m_wbytes, v, len), r->v.bytes);
}

void bio_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const struct ks_row_who who = KS_ROW_WHO(struct bio_row);
	struct bio_state *st = state;
	struct bio_bpf *skel = vskel;

	st->ctx = ks_ctx_streaming(ctx) ? ctx : NULL;
	ks_task_rows_collect(ctx, &st->rows, skel->maps.bio_rows, BIO_EV_ROWS, &who, bio_add, st);
	for (size_t i = 0; st->ctx && i < st->svcs.n; i++)
		emit_svc_row(ctx, st->svcs.s[i].name, &st->svcs.s[i].v);
	bio_svcs_reset(&st->svcs);
	st->ctx = NULL;
}

struct bio_svc_sum {
	const char *svc;	/* a series' label: lives as long as the series */
	uint64_t delta;
};

/* The summary's "top_write_bytes": the @k services whose series (one per disk) grew most
 * together, as ks_rec_top lists a metric's series; @vals must live until @r is emitted. */
static void bio_top_services(struct ks_rec *r, struct ks_obj *o, struct ks_val *vals, size_t k,
			     const struct ks_metric *m, double secs)
{
	struct bio_svc_sum *sum = NULL, *grown, t;
	size_t n = 0, cap = 0, i, j;

	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s)) {
		const char *svc = s->overflow ? "(other)" : s->label[0];
		uint64_t d = ks_counter_delta(s);

		if (!d)
			continue;
		for (i = 0; i < n && strcmp(sum[i].svc, svc); i++)
			;
		if (i == n && n == cap) {
			grown = reallocarray(sum, cap ? 2 * cap : 16, sizeof(*sum));
			if (!grown)
				continue;	/* out of memory: a shorter list */
			sum = grown;
			cap = cap ? 2 * cap : 16;
		}
		if (i == n)
			sum[n++] = (struct bio_svc_sum){ svc, 0 };
		sum[i].delta += d;
	}
	for (i = 1; i < n; i++)	/* most first, then by name (insertion: a few services) */
		for (j = i; j > 0 && (sum[j].delta > sum[j - 1].delta ||
				      (sum[j].delta == sum[j - 1].delta &&
				       strcmp(sum[j].svc, sum[j - 1].svc) < 0)); j--)
			t = sum[j], sum[j] = sum[j - 1], sum[j - 1] = t;
	ks_obj_init(o, vals, k);
	for (i = 0; i < n && i < k; i++) {
		struct ks_val *v = ks_obj_add(o, sum[i].svc, NULL, 0,
					      secs > 0 ? KS_V_RATE : KS_V_COUNT);

		v->kkey = strcmp(sum[i].svc, "(other)") != 0;
		if (secs > 0)
			v->d = sum[i].delta / secs;
		else
			v->u = sum[i].delta;
	}
	ks_rec_obj(r, "top_write_bytes", n ? "top:" : NULL, o);
	free(sum);
}

void bio_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct bio_state *st = state;
	uint64_t ops = ks_metric_delta(st->m_ops);
	uint64_t rb = ks_metric_delta(st->m_rbytes), wb = ks_metric_delta(st->m_wbytes);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "biotop");
	ks_rec_rate(&r, "requests_per_s", "io", ops, secs);
	ks_rec_add(&r, "read_bytes_per_s", "read", 0, KS_V_BYTE_RATE)->d = secs > 0 ? rb / secs : 0;
	ks_rec_add(&r, "write_bytes_per_s", "write", 0, KS_V_BYTE_RATE)->d =
		secs > 0 ? wb / secs : 0;
	ks_rec_uint(&r, "requests", NULL, 0, ops);
	ks_rec_uint(&r, "read_bytes", NULL, 0, rb);
	ks_rec_uint(&r, "write_bytes", NULL, 0, wb);
	bio_top_services(&r, &o, top, 5, st->m_wbytes, secs);
	ks_emit(ctx, &r);
}
