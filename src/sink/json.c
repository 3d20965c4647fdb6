// SPDX-License-Identifier: GPL-2.0
/*
 * JSON lines: one object per record. Every object has "type" and "ts" (RFC 3339, ns);
 * records about a task add pid, tid, comm, service and cgroup (the cgroup v2 id): the
 * current task's, or the owner the producer named (KS_HDR_F_OWNER); a record made with no
 * task (KS_HDR_F_NOTASK) has none of them. Kernel
 * strings are written in their exact, lossless JSON form (escape.h), so every line is
 * valid JSON whatever the kernel handed over and a consumer gets the bytes back.
 */
#include <math.h>
#include <string.h>

#include "analyze/hist.h"
#include "sink/escape.h"
#include "sink/sink.h"

static void key(struct ks_buf *o, const char *k)
{
	ks_buf_str(o, ",\"");
	ks_buf_str(o, k);
	ks_buf_str(o, "\":");
}

static void number(struct ks_buf *o, double d)
{
	if (isfinite(d))
		ks_buf_printf(o, "%.6g", d);
	else
		ks_buf_str(o, "null");
}

/* A value's key, after a comma unless it is the first of its object. */
static void val_key(struct ks_buf *o, const struct ks_val *v, bool first)
{
	if (!first)
		ks_buf_ch(o, ',');
	if (v->kkey) {
		ks_json_str(o, v->key, strlen(v->key));
	} else {
		ks_buf_ch(o, '"');
		ks_buf_str(o, v->key);
		ks_buf_ch(o, '"');
	}
	ks_buf_ch(o, ':');
}

/* A rate: three decimals at most, trailing zeros dropped ("12.5", "30168318.5"). */
static void rate(struct ks_buf *o, double d)
{
	if (!isfinite(d) || fabs(d) >= 1e15) {
		number(o, d);
		return;
	}
	if (fabs(d) < 0.0005) {
		ks_buf_ch(o, '0');	/* never "-0" */
		return;
	}
	ks_buf_printf(o, "%.3f", d);
	while (o->p[o->len - 1] == '0')
		o->len--;
	if (o->p[o->len - 1] == '.')
		o->len--;
}


static void hist(struct ks_buf *o, const struct ks_histv *h)
{
	bool first = true;
	int last = -1;

	for (unsigned int i = 0; i < h->nslots; i++)
		if (h->slots[i])
			last = i;
	ks_buf_str(o, "{\"unit\":\"");
	ks_buf_str(o, h->unit);
	ks_buf_str(o, "\",\"count\":");
	ks_buf_u64(o, ks_hist_total(h->slots, h->nslots));
	ks_buf_str(o, ",\"buckets\":[");
	for (int i = 0; i <= last; i++) {
		uint64_t lo, hi;

		if (!h->slots[i])
			continue;
		ks_hist_bounds(i, &lo, &hi);
		ks_buf_str(o, first ? "{\"lo\":" : ",{\"lo\":");
		first = false;
		ks_buf_u64(o, lo);
		ks_buf_str(o, ",\"hi\":");
		ks_buf_u64(o, hi);
		ks_buf_str(o, ",\"count\":");
		ks_buf_u64(o, h->slots[i]);
		ks_buf_ch(o, '}');
	}
	ks_buf_str(o, "]");
	static const double ps[] = { 50, 90, 99 };
	static const char *const names[] = { "p50", "p90", "p99" };
	for (int i = 0; i < 3; i++) {
		double v = ks_hist_percentile(h->slots, h->nslots, ps[i]);

		key(o, names[i]);
		if (v < 0)
			ks_buf_str(o, "null");
		else
			number(o, v);
	}
	ks_buf_ch(o, '}');
}

static void values(struct ks_buf *o, const struct ks_val *v, unsigned int n,
		   unsigned int dropped, bool first);

static void value(struct ks_buf *o, const struct ks_val *v)
{
	char tmp[16];

	switch (v->kind) {
	case KS_V_INT:
		ks_buf_i64(o, v->i);
		break;
	case KS_V_UINT:
	case KS_V_HEX:
	case KS_V_OCT:
	case KS_V_NS:
	case KS_V_COUNT:
	case KS_V_BYTES:
		ks_buf_u64(o, v->u);
		break;
	case KS_V_RATE:
	case KS_V_BYTE_RATE:
		rate(o, v->d);
		break;
	case KS_V_OBJ:
		ks_buf_ch(o, '{');
		values(o, v->o->v, v->o->n, v->o->dropped, true);
		ks_buf_ch(o, '}');
		break;
	case KS_V_DOUBLE:
		number(o, v->d);
		break;
	case KS_V_BOOL:
		ks_buf_str(o, v->u ? "true" : "false");
		break;
	case KS_V_STR:
	case KS_V_KSTR:
		if (v->s.p)
			ks_json_str(o, v->s.p, v->s.n);
		else
			ks_buf_str(o, "null");	/* unknown */
		break;
	case KS_V_ARGV: {
		const char *p = v->s.p, *end = v->s.p + v->s.n;

		ks_buf_ch(o, '[');
		while (v->s.n) {
			size_t n = strnlen(p, end - p);

			ks_json_str(o, p, n);
			p += n;
			if (p >= end)
				break;
			p++;
			ks_buf_ch(o, ',');
		}
		ks_buf_ch(o, ']');
		break;
	}
	case KS_V_ERRNO:
		ks_buf_ch(o, '"');
		ks_buf_str(o, ks_errno_name(v->i, tmp, sizeof(tmp)));
		ks_buf_ch(o, '"');
		break;
	case KS_V_HIST:
		hist(o, v->h);
		break;
	}
}

static void json_emit(struct ks_sink *s, const struct ks_rec *r)
{
	struct ks_buf *o = &s->out;

	ks_buf_str(o, "{\"type\":\"");
	ks_buf_str(o, r->type);
	ks_buf_str(o, "\",\"ts\":\"");
	ks_clock_rfc3339(s->clock, o, r->real_ns);
	ks_buf_ch(o, '"');
	/* a record made with no task current (an interrupt, a timer) has no task fields */
	if (r->hdr && !(r->hdr->flags & KS_HDR_F_NOTASK)) {
		key(o, "pid");
		ks_buf_u64(o, r->hdr->pid);
		key(o, "tid");
		ks_buf_u64(o, r->hdr->tid);
		key(o, "comm");
		ks_json_str(o, r->hdr->comm, sizeof(r->hdr->comm));
		key(o, "service");
		if (r->service)
			ks_json_str(o, r->service, strlen(r->service));
		else
			ks_buf_str(o, "null");
		key(o, "cgroup");
		ks_buf_u64(o, r->hdr->cgroup);
	}
	values(o, r->v, r->n, r->dropped, false);
	ks_buf_str(o, "}\n");
}

/* The keyed values of an object, then "values_dropped" if some did not fit. */
static void values(struct ks_buf *o, const struct ks_val *v, unsigned int n,
		   unsigned int dropped, bool first)
{
	for (unsigned int i = 0; i < n; i++) {
		if (!v[i].key)
			continue;	/* a table-only column */
		val_key(o, &v[i], first);
		first = false;
		value(o, &v[i]);
	}
	if (dropped) {
		if (!first)
			ks_buf_ch(o, ',');
		ks_buf_str(o, "\"values_dropped\":");
		ks_buf_u64(o, dropped);
	}
}

const struct ks_sink_ops ks_json_ops = {
	.name = "json",
	.help = "one JSON object per record and line",
	.kinds = { KS_KINDS_ALL, KS_KINDS_ALL },
	.needs_service = true,
	.emit = json_emit,
};
