// SPDX-License-Identifier: GPL-2.0
#include "core/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_metrics {
	struct ks_metric *first, *last;
	struct ks_metric *hits;		/* ksight_metric_budget_hits_total */
};

static const struct ks_metric_desc hits_desc = {
	.name = "ksight_metric_budget_hits_total",
	.help = "Updates of a label set past the metric's series budget (counted in its "
		"overflow series instead)",
	.type = KS_METRIC_COUNTER,
	.labels = { "metric" },
	.budget = 4096,
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* A linear layout fits the slots, and its last bound an int64_t. */
static bool buckets_valid(const struct ks_hist_buckets *b)
{
	int64_t top;

	if (b->layout == KS_HIST_LOG2)
		return true;
	if (b->layout != KS_HIST_LINEAR || !b->count || b->count > KS_HIST_LINEAR_MAX ||
	    !b->step || b->step > INT64_MAX / b->count)
		return false;
	return !__builtin_add_overflow(b->min, (int64_t)(b->step * b->count), &top);
}

/* The naming rules of metrics.h, so that a Prometheus sink needs no renaming. */
static bool valid(const struct ks_metric_desc *d)
{
	const char *n = d->name;
	char unit[32];

	if (!n || strncmp(n, "ksight_", 7) || !d->help)
		return false;
	for (const char *p = n; *p; p++)
		if (!name_char(*p, p == n))
			return false;
	if ((d->type == KS_METRIC_COUNTER) != ends_with(n, "_total"))
		return false;
	/* a histogram has a unit, and a counter with a scale: the name says it (a user's
	 * histogram of a count, ksight run --bpf, has neither: no unit, scale 1) */
	if (d->type == KS_METRIC_HIST && !d->unit && d->scale == 1)
		;
	else if (d->type == KS_METRIC_HIST || (d->type == KS_METRIC_COUNTER && d->scale)) {
		if (!d->unit || !d->scale)
			return false;
		if (strcmp(d->unit, "seconds") && strcmp(d->unit, "bytes"))
			return false;
		snprintf(unit, sizeof(unit), "_%s%s", d->unit,
			 d->type == KS_METRIC_COUNTER ? "_total" : "");
		if (!ends_with(n, unit))
			return false;
	}
	if (d->type == KS_METRIC_HIST && !buckets_valid(&d->buckets))
		return false;
	for (int i = 0; i < KS_LABELS_MAX && d->labels[i]; i++) {
		const char *l = d->labels[i];

		if (!l[0] || !strncmp(l, "__", 2))
			return false;
		if (d->type == KS_METRIC_HIST && !strcmp(l, "le"))
			return false;
		for (const char *p = l; *p; p++)
			if (!name_char(*p, p == l))
				return false;
	}
	return d->labels[KS_LABELS_MAX] == NULL;
}

static bool same(const struct ks_metric_desc *a, const struct ks_metric_desc *b)
{
	if (a->type != b->type || memcmp(&a->buckets, &b->buckets, sizeof(a->buckets)))
		return false;
	for (int i = 0; i <= KS_LABELS_MAX; i++) {
		if (!a->labels[i] != !b->labels[i])
			return false;
		if (a->labels[i] && strcmp(a->labels[i], b->labels[i]))
			return false;
	}
	return true;
}

struct ks_metric *ks_metrics__find(const struct ks_metrics *r, const char *name)
{
	for (struct ks_metric *m = r->first; m; m = m->next)
		if (!strcmp(m->d->name, name))
			return m;
	return NULL;
}

static void series_free(struct ks_series *s)
{
	for (int i = 0; i < KS_LABELS_MAX; i++)
		free(s->label[i]);
	free(s->h);
	free(s->hprev);
}

/* Histogram storage for @s; false when out of memory. */
static bool hist_alloc(struct ks_series *s)
{
	if (s->m->d->type != KS_METRIC_HIST)
		return true;
	s->h = calloc(1, sizeof(*s->h));
	s->hprev = calloc(1, sizeof(*s->hprev));
	return s->h && s->hprev;
}

struct ks_metric *ks_metrics__register(struct ks_metrics *r, const struct ks_metric_desc *d)
{
	struct ks_metric *m;
	uint32_t nb = 16;

	if (!valid(d)) {
		errno = EINVAL;
		return NULL;
	}
	m = ks_metrics__find(r, d->name);
	if (m) {
		if (same(m->d, d))
			return m;
		errno = EEXIST;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto nomem;
	m->d = d;
	m->budget = d->budget ? d->budget : KS_BUDGET_DEFAULT;
	while (m->nlabels < KS_LABELS_MAX && d->labels[m->nlabels])
		m->nlabels++;
	while (nb < m->budget && nb < 65536)
		nb *= 2;
	m->nbuckets = nb;
	m->buckets = calloc(nb, sizeof(*m->buckets));
	m->overflow.m = m;
	m->overflow.overflow = true;
	if (!m->buckets || !hist_alloc(&m->overflow))
		goto nomem;
	if (r->hits && !(m->hits = ks_metric_get(r->hits, d->name)))
		goto nomem;
	if (r->last)
		r->last->next = m;
	else
		r->first = m;
	r->last = m;
	return m;
nomem:
	if (m) {
		series_free(&m->overflow);
		free(m->buckets);
		free(m);
	}
	errno = ENOMEM;
	return NULL;
}

struct ks_metrics *ks_metrics__new(void)
{
	struct ks_metrics *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->hits = ks_metrics__register(r, &hits_desc);
	if (!r->hits) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->hits->hits = ks_metric_get(r->hits, hits_desc.name);
	return r;
}

void ks_metrics__free(struct ks_metrics *r)
{
	struct ks_metric *m, *mn;
	struct ks_series *s, *sn;

	if (!r)
		return;
	for (m = r->first; m; m = mn) {
		mn = m->next;
		for (s = m->first; s; s = sn) {
			sn = s->next;
			series_free(s);
			free(s);
		}
		series_free(&m->overflow);
		free(m->buckets);
		free(m);
	}
	free(r);
}

/* FNV-1a over the values, each ended by a byte no value holds (they end at a NUL). */
static uint32_t hash(unsigned int n, const char *const *v, const size_t *len)
{
	uint32_t h = 2166136261u;

	for (unsigned int i = 0; i < n; i++) {
		for (size_t k = 0; k < len[i] && v[i][k]; k++)
			h = (h ^ (unsigned char)v[i][k]) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static bool matches(const struct ks_series *s, unsigned int n, const char *const *v,
		    const size_t *len)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t l = strnlen(v[i], len[i]);

		if (strncmp(s->label[i], v[i], l) || s->label[i][l])
			return false;
	}
	return true;
}

static struct ks_series *overflow(struct ks_metric *m)
{
	m->overflow_used = true;
	if (m->hits)
		m->hits->v.u++;
	return &m->overflow;
}

struct ks_series *ks_metric_getn(struct ks_metric *m, const char *const *v, const size_t *len)
{
	uint32_t h = hash(m->nlabels, v, len);
	struct ks_series **b = &m->buckets[h & (m->nbuckets - 1)], *s;

	for (s = *b; s; s = s->chain)
		if (s->hash == h && matches(s, m->nlabels, v, len))
			return s;
	if (m->nseries >= m->budget)
		return overflow(m);
	s = calloc(1, sizeof(*s));
	if (!s)
		return overflow(m);
	s->m = m;
	s->hash = h;
	for (unsigned int i = 0; i < m->nlabels; i++)
		if (!(s->label[i] = strndup(v[i], len[i])))
			goto nomem;
	if (!hist_alloc(s))
		goto nomem;
	s->chain = *b;
	*b = s;
	if (m->last)
		m->last->next = s;
	else
		m->first = s;
	m->last = s;
	m->nseries++;
	return s;
nomem:
	series_free(s);
	free(s);
	return overflow(m);
}

struct ks_series *ks_metric_comm_miss(struct ks_metric *m, struct ks_comm_cache *c, uint32_t pid,
				      const char *comm)
{
	size_t len = KS_COMM_LEN;

	c->s = ks_metric_getn(m, &comm, &len);
	c->pid = pid;
	c->gen = m->gen;
	memcpy(c->comm, comm, KS_COMM_LEN);
	return c->s;
}

struct ks_series *ks_metric_get(struct ks_metric *m, const char *v)
{
	size_t len = v ? strlen(v) : 0;

	if (m->nlabels > 1 || (m->nlabels && !v))
		return overflow(m);	/* a caller's mistake, counted rather than a crash */
	return ks_metric_getn(m, &v, &len);
}

static bool unchanged(const struct ks_series *s)
{
	if (s->m->d->type == KS_METRIC_HIST)
		return s->h->count == s->hprev->count;
	return s->v.u == s->prev.u;
}

/* Move an idle series' counts into the overflow series and free it. */
static void retire(struct ks_metric *m, struct ks_series *s, struct ks_series *prev)
{
	struct ks_series **pp = &m->buckets[s->hash & (m->nbuckets - 1)];

	while (*pp != s)
		pp = &(*pp)->chain;
	*pp = s->chain;
	if (prev)
		prev->next = s->next;
	else
		m->first = s->next;
	if (m->last == s)
		m->last = prev;
	if (s->h) {
		static const struct ks_hist_vals zero;

		ks_hist_accumulate(m->overflow.h, s->h, &zero);
		ks_hist_accumulate(m->overflow.hprev, s->hprev, &zero);
	} else {
		m->overflow.v.u += s->v.u;
		m->overflow.prev.u += s->prev.u;
	}
	m->overflow_used = true;
	m->nseries--;
	m->gen++;
	series_free(s);
	free(s);
}

static void mark_one(struct ks_series *s)
{
	if (s->h)
		*s->hprev = *s->h;
	else
		s->prev = s->v;
}

void ks_metrics__mark(struct ks_metrics *r)
{
	for (struct ks_metric *m = r->first; m; m = m->next) {
		bool retires = m->d->idle && m->d->type != KS_METRIC_GAUGE;
		struct ks_series *s, *next, *prev = NULL;

		for (s = m->first; s; s = next) {
			next = s->next;
			s->idle = unchanged(s) ? s->idle + 1 : 0;
			if (retires && s->idle >= m->d->idle) {
				retire(m, s, prev);
				continue;
			}
			mark_one(s);
			prev = s;
		}
		mark_one(&m->overflow);
	}
}

const struct ks_metric *ks_metrics_first(const struct ks_metrics *r)
{
	return r->first;
}

const struct ks_series *ks_series_first(const struct ks_metric *m)
{
	if (m->first)
		return m->first;
	return m->overflow_used ? &m->overflow : NULL;
}

const struct ks_series *ks_series_next(const struct ks_series *s)
{
	if (s->overflow)
		return NULL;
	if (s->next)
		return s->next;
	return s->m->overflow_used ? &s->m->overflow : NULL;
}
