// SPDX-License-Identifier: GPL-2.0
/* The terminal sink: libbpf-tools style columns, summary lines and ASCII histograms. */
#include <string.h>

#include "analyze/hist.h"
#include "sink/escape.h"
#include "sink/sink.h"
#include "sink/units.h"

/* An argument inside double quotes: its display form, with the quotes escaped too. */
static void quoted(struct ks_buf *out, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '"')
			continue;
		ks_escape(out, s + start, i - start);
		if (i < n)
			ks_buf_put(out, "\\\"", 2);
		start = i + 1;
	}
}

static void value_text(struct ks_buf *out, const struct ks_val *v);

/* A nested object inline: "key value, key value" (a top list), its drop count last. */
static void obj_text(struct ks_buf *out, const struct ks_obj *o)
{
	bool first = true;

	for (unsigned int i = 0; i < o->n; i++) {
		const struct ks_val *v = &o->v[i];
		const char *k = v->col ? v->col : v->key;

		if (!k)
			continue;
		if (!first)
			ks_buf_str(out, ", ");
		first = false;
		if (v->kkey)
			ks_escape(out, k, strlen(k));
		else
			ks_buf_str(out, k);
		ks_buf_ch(out, ' ');
		value_text(out, v);
	}
	if (o->dropped)
		ks_buf_printf(out, "%s(+%u not shown)", first ? "" : ", ", o->dropped);
}

/* Render one value as table text into @out (no padding). */
static void value_text(struct ks_buf *out, const struct ks_val *v)
{
	char tmp[16];

	switch (v->kind) {
	case KS_V_INT:
		ks_buf_i64(out, v->i);
		break;
	case KS_V_UINT:
		ks_buf_u64(out, v->u);
		break;
	case KS_V_HEX:
		ks_buf_printf(out, "0x%llx", (unsigned long long)v->u);
		break;
	case KS_V_OCT:
		ks_buf_printf(out, "0%llo", (unsigned long long)v->u);
		break;
	case KS_V_DOUBLE:
		ks_buf_printf(out, "%.1f", v->d);
		break;
	case KS_V_BOOL:
		ks_buf_str(out, v->u ? "yes" : "no");
		break;
	case KS_V_STR:
		ks_buf_put(out, v->s.p, v->s.n);
		break;
	case KS_V_KSTR:
		ks_escape(out, v->s.p, v->s.n);
		if (v->cut)
			ks_buf_str(out, "...");
		break;
	case KS_V_ARGV: {
		const char *p = v->s.p, *end = v->s.p + v->s.n;

		while (v->s.n) {
			size_t n = strnlen(p, end - p);

			/* quote what a reader could not split back: spaces, empty arguments, and
			 * quotes (["\"a", "b\""] would otherwise read as the one argument "a b") */
			if (!n || memchr(p, ' ', n) || memchr(p, '"', n)) {
				ks_buf_ch(out, '"');
				quoted(out, p, n);
				ks_buf_ch(out, '"');
			} else {
				ks_escape(out, p, n);
			}
			p += n;
			if (p >= end)
				break;
			p++;
			ks_buf_ch(out, ' ');
		}
		if (v->cut)
			ks_buf_str(out, " ...");
		break;
	}
	case KS_V_ERRNO:
		ks_buf_str(out, ks_errno_name(v->i, tmp, sizeof(tmp)));
		break;
	case KS_V_NS:
		ks_fmt_duration(out, v->u, 1);
		break;
	case KS_V_COUNT:
		ks_fmt_count(out, v->u);
		break;
	case KS_V_RATE:
		ks_fmt_rate(out, v->d);
		break;
	case KS_V_BYTES:
		ks_fmt_bytes(out, v->u);
		break;
	case KS_V_BYTE_RATE:
		ks_fmt_byte_rate(out, v->d);
		break;
	case KS_V_OBJ:
		obj_text(out, v->o);
		break;
	case KS_V_HIST:
		break;
	}
}

/* Values a record could not hold are said at the end of its line. */
static void dropped_note(struct ks_buf *o, const struct ks_rec *r)
{
	if (r->dropped)
		ks_buf_printf(o, "  [%u values dropped]", r->dropped);
}

/* Formatting into the side buffer first gives the width to pad to. */
static void pad_value(struct ks_sink *s, const struct ks_val *v)
{
	s->tmp.len = 0;
	value_text(&s->tmp, v);
	ks_buf_pad(&s->out, s->tmp.p, s->tmp.len, v->width);
}

static void header(struct ks_sink *s, const struct ks_rec *r)
{
	struct ks_buf *o = &s->out;
	bool first = true;

	if (s->timestamps) {
		ks_buf_pad(o, "TIME", 4, -8);
		first = false;
	}
	for (unsigned int i = 0; i < r->n; i++) {
		const struct ks_val *v = &r->v[i];

		if (!v->col)
			continue;
		if (!first)
			ks_buf_ch(o, ' ');
		first = false;
		ks_buf_pad(o, v->col, strlen(v->col), i + 1 == r->n && v->width < 0 ? 0 : v->width);
	}
	ks_buf_ch(o, '\n');
	s->last_header = r->group ? r->group : r->type;
}

static void row(struct ks_sink *s, const struct ks_rec *r)
{
	struct ks_buf *o = &s->out;
	bool first = true;

	if (!s->last_header || strcmp(s->last_header, r->group ? r->group : r->type))
		header(s, r);
	if (s->timestamps) {
		ks_clock_hms(s->clock, o, r->real_ns);
		first = false;
	}
	for (unsigned int i = 0; i < r->n; i++) {
		const struct ks_val *v = &r->v[i];

		if (!v->col)
			continue;
		if (!first)
			ks_buf_ch(o, ' ');
		first = false;
		if (!v->width) {
			value_text(o, v);
			continue;
		}
		pad_value(s, v);
	}
	dropped_note(o, r);
	ks_buf_ch(o, '\n');
}

static void line(struct ks_sink *s, const struct ks_rec *r)
{
	struct ks_buf *o = &s->out;
	bool first = true;

	s->last_header = NULL;
	if (s->timestamps) {
		ks_clock_hms(s->clock, o, r->real_ns);
		ks_buf_ch(o, ' ');
	}
	for (unsigned int i = 0; i < r->n; i++) {
		const struct ks_val *v = &r->v[i];

		if (!v->col)
			continue;
		if (!first)
			ks_buf_str(o, "  ");
		first = false;
		if (v->col[0]) {
			ks_buf_str(o, v->col);
			ks_buf_ch(o, ' ');
		}
		if (v->width)
			pad_value(s, v);
		else
			value_text(o, v);
	}
	dropped_note(o, r);
	ks_buf_ch(o, '\n');
}

/* A percentile of @h: a duration for time histograms, a plain number in their unit for
 * others (unit_ns 0: packet sizes in bytes). */
static void percentile(struct ks_buf *o, const struct ks_histv *h, double p)
{
	double v = ks_hist_percentile(h->slots, h->nslots, p);

	if (h->unit_ns > 0)
		ks_fmt_duration(o, v, h->unit_ns);
	else if (v < 0)
		ks_buf_str(o, "-");
	else
		ks_buf_printf(o, "%.0f %s", v, h->unit);
}

static void block(struct ks_sink *s, const struct ks_rec *r)
{
	struct ks_buf *o = &s->out;

	s->last_header = NULL;
	for (unsigned int i = 0; i < r->n; i++) {
		const struct ks_val *v = &r->v[i];
		const struct ks_histv *h = v->h;

		if (!v->col)
			continue;
		if (v->kind != KS_V_HIST) {
			ks_buf_str(o, v->col);
			ks_buf_str(o, " = ");
			value_text(o, v);
			ks_buf_ch(o, '\n');
			continue;
		}
		ks_hist_print(o, h->slots, h->nslots, h->unit);
		ks_buf_str(o, "p50 ");
		percentile(o, h, 50);
		ks_buf_str(o, "  p90 ");
		percentile(o, h, 90);
		ks_buf_str(o, "  p99 ");
		percentile(o, h, 99);
		ks_buf_printf(o, "  count %llu\n\n",
			      (unsigned long long)ks_hist_total(h->slots, h->nslots));
	}
	if (r->dropped) {
		dropped_note(o, r);
		ks_buf_ch(o, '\n');
	}
}

static void table_emit(struct ks_sink *s, const struct ks_rec *r)
{
	switch (r->style) {
	case KS_REC_LINE:
		line(s, r);
		break;
	case KS_REC_BLOCK:
		block(s, r);
		break;
	default:
		row(s, r);
	}
}

/* Each interval's report starts with its time and its own column header. */
static void table_mark(struct ks_sink *s, int64_t real_ns)
{
	ks_buf_str(&s->out, "\n[");
	ks_clock_hms(s->clock, &s->out, real_ns);
	ks_buf_str(&s->out, "]\n");
	s->last_header = NULL;
}

/* Tools: events and reports; the agent: its summary lines (its loss line among them). */
const struct ks_sink_ops ks_table_ops = {
	.name = "table",
	.help = "columns, summary lines and histograms for a terminal",
	.kinds = { KS_KIND(KS_K_EVENT) | KS_KIND(KS_K_REPORT), KS_KIND(KS_K_SUMMARY) },
	.stdout_only = true,
	.emit = table_emit,
	.mark = table_mark,
};
