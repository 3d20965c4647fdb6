// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --metrics FILE: the YAML file, through libyaml's document API (every node
 * keeps its line and column), checked whole before anything loads: names, types, probes
 * (the tracepoint's format file, the binary's function or USDT probe, a raw tracepoint's
 * BTF prototype) and, through metrics_fields.c, label fields, the histogram's value and
 * the filter, compiled into each metric's struct trace_conf. Every error is
 * "FILE:LINE:COL: reason".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "modules/metrics_yaml.h"

int ym_err_at(struct ym_parser *p, size_t line, size_t col, const char *fmt, ...)
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

const char *ym_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int ym_want(struct ym_parser *p, const yaml_node_t *n, const char *key, const char **out)
{
	*out = ym_scalar(n);
	if (!*out)
		return ym_err(p, n, "'%s' takes one value", key);
	if (!**out)
		return ym_err(p, n, "'%s' is empty", key);
	return 0;
}

bool ym_ident(const char *s)
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
static int set_name(struct ym_parser *p, struct ks_ymetrics *ym, struct ym_metric *m,
		    const yaml_node_t *n, const char *s)
{
	if (!ym_ident(s) || !strncmp(s, "__", 2))
		return ym_err(p, n, "bad name '%s' (letters, digits and _, not starting with a "
			      "digit or __)", s);
	snprintf(m->name, sizeof(m->name), "%s%s", strncmp(s, "ksight_", 7) ? "ksight_" : "",
		 s);
	for (struct ym_metric *o = ym->v; o < m; o++)
		if (!strcmp(o->name, m->name))
			return ym_err(p, n, "%s: a second metric of this name", m->name);
	return 0;
}

struct keys {
	yaml_node_t *name, *help, *type, *probe, *labels, *filter, *value, *unit, *scale,
		*budget, *buckets, *hooks;
};

static int collect_keys(struct ym_parser *p, yaml_node_t *n, struct keys *k)
{
	static const char *const names[] = { "name", "help", "type", "probe", "labels",
					     "filter", "value", "unit", "scale", "budget",
					     "buckets", "hooks", NULL };

	if (n->type != YAML_MAPPING_NODE)
		return ym_err(p, n, "a metric is a mapping (name, type, probe, labels, ...)");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
		const char *key = ym_scalar(kn);
		int i;

		for (i = 0; key && names[i]; i++)
			if (!strcmp(key, names[i]))
				break;
		if (!key || !names[i])
			return ym_err(p, kn, "unknown key '%s' (name, help, type, probe, labels, "
				      "filter, value, unit, scale, budget, buckets, hooks)",
				      key ? key : "?");
		((yaml_node_t **)k)[i] = yaml_document_get_node(p->doc, pr->value);
	}
	if (!k->name)
		return ym_err(p, n, "a metric needs a name");
	if (!k->type)
		return ym_err(p, n, "a metric needs a type (counter or histogram)");
	if (!k->probe)
		return ym_err(p, n, "a metric needs a probe (CATEGORY:NAME, u:PATH:FUNCTION, "
			      "usdt:PATH:PROVIDER:NAME, kfunc:FUNCTION, raw:CATEGORY:NAME)");
	return 0;
}

/* type, unit, scale and value: what the metric is and how it is named. */
static int kind(struct ym_parser *p, struct ym_metric *m, const struct keys *k)
{
	const char *s;
	char *end;

	if (ym_want(p, k->type, "type", &s))
		return -1;
	if (strcmp(s, "counter") && strcmp(s, "histogram"))
		return ym_err(p, k->type, "type is counter or histogram, not '%s'", s);
	m->hist = !strcmp(s, "histogram");
	m->d.type = m->hist ? KS_METRIC_HIST : KS_METRIC_COUNTER;
	m->d.scale = m->hist ? 1 : 0;
	if (!m->hist) {
		if (k->value || k->unit || k->scale || k->buckets)
			return ym_err(p, k->value ? k->value : k->unit ? k->unit :
				      k->scale ? k->scale : k->buckets,
				      "value, unit, scale and buckets are a histogram's");
		if (!ends_with(m->name, "_total"))
			return ym_err(p, k->name, "a counter's name ends in _total");
		return 0;
	}
	if (ends_with(m->name, "_total"))
		return ym_err(p, k->name, "a histogram's name does not end in _total");
	if (k->unit) {
		if (ym_want(p, k->unit, "unit", &s))
			return -1;
		if (strcmp(s, "seconds") && strcmp(s, "bytes"))
			return ym_err(p, k->unit, "unit is seconds or bytes, not '%s'", s);
		snprintf(m->unit, sizeof(m->unit), "%s", s);
		m->d.unit = m->unit;
		if (!ends_with(m->name, s) || m->name[strlen(m->name) - strlen(s) - 1] != '_')
			return ym_err(p, k->name, "a histogram in %s: its name ends in _%s", s, s);
	}
	if (k->scale) {
		if (ym_want(p, k->scale, "scale", &s))
			return -1;
		errno = 0;
		m->d.scale = strtod(s, &end);
		if (*end || errno || !(m->d.scale > 0))
			return ym_err(p, k->scale, "scale is a number above 0 (1e-9: the value is "
				      "in ns, shown in seconds)");
		if (!k->unit && m->d.scale != 1)
			return ym_err(p, k->scale, "a scale needs a unit (seconds or bytes)");
	}
	if (!k->value)
		return ym_err(p, k->type, "a histogram needs value: FIELD (a number)");
	return 0;
}

/* hooks: a raw tracepoint's family, as ksight trace's --hooks (tp_btf or raw_tp). */
static int raw_hooks(struct ym_parser *p, struct ym_metric *m, const yaml_node_t *n)
{
	const char *s;

	if (m->p.kind != TRACE_P_RAW)
		return ym_err(p, n, "hooks is a raw tracepoint's (raw:CATEGORY:NAME)");
	if (ym_want(p, n, "hooks", &s))
		return -1;
	if (!strcmp(s, "tp_btf"))
		m->p.hooks = KS_HOOKS_TP_BTF;
	else if (!strcmp(s, "raw_tp"))
		m->p.hooks = KS_HOOKS_RAW_TP;
	else if (strcmp(s, "auto"))
		return ym_err(p, n, "hooks: a raw tracepoint is tp_btf, raw_tp or auto, not '%s'",
			      s);
	return 0;
}

static int metric(struct ym_parser *p, struct ks_ymetrics *ym, struct ym_metric *m,
		  yaml_node_t *n)
{
	struct keys k = { 0 };
	const char *s;
	char why[512];

	if (collect_keys(p, n, &k) || ym_want(p, k.name, "name", &s) ||
	    set_name(p, ym, m, k.name, s))
		return -1;
	if (kind(p, m, &k))
		return -1;
	snprintf(m->help, sizeof(m->help), "%s", m->name);
	if (k.help && !ym_want(p, k.help, "help", &s))
		snprintf(m->help, sizeof(m->help), "%s", s);
	else if (k.help)
		return -1;
	if (k.budget) {
		char *end;
		unsigned long b;

		if (ym_want(p, k.budget, "budget", &s))
			return -1;
		b = strtoul(s, &end, 10);
		if (*end || !b || b > 100000)
			return ym_err(p, k.budget, "budget is a number of series, 1 to 100000");
		m->d.budget = b;
	}
	if (ym_want(p, k.probe, "probe", &s))
		return -1;
	snprintf(m->probe, sizeof(m->probe), "%s", s);
	if (trace_probe_parse(s, &m->p, why, sizeof(why)))
		return ym_err(p, k.probe, "%s", why);
	if (k.hooks && raw_hooks(p, m, k.hooks))
		return -1;
	/* the names are checked against the system by root only (tracefs) */
	if (geteuid() == 0 && trace_probe_load(&m->p, s, why, sizeof(why)))
		return ym_err(p, k.probe, "%s", why);
	if (geteuid() != 0)
		return 0;
	/* a kernel function: fentry or kprobe, a raw tracepoint: tp_btf or raw_tp, chosen
	 * now as ksight trace chooses; neither: a missing feature, not bad input: the metric
	 * is left out at start (said), the rest runs */
	if ((m->p.kind == TRACE_P_KFUNC && trace_kfunc_choose(&m->p, s, why, sizeof(why))) ||
	    (m->p.kind == TRACE_P_RAW && trace_raw_choose(&m->p, s, why, sizeof(why))))
		snprintf(m->missing, sizeof(m->missing), "%s", why);
	if (k.labels && ym_labels(p, m, k.labels))
		return -1;
	if (m->hist && ym_value(p, m, k.value))
		return -1;
	if (k.buckets && ym_buckets(p, m, k.buckets))
		return -1;
	if (k.filter) {
		if (ym_want(p, k.filter, "filter", &s) || ym_filter(p, m, k.filter, s))
			return -1;
	}
	m->d.name = m->name;
	m->d.help = m->help;
	for (int i = 0; i < m->nlabels; i++)
		m->d.labels[i] = m->labels[i];
	return 0;
}

static int document(struct ym_parser *p, struct ks_ymetrics *ym, yaml_node_t *root)
{
	yaml_node_t *list = NULL;

	if (!root)
		return ym_err_at(p, 0, 0, "the file is empty (metrics: a list of metrics)");
	if (root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);

			if (!ym_scalar(kn) || strcmp(ym_scalar(kn), "metrics"))
				return ym_err(p, kn, "unknown key '%s' (metrics: a list of "
					      "metrics)",
					      ym_scalar(kn) ? ym_scalar(kn) : "?");
			list = yaml_document_get_node(p->doc, pr->value);
		}
	}
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return ym_err(p, list ? list : root, "expected metrics: a list of metrics");
	int n = list->data.sequence.items.top - list->data.sequence.items.start;

	if (!n)
		return ym_err(p, list, "no metrics");
	if (n > YM_MAX)
		return ym_err(p, list, "%d metrics at most", YM_MAX);
	ym->v = calloc(n, sizeof(*ym->v));
	if (!ym->v)
		return ym_err(p, list, "out of memory");
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
	struct ym_parser p = { ym->path, &doc, err, len };
	int rc;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, len, "%s: cannot start the YAML parser", ym->path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.context_mark;

		ym_err_at(&p, m->line, m->column, "%s%s%s",
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
