// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --metrics FILE: the YAML file, through libyaml's document API (every node
 * keeps its line and column), checked whole before anything loads: names, probes (the
 * tracepoint's format file, the binary's function or USDT probe), label fields, the
 * histogram's value and the filter, compiled into each metric's struct trace_conf. Every
 * error is "FILE:LINE:COL: reason"; a filter's points at the character in the file.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "modules/metrics_int.h"

struct yp {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t len;
};

__attribute__((format(printf, 4, 5))) static int perr_at(struct yp *p, size_t line,
							 size_t col, const char *fmt, ...)
{
	size_t k = snprintf(p->err, p->len, "%s:%zu:%zu: ", p->file, line + 1, col + 1);
	va_list ap;

	if (k < p->len) {
		va_start(ap, fmt);
		vsnprintf(p->err + k, p->len - k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define perr(p, n, ...) perr_at(p, (n)->start_mark.line, (n)->start_mark.column, __VA_ARGS__)

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int want(struct yp *p, const yaml_node_t *n, const char *key, const char **out)
{
	*out = scalar(n);
	if (!*out)
		return perr(p, n, "'%s' takes one value", key);
	if (!**out)
		return perr(p, n, "'%s' is empty", key);
	return 0;
}

static bool ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* The name: a Prometheus name, ksight_ put before it unless there already. */
static int set_name(struct yp *p, struct ks_ymetrics *ym, struct ym_metric *m,
		    const yaml_node_t *n, const char *s)
{
	if (!ident(s) || !strncmp(s, "__", 2))
		return perr(p, n, "bad name '%s' (letters, digits and _, not starting with a "
			    "digit or __)", s);
	snprintf(m->name, sizeof(m->name), "%s%s", strncmp(s, "ksight_", 7) ? "ksight_" : "",
		 s);
	for (struct ym_metric *o = ym->v; o < m; o++)
		if (!strcmp(o->name, m->name))
			return perr(p, n, "%s: a second metric of this name", m->name);
	return 0;
}

/* One label: NAME (the field of that name) or NAME: FIELD. */
static int add_label(struct yp *p, struct ym_metric *m, const yaml_node_t *kn,
		     const yaml_node_t *fn, int *idx)
{
	const char *label = scalar(kn), *field = scalar(fn);
	int i;

	if (!label || !field || !*label || !*field)
		return perr(p, fn ? fn : kn, "a label is a field name, or LABEL: FIELD");
	if (m->nlabels >= KS_LABELS_MAX)
		return perr(p, kn, "%d labels at most", KS_LABELS_MAX);
	if (!ident(label) || !strncmp(label, "__", 2) || !strcmp(label, "le"))
		return perr(p, kn, "bad label name '%s'", label);
	for (int k = 0; k < m->nlabels; k++)
		if (!strcmp(m->labels[k], label))
			return perr(p, kn, "label '%s' twice", label);
	i = trace_conf_field(&m->conf, &m->p, field, strlen(field));
	if (i == -1)
		return perr(p, fn, "unknown field '%s' of %s", field, m->probe);
	if (i < 0)
		return perr(p, fn, "more than %d fields in all", TRACE_FIELDS);
	snprintf(m->labels[m->nlabels], sizeof(m->labels[0]), "%s", label);
	idx[m->nlabels++] = i;
	return 0;
}

static int labels(struct yp *p, struct ym_metric *m, yaml_node_t *n)
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
	} else if (scalar(n) && *scalar(n)) {
		if (add_label(p, m, n, n, idx))
			return -1;
	} else {
		return perr(p, n, "labels: a list of fields ([comm, pid]) or LABEL: FIELD pairs");
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
static int filter(struct yp *p, struct ym_metric *m, const yaml_node_t *n, const char *s)
{
	char why[512];
	int col = 0, at = 0;

	if (!trace_filter_compile(s, &m->conf, &m->p, why, sizeof(why)))
		return 0;
	if (sscanf(why, "--filter: column %d: %n", &col, &at) == 1 && at && col > 0) {
		size_t c = n->start_mark.column + col - 1;

		if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			c++;
		if (n->start_mark.line == n->end_mark.line)
			return perr_at(p, n->start_mark.line, c, "filter: %s", why + at);
		return perr(p, n, "filter: column %d: %s", col, why + at);
	}
	return perr(p, n, "%s", why);
}

struct keys {
	yaml_node_t *name, *help, *type, *probe, *labels, *filter, *value, *unit, *scale,
		*budget, *buckets;
};

static int collect_keys(struct yp *p, yaml_node_t *n, struct keys *k)
{
	static const char *const names[] = { "name", "help", "type", "probe", "labels",
					     "filter", "value", "unit", "scale", "budget",
					     "buckets", NULL };

	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, "a metric is a mapping (name, type, probe, labels, ...)");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
		const char *key = scalar(kn);
		int i;

		for (i = 0; key && names[i]; i++)
			if (!strcmp(key, names[i]))
				break;
		if (!key || !names[i])
			return perr(p, kn, "unknown key '%s' (name, help, type, probe, labels, "
				    "filter, value, unit, scale, budget, buckets)", key ? key : "?");
		((yaml_node_t **)k)[i] = yaml_document_get_node(p->doc, pr->value);
	}
	if (!k->name)
		return perr(p, n, "a metric needs a name");
	if (!k->type)
		return perr(p, n, "a metric needs a type (counter or histogram)");
	if (!k->probe)
		return perr(p, n, "a metric needs a probe (CATEGORY:NAME, u:PATH:FUNCTION, "
			    "usdt:PATH:PROVIDER:NAME, kfunc:FUNCTION)");
	return 0;
}

/* type, unit, scale and value: what the metric is and how it is named. */
static int kind(struct yp *p, struct ym_metric *m, const struct keys *k)
{
	const char *s;
	char *end;

	if (want(p, k->type, "type", &s))
		return -1;
	if (strcmp(s, "counter") && strcmp(s, "histogram"))
		return perr(p, k->type, "type is counter or histogram, not '%s'", s);
	m->hist = !strcmp(s, "histogram");
	m->d.type = m->hist ? KS_METRIC_HIST : KS_METRIC_COUNTER;
	m->d.scale = m->hist ? 1 : 0;
	if (!m->hist) {
		if (k->value || k->unit || k->scale || k->buckets)
			return perr(p, k->value ? k->value : k->unit ? k->unit :
				    k->scale ? k->scale : k->buckets,
				    "value, unit, scale and buckets are a histogram's");
		if (!ends_with(m->name, "_total"))
			return perr(p, k->name, "a counter's name ends in _total");
		return 0;
	}
	if (ends_with(m->name, "_total"))
		return perr(p, k->name, "a histogram's name does not end in _total");
	if (k->unit) {
		if (want(p, k->unit, "unit", &s))
			return -1;
		if (strcmp(s, "seconds") && strcmp(s, "bytes"))
			return perr(p, k->unit, "unit is seconds or bytes, not '%s'", s);
		snprintf(m->unit, sizeof(m->unit), "%s", s);
		m->d.unit = m->unit;
		if (!ends_with(m->name, s) || m->name[strlen(m->name) - strlen(s) - 1] != '_')
			return perr(p, k->name, "a histogram in %s: its name ends in _%s", s, s);
	}
	if (k->scale) {
		if (want(p, k->scale, "scale", &s))
			return -1;
		errno = 0;
		m->d.scale = strtod(s, &end);
		if (*end || errno || !(m->d.scale > 0))
			return perr(p, k->scale, "scale is a number above 0 (1e-9: the value is "
				    "in ns, shown in seconds)");
		if (!k->unit && m->d.scale != 1)
			return perr(p, k->scale, "a scale needs a unit (seconds or bytes)");
	}
	if (!k->value)
		return perr(p, k->type, "a histogram needs value: FIELD (a number)");
	return 0;
}

static int value(struct yp *p, struct ym_metric *m, const yaml_node_t *n)
{
	const char *s;
	int i;

	if (want(p, n, "value", &s))
		return -1;
	i = trace_conf_field(&m->conf, &m->p, s, strlen(s));
	if (i == -1)
		return perr(p, n, "unknown field '%s' of %s", s, m->probe);
	if (i < 0)
		return perr(p, n, "more than %d fields in all", TRACE_FIELDS);
	if (trace_field_str(&m->conf.f[i]))
		return perr(p, n, "'%s' is a string, not a number", s);
	m->conf.hist = 1;
	m->conf.hist_field = i;
	m->conf.hkey = 1;
	m->conf.hkey_off = m->keylen;
	m->keylen += 8;
	return 0;
}

/* An integer of the linear layout (observed units, the field's own). */
static int lin_int(struct yp *p, const yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = scalar(n);
	char *end;

	if (!s || !*s)
		return perr(p, n, "linear: '%s' takes one whole number", key);
	errno = 0;
	*out = strtoll(s, &end, 0);
	if (*end || errno)
		return perr(p, n, "linear: %s '%s' is not a whole number (64-bit)", key, s);
	return 0;
}

/*
 * buckets: log2 (the default), or {linear: {min: A, max: B, step: S}}: a bucket for
 * values <= A, then one per S up to B (le A+S, A+2S ... B), then +Inf (metrics.h's linear
 * layout). The kernel takes the first as values below A + 1 (trace.h).
 */
static int buckets(struct yp *p, struct ym_metric *m, yaml_node_t *n)
{
	yaml_node_t *lin = NULL, *at[3] = { NULL };
	static const char *const names[] = { "min", "max", "step" };
	int64_t v[3];
	uint64_t width;

	if (scalar(n) && !strcmp(scalar(n), "log2"))
		return 0;
	if (n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
		yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		const char *key = scalar(yaml_document_get_node(p->doc, pr->key));

		if (key && !strcmp(key, "linear"))
			lin = yaml_document_get_node(p->doc, pr->value);
	}
	if (!lin || lin->type != YAML_MAPPING_NODE)
		return perr(p, lin ? lin : n,
			    "buckets: log2, or {linear: {min: A, max: B, step: S}}");
	for (yaml_node_pair_t *pr = lin->data.mapping.pairs.start;
	     pr < lin->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
		int i;

		for (i = 0; i < 3 && (!scalar(kn) || strcmp(scalar(kn), names[i])); i++)
			;
		if (i == 3)
			return perr(p, kn, "linear: unknown key '%s' (min, max, step)",
				    scalar(kn) ? scalar(kn) : "?");
		at[i] = yaml_document_get_node(p->doc, pr->value);
	}
	for (int i = 0; i < 3; i++) {
		if (!at[i])
			return perr(p, lin, "linear: needs min, max and step");
		if (lin_int(p, at[i], names[i], &v[i]))
			return -1;
	}
	if (v[2] <= 0)
		return perr(p, at[2], "linear: step must be above 0, not %" PRId64, v[2]);
	if (v[1] <= v[0])
		return perr(p, at[1], "linear: max (%" PRId64 ") must be above min (%" PRId64 ")",
			    v[1], v[0]);
	if (v[0] < 0 && !m->conf.f[m->conf.hist_field].is_signed)
		return perr(p, at[0], "linear: min below 0, but the value is an unsigned field");
	width = (uint64_t)v[1] - (uint64_t)v[0];
	if (width % (uint64_t)v[2])
		return perr(p, at[2], "linear: max - min (%" PRIu64 ") is not a multiple of step",
			    width);
	if (width / (uint64_t)v[2] > KS_HIST_LINEAR_MAX)
		return perr(p, at[2], "linear: %" PRIu64 " buckets, %d at most (the kernel's "
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

static int metric(struct yp *p, struct ks_ymetrics *ym, struct ym_metric *m, yaml_node_t *n)
{
	struct keys k = { 0 };
	const char *s;
	char why[512];

	if (collect_keys(p, n, &k) || want(p, k.name, "name", &s) || set_name(p, ym, m, k.name, s))
		return -1;
	if (kind(p, m, &k))
		return -1;
	snprintf(m->help, sizeof(m->help), "%s", m->name);
	if (k.help && !want(p, k.help, "help", &s))
		snprintf(m->help, sizeof(m->help), "%s", s);
	else if (k.help)
		return -1;
	if (k.budget) {
		char *end;
		unsigned long b;

		if (want(p, k.budget, "budget", &s))
			return -1;
		b = strtoul(s, &end, 10);
		if (*end || !b || b > 100000)
			return perr(p, k.budget, "budget is a number of series, 1 to 100000");
		m->d.budget = b;
	}
	if (want(p, k.probe, "probe", &s))
		return -1;
	snprintf(m->probe, sizeof(m->probe), "%s", s);
	if (trace_probe_parse(s, &m->p, why, sizeof(why)))
		return perr(p, k.probe, "%s", why);
	if (m->p.kind == TRACE_P_RAW)
		return perr(p, k.probe, "%s: raw tracepoints are for ksight trace only", s);
	/* the names are checked against the system by root only (tracefs) */
	if (geteuid() == 0 && trace_probe_load(&m->p, s, why, sizeof(why)))
		return perr(p, k.probe, "%s", why);
	if (geteuid() != 0)
		return 0;
	/* a kernel function: fentry or kprobe, chosen now; neither: a missing feature, not
	 * bad input: the metric is left out at start (said), the rest runs */
	if (m->p.kind == TRACE_P_KFUNC && trace_kfunc_choose(&m->p, s, why, sizeof(why)))
		snprintf(m->missing, sizeof(m->missing), "%s", why);
	if (k.labels && labels(p, m, k.labels))
		return -1;
	if (m->hist && value(p, m, k.value))
		return -1;
	if (k.buckets && buckets(p, m, k.buckets))
		return -1;
	if (k.filter) {
		if (want(p, k.filter, "filter", &s) || filter(p, m, k.filter, s))
			return -1;
	}
	m->d.name = m->name;
	m->d.help = m->help;
	for (int i = 0; i < m->nlabels; i++)
		m->d.labels[i] = m->labels[i];
	return 0;
}

static int document(struct yp *p, struct ks_ymetrics *ym, yaml_node_t *root)
{
	yaml_node_t *list = NULL;

	if (!root)
		return perr_at(p, 0, 0, "the file is empty (metrics: a list of metrics)");
	if (root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);

			if (!scalar(kn) || strcmp(scalar(kn), "metrics"))
				return perr(p, kn, "unknown key '%s' (metrics: a list of metrics)",
					    scalar(kn) ? scalar(kn) : "?");
			list = yaml_document_get_node(p->doc, pr->value);
		}
	}
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return perr(p, list ? list : root, "expected metrics: a list of metrics");
	int n = list->data.sequence.items.top - list->data.sequence.items.start;

	if (!n)
		return perr(p, list, "no metrics");
	if (n > YM_MAX)
		return perr(p, list, "%d metrics at most", YM_MAX);
	ym->v = calloc(n, sizeof(*ym->v));
	if (!ym->v)
		return perr(p, list, "out of memory");
	for (int i = 0; i < n; i++) {
		yaml_node_t *e = yaml_document_get_node(p->doc, list->data.sequence.items.start[i]);

		if (metric(p, ym, &ym->v[i], e))
			return -1;
		ym->n = i + 1;
	}
	return 0;
}

int ym_parse(struct ks_ymetrics *ym, const char *text, size_t n, char *err, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yp p = { ym->path, &doc, err, len };
	int rc;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, len, "%s: cannot start the YAML parser", ym->path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.context_mark;

		perr_at(&p, m->line, m->column, "%s%s%s",
			parser.problem ? parser.problem : "bad YAML",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	rc = document(&p, ym, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
