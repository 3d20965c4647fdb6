// SPDX-License-Identifier: GPL-2.0
/*
 * ksight trace's output: each interval, the hits and matches (trace_total), the histogram
 * (trace_hist) and the --count-by rows (trace_counts) gained since the previous report,
 * busiest first; and with -f one record per hit. The kernel's tables are never cleared (a
 * delete could fall between an update and the read that should have seen it): each
 * report subtracts the totals it saw last.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/trace_int.h"
#include "trace.skel.h"

static uint64_t total(struct bpf_map *m, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL, sum = 0;

	if (v && !bpf_map__lookup_elem(m, &slot, sizeof(slot), v, ncpu * sizeof(*v), 0))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Field @f's value in @num / @str into @v (made by ks_rec_add or ks_obj_add). */
static void fill(struct ks_val *v, const struct trace_field *f, uint64_t num, const char *str)
{
	if (trace_field_str(f)) {
		v->kind = KS_V_KSTR;
		v->s.p = str;
		v->s.n = f->size;
	} else if (f->is_signed) {
		v->kind = KS_V_INT;
		v->i = (int64_t)num;
	} else {
		v->kind = KS_V_UINT;
		v->u = num;
	}
}

static int width(const struct trace_field *f)
{
	return trace_field_str(f) ? -16 : 12;
}

static void report_total(struct ks_ctx *ctx, struct trace_state *st, struct trace_bpf *skel)
{
	uint64_t hits = total(skel->maps.trace_total, TRACE_TOT_HITS);
	uint64_t match = total(skel->maps.trace_total, TRACE_TOT_MATCH);
	struct ks_rec r;

	ks_rec_init(&r, "trace_total", NULL);
	ks_rec_str(&r, "probe", "PROBE", -30, st->text, strlen(st->text));
	ks_rec_uint(&r, "hits", "HITS", 12, hits - st->prev_hits);
	if (st->conf.nops)
		ks_rec_uint(&r, "matched", "MATCHED", 12, match - st->prev_match);
	ks_emit(ctx, &r);
	st->prev_hits = hits;
	st->prev_match = match;
}

/* The @p-th percentile of linear buckets of @step (the last one open-ended: its low
 * bound), interpolated inside its bucket as ks_hist_percentile does; -1 if empty. */
static double linear_pct(const __u64 *slots, uint64_t step, uint64_t total, double p)
{
	double rank = p / 100.0 * (double)total;
	uint64_t cum = 0;

	for (int i = 0; total && i < TRACE_HSLOTS; i++) {
		if (!slots[i])
			continue;
		if ((double)(cum + slots[i]) >= rank)
			return i == TRACE_HSLOTS - 1 ? (double)i * step :
				(double)i * step + step * (rank - (double)cum) / (double)slots[i];
		cum += slots[i];
	}
	return -1;
}

static void report_hist(struct ks_ctx *ctx, struct trace_state *st, struct trace_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(__u64) * TRACE_HSLOTS);
	__u64 d[TRACE_HSLOTS] = { 0 };
	uint64_t count = 0;
	uint32_t zero = 0;
	struct ks_histv hv = { .slots = d, .nslots = 64, .unit = st->hist };
	struct ks_rec r;

	if (!v || bpf_map__lookup_elem(skel->maps.trace_hist, &zero, sizeof(zero), v,
				       (size_t)ncpu * sizeof(__u64) * TRACE_HSLOTS, 0)) {
		free(v);
		return;
	}
	for (int s = 0; s < TRACE_HSLOTS; s++) {
		uint64_t sum = 0;

		for (int c = 0; c < ncpu; c++)
			sum += v[c * TRACE_HSLOTS + s];
		d[s] = sum - st->prev_hist[s];
		st->prev_hist[s] = sum;
		count += d[s];
	}
	free(v);
	ks_rec_init(&r, "trace_hist", NULL);
	r.style = KS_REC_BLOCK;
	ks_rec_str(&r, "field", "field", 0, st->hist, strlen(st->hist));
	ks_rec_uint(&r, "count", "count", 0, count);
	if (st->conf.hist == 1) {
		ks_rec_add(&r, "hist", "hist", 0, KS_V_HIST)->h = &hv;
		ks_emit(ctx, &r);
		return;
	}
	ks_rec_uint(&r, "step", "step", 0, st->conf.hist_step);
	if (count) {
		ks_rec_add(&r, "p50", "p50", 0, KS_V_DOUBLE)->d =
			linear_pct(d, st->conf.hist_step, count, 50);
		ks_rec_add(&r, "p90", "p90", 0, KS_V_DOUBLE)->d =
			linear_pct(d, st->conf.hist_step, count, 90);
		ks_rec_add(&r, "p99", "p99", 0, KS_V_DOUBLE)->d =
			linear_pct(d, st->conf.hist_step, count, 99);
	}
	ks_emit(ctx, &r);
	/* linear: a row per bucket; the last holds everything from its low bound up */
	for (int s = 0; s < TRACE_HSLOTS; s++) {
		uint64_t lo = s * st->conf.hist_step, hi = lo + st->conf.hist_step - 1;

		if (!d[s])
			continue;
		ks_rec_init(&r, "trace_bucket", NULL);
		ks_rec_uint(&r, "lo", "FROM", 14, lo);
		if (s < TRACE_HSLOTS - 1)
			ks_rec_uint(&r, "hi", "TO", 14, hi);
		else
			ks_rec_str(&r, "hi", "TO", 14, "inf", 3);
		ks_rec_uint(&r, "count", "COUNT", 12, d[s]);
		ks_emit(ctx, &r);
	}
}

struct krows {
	size_t rowsz, keylen;
	unsigned char *v;	/* rows: key, then the u64 count */
	size_t n;
};

static size_t g_keylen;

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, g_keylen);
}

static uint64_t row_count(const struct krows *k, size_t i)
{
	uint64_t c;

	memcpy(&c, k->v + i * k->rowsz + k->keylen, sizeof(c));
	return c;
}

/* The rows of per-CPU hash @m, each CPU's counts summed. */
static int read_rows(struct bpf_map *m, struct krows *k)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *pc = calloc(ncpu > 0 ? ncpu : 1, sizeof(*pc));
	size_t cap = 256;
	unsigned char key[TRACE_KEY_MAX], next[TRACE_KEY_MAX];
	void *prev = NULL;
	int fd = bpf_map__fd(m);

	k->v = malloc(cap * k->rowsz);
	k->n = 0;
	while (k->v && pc && !bpf_map_get_next_key(fd, prev, next)) {
		uint64_t c = 0;

		memcpy(key, next, k->keylen);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, pc))
			continue;
		for (int i = 0; i < ncpu; i++)
			c += pc[i];
		if (k->n == cap) {
			void *nv = realloc(k->v, 2 * cap * k->rowsz);

			if (!nv)
				break;
			k->v = nv;
			cap *= 2;
		}
		memcpy(k->v + k->n * k->rowsz, key, k->keylen);
		memcpy(k->v + k->n * k->rowsz + k->keylen, &c, sizeof(c));
		k->n++;
	}
	free(pc);
	if (!k->v)
		return -1;
	g_keylen = k->keylen;
	qsort(k->v, k->n, k->rowsz, by_key);
	return 0;
}

struct out {
	const unsigned char *key;
	uint64_t count;
};

static int by_count(const void *a, const void *b)
{
	const struct out *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return memcmp(x->key, y->key, g_keylen);
}

static void emit_row(struct ks_ctx *ctx, struct trace_state *st, const struct out *o)
{
	struct ks_rec r;

	ks_rec_init(&r, "trace_counts", NULL);
	for (unsigned int i = 0; i < st->conf.nkeys; i++) {
		const struct trace_kpart *p = &st->conf.k[i];
		const struct trace_field *f = &st->conf.f[p->field];
		uint64_t num;

		memcpy(&num, o->key + p->off, sizeof(num));
		fill(ks_rec_add(&r, st->kname[i], st->kname[i], width(f), KS_V_UINT), f, num,
		     (const char *)o->key + p->off);
	}
	ks_rec_uint(&r, "count", "COUNT", 12, o->count);
	ks_emit(ctx, &r);
}

static void report_rows(struct ks_ctx *ctx, struct trace_state *st, struct trace_bpf *skel)
{
	struct krows cur = { st->keylen + 8, st->keylen, NULL, 0 };
	struct out *out;
	size_t n = 0;
	uint64_t sum = 0;

	if (read_rows(skel->maps.trace_counts, &cur))
		return;
	out = calloc(cur.n ? cur.n : 1, sizeof(*out));
	for (size_t i = 0; out && i < cur.n; i++) {
		const unsigned char *row = cur.v + i * cur.rowsz;
		const unsigned char *p = st->prev_rows ?
			bsearch(row, st->prev_rows, st->nprev, cur.rowsz, by_key) : NULL;
		uint64_t c = row_count(&cur, i), was = 0;

		if (p)
			memcpy(&was, p + cur.keylen, sizeof(was));
		sum += c;
		if (c != was)
			out[n++] = (struct out){ row, c - was };
	}
	ks_ctx_aggregated(ctx, TRACE_EV_COUNT, sum);
	if (out) {
		qsort(out, n, sizeof(*out), by_count);
		for (size_t i = 0; i < n; i++)
			emit_row(ctx, st, &out[i]);
	}
	free(out);
	free(st->prev_rows);
	st->prev_rows = cur.v;
	st->nprev = cur.n;
}

void trace_report(struct ks_ctx *ctx, struct trace_state *st, struct trace_bpf *skel)
{
	if (!st->p)
		return;
	report_total(ctx, st, skel);
	if (st->conf.hist)
		report_hist(ctx, st, skel);
	if (st->conf.nkeys)
		report_rows(ctx, st, skel);
}

/* One -f record: the fields as table columns, and in JSON as the object "fields" (the
 * record's own names may be the header's: pid, comm). */
void trace_event(struct ks_ctx *ctx, struct trace_state *st, const struct ks_hdr *h,
		 size_t size)
{
	const struct trace_rec *e = (const void *)h;
	struct ks_val store[TRACE_FIELDS];
	struct ks_obj o;
	struct ks_rec r;

	if (size < sizeof(*e) || h->type != TRACE_EV_EVENT)
		return;
	ks_rec_init(&r, "trace", h);
	ks_obj_init(&o, store, TRACE_FIELDS);
	for (int i = 0; i < st->noutf; i++) {
		const struct trace_field *f = &st->conf.f[st->outf[i]];
		uint64_t num = e->v.num[st->outf[i]];
		const char *str = e->v.str[st->outf[i]];

		fill(ks_rec_add(&r, NULL, st->oname[i], width(f), KS_V_UINT), f, num, str);
		fill(ks_obj_add(&o, st->oname[i], NULL, 0, KS_V_UINT), f, num, str);
	}
	ks_rec_obj(&r, "fields", NULL, &o);
	ks_emit(ctx, &r);
}
