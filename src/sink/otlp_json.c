// SPDX-License-Identifier: GPL-2.0
/* The registry as an OTLP ExportMetricsServiceRequest in JSON (otlp.h has the mapping). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/escape.h"
#include "sink/otlp.h"
#include "sink/units.h"

const char *ks_otlp_unit(const char *unit)
{
	if (!unit)
		return NULL;
	if (!strcmp(unit, "seconds"))
		return "s";
	if (!strcmp(unit, "bytes"))
		return "By";
	return NULL;
}

/* A JSON string of UTF-8 text: malformed bytes become U+FFFD, controls \u00XX. */
static void str(struct ks_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	ks_buf_ch(out, '"');
	while (n) {
		uint32_t cp;
		size_t l = ks_utf8_decode(p, n, &cp);

		if (!l) {
			ks_buf_str(out, "\\ufffd");
			l = 1;
		} else if (*p == '"' || *p == '\\') {
			ks_buf_ch(out, '\\');
			ks_buf_ch(out, *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			ks_buf_printf(out, "\\u%04x", *p);
		} else {
			ks_buf_put(out, p, l);
		}
		p += l;
		n -= l;
	}
	ks_buf_ch(out, '"');
}

/* A 64-bit integer: a decimal string, as the protobuf JSON mapping writes (u)int64. */
static void u64s(struct ks_buf *out, uint64_t v)
{
	ks_buf_ch(out, '"');
	ks_buf_u64(out, v);
	ks_buf_ch(out, '"');
}

/* A double as a JSON number; NaN and infinities as the mapping's strings (JSON numbers
 * cannot hold them). */
static void dbl(struct ks_buf *out, double d)
{
	char t[40];

	if (isnan(d)) {
		ks_buf_str(out, "\"NaN\"");
		return;
	}
	if (isinf(d)) {
		ks_buf_str(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	ks_fmt_exact(t, sizeof(t), d);
	ks_buf_str(out, t);
}

/* A histogram metric's bounds (ks_hist_bound) as text, rendered once per metric, not per
 * series; whole numbers as integers, as dbl() writes them. */
struct bounds {
	char text[KS_HIST_SLOTS - 1][32];
	unsigned int n;		/* rendered so far */
	const struct ks_metric_desc *d;
};

static const char *bound(struct bounds *bs, unsigned int i)
{
	while (bs->n <= i) {
		ks_fmt_exact(bs->text[bs->n], sizeof(bs->text[0]), ks_hist_bound(bs->d, bs->n));
		bs->n++;
	}
	return bs->text[i];
}

static void attr(struct ks_buf *out, const char *key, const char *val, bool first)
{
	if (!first)
		ks_buf_ch(out, ',');
	ks_buf_str(out, "{\"key\":");
	str(out, key);
	ks_buf_str(out, ",\"value\":{\"stringValue\":");
	str(out, val);
	ks_buf_str(out, "}}");
}

/* "attributes":[...],"startTimeUnixNano":...,"timeUnixNano":..., : a point's common head. */
static void point_head(struct ks_buf *out, const struct ks_series *s,
		       const struct ks_otlp_resource *res)
{
	const struct ks_metric *m = s->m;

	ks_buf_str(out, "{\"attributes\":[");
	if (s->overflow)
		attr(out, "ksight_overflow", "true", true);
	else
		for (unsigned int i = 0; i < m->nlabels; i++)
			attr(out, m->d->labels[i], s->label[i] ? s->label[i] : "", !i);
	ks_buf_str(out, "],\"startTimeUnixNano\":");
	u64s(out, res->start_ns);
	ks_buf_str(out, ",\"timeUnixNano\":");
	u64s(out, res->time_ns);
}

static void hist_point(struct ks_buf *out, const struct ks_series *s, struct bounds *bs)
{
	const struct ks_hist_vals *h = s->h;
	unsigned int nb = ks_hist_shown(s->m->d, h);
	uint64_t above = 0;

	ks_buf_str(out, ",\"count\":");
	u64s(out, h->count);
	ks_buf_str(out, ",\"sum\":");
	dbl(out, ks_hist_sum(s, h));
	ks_buf_str(out, ",\"bucketCounts\":[");
	for (unsigned int i = 0; i < nb; i++) {
		u64s(out, h->slots[i]);
		ks_buf_ch(out, ',');
	}
	for (unsigned int i = nb; i < KS_HIST_SLOTS; i++)
		above += h->slots[i];
	u64s(out, above);	/* the +Inf bucket: bucketCounts has one entry more */
	ks_buf_str(out, "],\"explicitBounds\":[");
	for (unsigned int i = 0; i < nb; i++) {
		if (i)
			ks_buf_ch(out, ',');
		ks_buf_str(out, bound(bs, i));
	}
	ks_buf_ch(out, ']');
}

static void metric(struct ks_buf *out, const struct ks_metric *m,
		   const struct ks_otlp_resource *res)
{
	const struct ks_metric_desc *d = m->d;
	struct bounds bs = { .d = d };
	bool first = true;

	ks_buf_str(out, "{\"name\":");
	str(out, d->name);
	ks_buf_str(out, ",\"description\":");
	str(out, d->help ? d->help : "");
	if (ks_otlp_unit(d->unit)) {
		ks_buf_str(out, ",\"unit\":");
		str(out, ks_otlp_unit(d->unit));
	}
	if (d->type == KS_METRIC_COUNTER)
		ks_buf_str(out, ",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
				"\"dataPoints\":[");
	else if (d->type == KS_METRIC_GAUGE)
		ks_buf_str(out, ",\"gauge\":{\"dataPoints\":[");
	else
		ks_buf_str(out, ",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[");
	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s)) {
		if (!first)
			ks_buf_ch(out, ',');
		first = false;
		point_head(out, s, res);
		if (d->type == KS_METRIC_HIST) {
			hist_point(out, s, &bs);
		} else if (d->type == KS_METRIC_GAUGE) {
			ks_buf_str(out, ",\"asDouble\":");
			dbl(out, s->v.d);
		} else if (d->scale) {
			/* kept in ns, shown in seconds (as prom_text.c does) */
			ks_buf_str(out, ",\"asDouble\":");
			dbl(out, (double)s->v.u / (double)(uint64_t)(1.0 / d->scale + 0.5));
		} else if (s->v.u > INT64_MAX) {
			/* as_int is an sfixed64: past it, a double */
			ks_buf_str(out, ",\"asDouble\":");
			dbl(out, (double)s->v.u);
		} else {
			ks_buf_str(out, ",\"asInt\":");
			u64s(out, s->v.u);
		}
		ks_buf_ch(out, '}');
	}
	ks_buf_str(out, "]}}");
}

void ks_otlp_json(struct ks_buf *out, const struct ks_metrics *r,
		  const struct ks_otlp_resource *res)
{
	bool first = true;

	ks_buf_str(out, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[");
	attr(out, "service.name", "ksight", true);
	attr(out, "host.name", res->host_name ? res->host_name : "", false);
	ks_buf_str(out, "]},\"scopeMetrics\":[{\"scope\":{\"name\":\"ksight\"},\"metrics\":[");
	for (const struct ks_metric *m = ks_metrics_first(r); m; m = ks_metric_next(m)) {
		if (!ks_series_first(m))
			continue;	/* no point yet: left out, as on /metrics */
		if (!first)
			ks_buf_ch(out, ',');
		first = false;
		metric(out, m, res);
	}
	ks_buf_str(out, "]}]}]}");
}
