// SPDX-License-Identifier: GPL-2.0
/* Reading the registry: histogram sums and deltas, a metric's totals, its top series. */
#include <string.h>

#include "core/metrics.h"

void ks_hist_add(struct ks_series *s, const __u64 *slots, unsigned int n, uint64_t count,
		 double sum)
{
	for (unsigned int i = 0; i < n && i < KS_HIST_SLOTS; i++)
		s->h->slots[i] += slots[i];
	s->h->count += count;
	s->h->sum += sum;
}

double ks_hist_sum(const struct ks_series *s, const struct ks_hist_vals *h)
{
	return h->sum * s->m->d->scale;
}

void ks_hist_delta(const struct ks_series *s, struct ks_hist_vals *out)
{
	memset(out, 0, sizeof(*out));
	ks_hist_accumulate(out, s->h, s->hprev);
}

uint64_t ks_metric_delta(const struct ks_metric *m)
{
	uint64_t sum = 0;

	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s))
		sum += ks_counter_delta(s);
	return sum;
}

void ks_metric_hist_delta(const struct ks_metric *m, struct ks_hist_vals *out)
{
	memset(out, 0, sizeof(*out));
	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s))
		ks_hist_accumulate(out, s->h, s->hprev);
}

/* Whether @a ranks before @b: larger delta, then labels in byte order, overflow last. */
static bool before(const struct ks_metric_top *a, const struct ks_metric_top *b, unsigned int n)
{
	if (a->delta != b->delta)
		return a->delta > b->delta;
	if (a->s->overflow != b->s->overflow)
		return b->s->overflow;
	for (unsigned int i = 0; i < n && !a->s->overflow; i++) {
		int c = strcmp(a->s->label[i], b->s->label[i]);

		if (c)
			return c < 0;
	}
	return false;
}

size_t ks_metric_top(const struct ks_metric *m, size_t k, struct ks_metric_top *out)
{
	size_t n = 0;

	for (const struct ks_series *s = ks_series_first(m); s && k; s = ks_series_next(s)) {
		struct ks_metric_top t = { s, ks_counter_delta(s) };
		size_t i;

		if (!t.delta)
			continue;
		/* insertion into the k best so far: k is small (a summary's top 5) */
		for (i = n; i > 0 && before(&t, &out[i - 1], m->nlabels); i--)
			if (i < k)
				out[i] = out[i - 1];
		if (i < k) {
			out[i] = t;
			if (n < k)
				n++;
		}
	}
	return n;
}

