// SPDX-License-Identifier: GPL-2.0
#include "sink/prom_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/escape.h"
#include "sink/units.h"

void ks_prom_label_value(struct ks_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		uint32_t cp;
		size_t l = ks_utf8_decode(p, n, &cp);

		if (!l) {
			ks_buf_str(out, "\xef\xbf\xbd");	/* U+FFFD */
			l = 1;
		} else if (*p == '\\') {
			ks_buf_str(out, "\\\\");
		} else if (*p == '"') {
			ks_buf_str(out, "\\\"");
		} else if (*p == '\n') {
			ks_buf_str(out, "\\n");
		} else {
			ks_buf_put(out, p, l);
		}
		p += l;
		n -= l;
	}
}

/* HELP text escapes only backslash and newline. */
static void help_text(struct ks_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			ks_buf_str(out, "\\\\");
		else if (*s == '\n')
			ks_buf_str(out, "\\n");
		else
			ks_buf_ch(out, *s);
	}
}

/* A sample value: integers exactly, others in the shortest form that reads back. */
static void value(struct ks_buf *out, double d)
{
	char t[40];

	if (isnan(d)) {
		ks_buf_str(out, "NaN");
	} else if (isinf(d)) {
		ks_buf_str(out, d > 0 ? "+Inf" : "-Inf");
	} else {
		ks_fmt_exact(t, sizeof(t), d);
		ks_buf_str(out, t);
	}
}

const char *ks_host_label;

/*
 * The label set of @s, braces included, with one more label (@extra="@extra_val") last if
 * @extra is set; nothing at all for an unlabelled series with no extra.
 */
static void labels(struct ks_buf *out, const struct ks_series *s, const char *extra,
		   const char *extra_val)
{
	const struct ks_metric *m = s->m;
	bool any = false;

	if (ks_host_label) {
		ks_buf_str(out, "{host=\"");
		ks_prom_label_value(out, ks_host_label);
		ks_buf_ch(out, '"');
		any = true;
	}
	for (unsigned int i = 0; i < m->nlabels; i++) {
		ks_buf_ch(out, any ? ',' : '{');
		any = true;
		ks_buf_str(out, m->d->labels[i]);
		ks_buf_str(out, "=\"");
		if (!s->overflow)
			ks_prom_label_value(out, s->label[i]);
		ks_buf_ch(out, '"');
	}
	if (s->overflow) {
		ks_buf_ch(out, any ? ',' : '{');
		any = true;
		ks_buf_str(out, "ksight_overflow=\"true\"");
	}
	if (extra) {
		ks_buf_ch(out, any ? ',' : '{');
		any = true;
		ks_buf_str(out, extra);
		ks_buf_str(out, "=\"");
		ks_buf_str(out, extra_val);
		ks_buf_ch(out, '"');
	}
	if (any)
		ks_buf_ch(out, '}');
}

/* A sample's name and labels, and the space before its value. */
static void head(struct ks_buf *out, const char *name, const char *suffix,
		 const struct ks_series *s, const char *extra, const char *extra_val)
{
	ks_buf_str(out, name);
	ks_buf_str(out, suffix);
	labels(out, s, extra, extra_val);
	ks_buf_ch(out, ' ');
}

/* Counts are written as integers: a double would round them past 2^53. */
static void count(struct ks_buf *out, const char *name, const char *suffix,
		  const struct ks_series *s, const char *extra, const char *extra_val,
		  uint64_t v)
{
	head(out, name, suffix, s, extra, extra_val);
	ks_buf_u64(out, v);
	ks_buf_ch(out, '\n');
}

/* The upper bounds of a histogram metric's buckets as text (ks_hist_bound), made once
 * per metric (the shortest form costs up to 17 conversions each: per series it was most
 * of a page). Whole numbers as integers: le="100", not "1e+02". */
struct bounds {
	char le[KS_HIST_SLOTS][40];
};

static void bounds_of(struct bounds *b, const struct ks_metric_desc *d)
{
	for (unsigned int i = 0; i + 1 < ks_hist_nslots(d); i++)
		ks_fmt_exact(b->le[i], sizeof(b->le[i]), ks_hist_bound(d, i));
}

static void histogram(struct ks_buf *out, const struct ks_series *s, const struct bounds *b)
{
	const struct ks_metric_desc *d = s->m->d;
	const struct ks_hist_vals *h = s->h;
	unsigned int nb = ks_hist_shown(d, h);
	uint64_t cum = 0;

	for (unsigned int i = 0; i < nb; i++) {
		cum += h->slots[i];
		count(out, d->name, "_bucket", s, "le", b->le[i], cum);
	}
	count(out, d->name, "_bucket", s, "le", "+Inf", h->count);
	head(out, d->name, "_sum", s, NULL, NULL);
	value(out, ks_hist_sum(s, h));
	ks_buf_ch(out, '\n');
	count(out, d->name, "_count", s, NULL, NULL, h->count);
}

static const char *type_name(enum ks_metric_type t)
{
	switch (t) {
	case KS_METRIC_COUNTER:
		return "counter";
	case KS_METRIC_GAUGE:
		return "gauge";
	case KS_METRIC_HIST:
		return "histogram";
	}
	return "untyped";
}

void ks_prom_text(struct ks_buf *out, const struct ks_metrics *r)
{
	struct bounds b;

	for (const struct ks_metric *m = ks_metrics_first(r); m; m = ks_metric_next(m)) {
		const struct ks_metric_desc *d = m->d;
		const struct ks_series *s = ks_series_first(m);

		if (!s)
			continue;
		ks_buf_str(out, "# HELP ");
		ks_buf_str(out, d->name);
		ks_buf_ch(out, ' ');
		help_text(out, d->help ? d->help : "");
		ks_buf_str(out, "\n# TYPE ");
		ks_buf_str(out, d->name);
		ks_buf_ch(out, ' ');
		ks_buf_str(out, type_name(d->type));
		ks_buf_ch(out, '\n');
		if (d->type == KS_METRIC_HIST)
			bounds_of(&b, d);
		for (; s; s = ks_series_next(s)) {
			if (d->type == KS_METRIC_HIST) {
				histogram(out, s, &b);
			} else if (d->type == KS_METRIC_GAUGE) {
				head(out, d->name, "", s, NULL, NULL);
				value(out, s->v.d);
				ks_buf_ch(out, '\n');
			} else if (d->scale) {
				/* kept in a smaller unit (ns): divided by the whole number
				 * of them per base unit, 3098268 ns reads 0.003098268 */
				head(out, d->name, "", s, NULL, NULL);
				value(out, (double)s->v.u / (double)(uint64_t)(1.0 / d->scale + 0.5));
				ks_buf_ch(out, '\n');
			} else {
				count(out, d->name, "", s, NULL, NULL, s->v.u);
			}
		}
	}
}
