// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --metrics: the keys of a metric that name its probe's fields (labels, the
 * histogram's value, the filter) and its buckets, checked against the probe and compiled
 * into the metric's struct trace_conf as ksight trace's options are. A field is anything
 * trace offers, a raw tracepoint's member paths included; an error inside a field's or a
 * filter's text points at its character in the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/metrics_yaml.h"

/* Byte @col of scalar @n's text, in the file: past its opening quote; a scalar of several
 * lines is named by its start, with the column inside it said. */
__attribute__((format(printf, 4, 5))) static int err_in(struct ym_parser *p,
							const yaml_node_t *n, size_t col,
							const char *fmt, ...)
{
	size_t c = n->start_mark.column + col, k;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		c++;
	if (n->start_mark.line == n->end_mark.line)
		return ym_err_at(p, n->start_mark.line, c, "%s", msg);
	k = strcspn(msg, ":");
	return ym_err(p, n, "%.*s: column %zu%s", (int)k, msg, col + 1, msg + k);
}

/*
 * Field @s (scalar @n, for @key) of the metric's probe: its index in conf.f, or -1 said.
 * A raw tracepoint's member path that does not resolve points at the member to blame.
 */
static int field(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n,
		 const char *key, const char *s)
{
	char why[256];
	size_t col = 0;
	int i = trace_conf_field_why(&m->conf, &m->p, s, strlen(s), &col, why, sizeof(why));

	if (i == -1)
		return ym_err(p, n, "unknown field '%s' of %s", s, m->probe);
	if (i == -3)
		return err_in(p, n, col, "%s: %s: %s", key, s, why);
	if (i < 0)
		return ym_err(p, n, "more than %d fields in all", TRACE_FIELDS);
	return i;
}

/* One label: NAME (the field of that name) or NAME: FIELD. */
static int add_label(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *kn,
		     const yaml_node_t *fn, int *idx)
{
	const char *label = ym_scalar(kn), *fld = ym_scalar(fn);
	int i;

	if (!label || !fld || !*label || !*fld)
		return ym_err(p, fn ? fn : kn, "a label is a field name, or LABEL: FIELD");
	if (m->nlabels >= KS_LABELS_MAX)
		return ym_err(p, kn, "%d labels at most", KS_LABELS_MAX);
	if (kn == fn && m->p.kind == TRACE_P_RAW && strcspn(label, ".-") < strlen(label))
		return ym_err(p, kn, "'%s' is a member path: name its label ({LABEL: %s})",
			      label, label);
	if (!ym_ident(label) || !strncmp(label, "__", 2) || !strcmp(label, "le"))
		return ym_err(p, kn, "bad label name '%s'", label);
	for (int k = 0; k < m->nlabels; k++)
		if (!strcmp(m->labels[k], label))
			return ym_err(p, kn, "label '%s' twice", label);
	i = field(p, m, fn, "labels", fld);
	if (i < 0)
		return -1;
	snprintf(m->labels[m->nlabels], sizeof(m->labels[0]), "%s", label);
	idx[m->nlabels++] = i;
	return 0;
}

int ym_labels(struct ym_parser *p, struct ym_metric *m, yaml_node_t *n)
{
	int idx[KS_LABELS_MAX];

	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(p->doc, *it);

			if (add_label(p, m, e, e, idx))
				return -1;
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     pr < n->data.mapping.pairs.top; pr++)
			if (add_label(p, m, yaml_document_get_node(p->doc, pr->key),
				      yaml_document_get_node(p->doc, pr->value), idx))
				return -1;
	} else if (ym_scalar(n) && *ym_scalar(n)) {
		if (add_label(p, m, n, n, idx))
			return -1;
	} else {
		return ym_err(p, n, "labels: a list of fields ([comm, pid]) or LABEL: FIELD pairs");
	}
	for (int i = 0; i < m->nlabels; i++) {
		const struct trace_field *f = &m->conf.f[idx[i]];

		m->conf.k[i].field = idx[i];
		m->conf.k[i].off = m->keylen;
		m->conf.k[i].len = trace_field_str(f) ? f->size : 8;
		m->keylen += m->conf.k[i].len;
	}
	m->conf.nkeys = m->nlabels;
	return 0;
}

/* The filter, its errors at their character in the file (one-line scalars). */
int ym_filter(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n, const char *s)
{
	char why[512];
	int col = 0, at = 0;

	if (!trace_filter_compile(s, &m->conf, &m->p, why, sizeof(why)))
		return 0;
	if (sscanf(why, "--filter: column %d: %n", &col, &at) == 1 && at && col > 0)
		return err_in(p, n, col - 1, "filter: %s", why + at);
	return ym_err(p, n, "%s", why);
}

int ym_value(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n)
{
	const char *s;
	int i;

	if (ym_want(p, n, "value", &s))
		return -1;
	i = field(p, m, n, "value", s);
	if (i < 0)
		return -1;
	if (trace_field_str(&m->conf.f[i]))
		return ym_err(p, n, "'%s' is a string, not a number", s);
	m->conf.hist = 1;
	m->conf.hist_field = i;
	m->conf.hkey = 1;
	m->conf.hkey_off = m->keylen;
	m->keylen += 8;
	return 0;
}

/* An integer of the linear layout (observed units, the field's own). */
static int lin_int(struct ym_parser *p, const yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = ym_scalar(n);
	char *end;

	if (!s || !*s)
		return ym_err(p, n, "linear: '%s' takes one whole number", key);
	errno = 0;
	*out = strtoll(s, &end, 0);
	if (*end || errno)
		return ym_err(p, n, "linear: %s '%s' is not a whole number (64-bit)", key, s);
	return 0;
}

/*
 * buckets: log2 (the default), or {linear: {min: A, max: B, step: S}}: a bucket for
 * values <= A, then one per S up to B (le A+S, A+2S ... B), then +Inf (metrics.h's linear
 * layout). The kernel takes the first as values below A + 1 (trace.h).
 */
int ym_buckets(struct ym_parser *p, struct ym_metric *m, yaml_node_t *n)
{
	yaml_node_t *lin = NULL, *at[3] = { NULL };
	static const char *const names[] = { "min", "max", "step" };
	int64_t v[3];
	uint64_t width;

	if (ym_scalar(n) && !strcmp(ym_scalar(n), "log2"))
		return 0;
	if (n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
		yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		const char *key = ym_scalar(yaml_document_get_node(p->doc, pr->key));

		if (key && !strcmp(key, "linear"))
			lin = yaml_document_get_node(p->doc, pr->value);
	}
	if (!lin || lin->type != YAML_MAPPING_NODE)
		return ym_err(p, lin ? lin : n,
			      "buckets: log2, or {linear: {min: A, max: B, step: S}}");
	for (yaml_node_pair_t *pr = lin->data.mapping.pairs.start;
	     pr < lin->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
		int i;

		for (i = 0; i < 3 && (!ym_scalar(kn) || strcmp(ym_scalar(kn), names[i])); i++)
			;
		if (i == 3)
			return ym_err(p, kn, "linear: unknown key '%s' (min, max, step)",
				      ym_scalar(kn) ? ym_scalar(kn) : "?");
		at[i] = yaml_document_get_node(p->doc, pr->value);
	}
	for (int i = 0; i < 3; i++) {
		if (!at[i])
			return ym_err(p, lin, "linear: needs min, max and step");
		if (lin_int(p, at[i], names[i], &v[i]))
			return -1;
	}
	if (v[2] <= 0)
		return ym_err(p, at[2], "linear: step must be above 0, not %" PRId64, v[2]);
	if (v[1] <= v[0])
		return ym_err(p, at[1], "linear: max (%" PRId64 ") must be above min (%" PRId64 ")",
			      v[1], v[0]);
	if (v[0] < 0 && !m->conf.f[m->conf.hist_field].is_signed)
		return ym_err(p, at[0], "linear: min below 0, but the value is an unsigned field");
	width = (uint64_t)v[1] - (uint64_t)v[0];
	if (width % (uint64_t)v[2])
		return ym_err(p, at[2], "linear: max - min (%" PRIu64 ") is not a multiple of step",
			      width);
	if (width / (uint64_t)v[2] > KS_HIST_LINEAR_MAX)
		return ym_err(p, at[2], "linear: %" PRIu64 " buckets, %d at most (the kernel's "
			      "slots: with the first and +Inf, %d)", width / (uint64_t)v[2],
			      KS_HIST_LINEAR_MAX, KS_HIST_SLOTS);
	m->d.buckets = (struct ks_hist_buckets){ .layout = KS_HIST_LINEAR,
						 .count = width / (uint64_t)v[2],
						 .min = v[0], .step = v[2] };
	m->conf.hist = 2;
	m->conf.hist_lo = v[0] + 1;	/* max > min: no overflow */
	m->conf.hist_step = v[2];
	m->conf.hist_top = m->d.buckets.count + 1;
	return 0;
}
