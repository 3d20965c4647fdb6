// SPDX-License-Identifier: GPL-2.0
/* Reading the registry: histogram bounds, sums and deltas, a metric's totals, its top
 * series. */
#include <math.h>
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

unsigned int ks_hist_nslots(const struct ks_metric_desc *d)
{
	if (d->buckets.layout == KS_HIST_LINEAR)
		return d->buckets.count + 2;
	return KS_HIST_SLOTS;
}

/* @x observed units in base units. A scale below 1 that is the inverse of a whole number
 * (1e-9) divides by it: the quotient is the double nearest the decimal (100 ns: 1e-07),
 * where the product with the inexact 1e-9 can miss it. */
static double in_base(double x, double scale)
{
	double k;

	if (scale > 0 && scale < 1) {
		k = (double)(uint64_t)(1.0 / scale + 0.5);
		if (k >= 2 && fabs(1.0 / scale - k) <= 1e-9 * k)
			return x / k;
	}
	return x * (scale ? scale : 1);
}

double ks_hist_bound(const struct ks_metric_desc *d, unsigned int i)
{
	const struct ks_hist_buckets *b = &d->buckets;

	if (i + 1 >= ks_hist_nslots(d))
		return INFINITY;
	if (b->layout == KS_HIST_LINEAR)
		return in_base((double)(b->min + (int64_t)(i * b->step)), d->scale);
	/* the highest whole number slot i holds: 2^(i+1) itself is slot i+1's, and le is
	 * inclusive (i < 63) */
	return in_base((double)((2ULL << i) - 1), d->scale);
}

unsigned int ks_hist_shown(const struct ks_metric_desc *d, const struct ks_hist_vals *h)
{
	unsigned int n = ks_hist_nslots(d) - 1, last = 0;

	if (d->buckets.layout == KS_HIST_LINEAR)
		return n;
	for (unsigned int i = 0; i < KS_HIST_SLOTS; i++)
		if (h->slots[i])
			last = i + 1;
	return last < n ? last : n;
}

double ks_hist_sum(const struct ks_series *s, const struct ks_hist_vals *h)
{
	return in_base(h->sum, s->m->d->scale);
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

