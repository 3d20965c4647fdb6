// SPDX-License-Identifier: GPL-2.0
/*
 * The registry as an OTLP ExportMetricsServiceRequest in protobuf's binary encoding
 * (`--otlp-encoding protobuf`): the same content as otlp_json.c (otlp.h has the mapping),
 * written field by field with the field numbers of opentelemetry-proto's
 * collector/metrics/v1 and metrics/v1 messages. No library: a nested message is written
 * in place and its length put in front of it once known.
 */
#include <math.h>
#include <string.h>

#include "sink/escape.h"
#include "sink/otlp.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static void varint(struct ks_buf *b, uint64_t v)
{
	char t[10];
	int n = 0;

	do {
		t[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	ks_buf_put(b, t, n);
}

static void tag(struct ks_buf *b, unsigned int field, unsigned int wt)
{
	varint(b, (uint64_t)field << 3 | wt);
}

static void fixed64(struct ks_buf *b, uint64_t v)
{
	char t[8];

	for (int i = 0; i < 8; i++)
		t[i] = (char)(v >> (8 * i));
	ks_buf_put(b, t, 8);
}

static void dbl(struct ks_buf *b, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	fixed64(b, v);
}

/* Begin a nested message (or a packed field): returns where its body starts. */
static size_t open_len(struct ks_buf *b, unsigned int field)
{
	tag(b, field, WT_LEN);
	return b->len;
}

/* End it: its length goes in front of the body. */
static void close_len(struct ks_buf *b, size_t start)
{
	size_t n = b->len - start;
	struct ks_buf l = { 0 };
	char t[10];
	size_t k;

	l.p = t;
	l.cap = sizeof(t);
	varint(&l, n);
	k = l.len;
	if (ks_buf_reserve(b, k))
		return;
	memmove(b->p + start + k, b->p + start, n);
	memcpy(b->p + start, t, k);
	b->len += k;
}

/* A string field; UTF-8 as it is, a byte that is not as U+FFFD (as the JSON form). */
static void str(struct ks_buf *b, unsigned int field, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), at = open_len(b, field);

	while (n) {
		uint32_t cp;
		size_t l = ks_utf8_decode(p, n, &cp);

		if (l) {
			ks_buf_put(b, p, l);
		} else {
			ks_buf_str(b, "\xef\xbf\xbd");
			l = 1;
		}
		p += l;
		n -= l;
	}
	close_len(b, at);
}

/* KeyValue { key = 1; AnyValue value = 2 { string_value = 1 } } as field @field. */
static void attr(struct ks_buf *b, unsigned int field, const char *key, const char *val)
{
	size_t kv = open_len(b, field), any;

	str(b, 1, key);
	any = open_len(b, 2);
	str(b, 1, val);
	close_len(b, any);
	close_len(b, kv);
}

static void point_common(struct ks_buf *b, const struct ks_series *s, unsigned int attr_field,
			 const struct ks_otlp_resource *res)
{
	const struct ks_metric *m = s->m;

	if (s->overflow)
		attr(b, attr_field, "ksight_overflow", "true");
	else
		for (unsigned int i = 0; i < m->nlabels; i++)
			attr(b, attr_field, m->d->labels[i], s->label[i] ? s->label[i] : "");
	tag(b, 2, WT_I64);	/* start_time_unix_nano */
	fixed64(b, res->start_ns);
	tag(b, 3, WT_I64);	/* time_unix_nano */
	fixed64(b, res->time_ns);
}

/* HistogramDataPoint: count = 4, sum = 5, bucket_counts = 6, explicit_bounds = 7. */
static void hist_point(struct ks_buf *b, const struct ks_series *s)
{
	const struct ks_hist_vals *h = s->h;
	unsigned int nb = ks_hist_shown(s->m->d, h);
	uint64_t above = 0;
	size_t at;

	tag(b, 4, WT_I64);
	fixed64(b, h->count);
	tag(b, 5, WT_I64);
	dbl(b, ks_hist_sum(s, h));
	at = open_len(b, 6);
	for (unsigned int i = 0; i < nb; i++)
		fixed64(b, h->slots[i]);
	for (unsigned int i = nb; i < KS_HIST_SLOTS; i++)
		above += h->slots[i];
	fixed64(b, above);
	close_len(b, at);
	if (nb) {
		at = open_len(b, 7);
		for (unsigned int i = 0; i < nb; i++)
			dbl(b, ks_hist_bound(s->m->d, i));
		close_len(b, at);
	}
}

/* Metric { name = 1; description = 2; unit = 3; gauge = 5 | sum = 7 | histogram = 9 }. */
static void metric(struct ks_buf *b, const struct ks_metric *m, const struct ks_otlp_resource *res)
{
	const struct ks_metric_desc *d = m->d;
	size_t at = open_len(b, 2), data;	/* ScopeMetrics.metrics */

	str(b, 1, d->name);
	str(b, 2, d->help ? d->help : "");
	if (ks_otlp_unit(d->unit))
		str(b, 3, ks_otlp_unit(d->unit));
	data = open_len(b, d->type == KS_METRIC_COUNTER ? 7 : d->type == KS_METRIC_GAUGE ? 5 : 9);
	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s)) {
		size_t pt = open_len(b, 1);	/* data_points */

		if (d->type == KS_METRIC_HIST) {
			point_common(b, s, 9, res);
			hist_point(b, s);
		} else {
			point_common(b, s, 7, res);
			if (d->type == KS_METRIC_GAUGE) {
				tag(b, 4, WT_I64);	/* as_double */
				dbl(b, s->v.d);
			} else if (d->scale) {
				tag(b, 4, WT_I64);
				dbl(b, (double)s->v.u / (double)(uint64_t)(1.0 / d->scale + 0.5));
			} else if (s->v.u > INT64_MAX) {
				tag(b, 4, WT_I64);	/* past sfixed64: as a double */
				dbl(b, (double)s->v.u);
			} else {
				tag(b, 6, WT_I64);	/* as_int */
				fixed64(b, s->v.u);
			}
		}
		close_len(b, pt);
	}
	if (d->type != KS_METRIC_GAUGE) {
		tag(b, 2, WT_VARINT);	/* aggregation_temporality: CUMULATIVE */
		varint(b, 2);
	}
	if (d->type == KS_METRIC_COUNTER) {
		tag(b, 3, WT_VARINT);	/* is_monotonic */
		varint(b, 1);
	}
	close_len(b, data);
	close_len(b, at);
}

void ks_otlp_protobuf(struct ks_buf *out, const struct ks_metrics *r,
		      const struct ks_otlp_resource *res)
{
	size_t rm = open_len(out, 1), at, sm;	/* resource_metrics */

	at = open_len(out, 1);			/* resource */
	attr(out, 1, "service.name", "ksight");
	attr(out, 1, "host.name", res->host_name ? res->host_name : "");
	close_len(out, at);
	sm = open_len(out, 2);			/* scope_metrics */
	at = open_len(out, 1);			/* scope */
	str(out, 1, "ksight");
	close_len(out, at);
	for (const struct ks_metric *m = ks_metrics_first(r); m; m = ks_metric_next(m))
		if (ks_series_first(m))
			metric(out, m, res);
	close_len(out, sm);
	close_len(out, rm);
}
