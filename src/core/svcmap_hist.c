// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's latencies in the map (core/svcmap.h): a weighted end (the sums of ksight map
 * --prometheus) brings its sessions' connect latencies, RTTs and durations as histogram
 * buckets, not as samples (a million connections would be a million samples). An edge's
 * buckets and its own samples (weight 1) are ranked together; a session in a bucket
 * stands for the bucket's bound, so a percentile from buckets is the bound of the bucket
 * that holds it, as Prometheus' le says: at most that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/svcmap_int.h"

/* *@b (@n buckets) copied into @m's own, *@b then pointing to it (NULL when empty). */
static int keep(struct ks_svcmap *m, const struct ks_svcmap_bucket **b, size_t n)
{
	struct ks_svcmap_bucket *h;

	if (!n) {
		*b = NULL;
		return 0;
	}
	if (!svcmap_grow((void **)&m->hists, &m->cap_hists, m->nhists, sizeof(*m->hists)))
		return -ENOMEM;
	h = malloc(n * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memcpy(h, *b, n * sizeof(*h));
	m->hists[m->nhists++] = h;
	*b = h;
	return 0;
}

int svcmap_hist_keep(struct ks_svcmap *m, struct ks_svcmap_conn *d)
{
	return keep(m, &d->connect_hist, d->nconnect_hist) ?:
	       keep(m, &d->rtt_hist, d->nrtt_hist) ?: keep(m, &d->dur_hist, d->ndur_hist);
}

/* The buckets @h[0..n) that hold sessions onto *@w (*@nw of *@cap). */
static int add(struct ks_svcmap_bucket **w, size_t *nw, size_t *cap,
	       const struct ks_svcmap_bucket *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!h[i].n)
			continue;
		if (!svcmap_grow((void **)w, cap, *nw, sizeof(**w)))
			return -ENOMEM;
		(*w)[(*nw)++] = h[i];
	}
	return 0;
}

int svcmap_hist_add(struct ks_svcmap_edge *e, const struct ks_svcmap_conn *c,
		    const struct ks_svcmap_conn *s)
{
	const struct ks_svcmap_conn *one = c ? c : s;
	/* as the samples: the client's RTT where it measured one, else the server's */
	const struct ks_svcmap_conn *r = c && (c->srtt_ns || c->nrtt_hist) ? c : s ? s : c;

	return (c ? add(&e->wconn, &e->nwconn, &e->cap_wconn, c->connect_hist,
			c->nconnect_hist) : 0) ?:
	       add(&e->wrtt, &e->nwrtt, &e->cap_wrtt, r->rtt_hist, r->nrtt_hist) ?:
	       add(&e->wdur, &e->nwdur, &e->cap_wdur, one->dur_hist, one->ndur_hist);
}

static int bucket_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_bucket *a = x, *b = y;

	return a->le_ns < b->le_ns ? -1 : a->le_ns > b->le_ns;
}

/* Nearest rank over buckets @w[0..nw) (sorted) and samples @v[0..nv) (sorted, weight 1)
 * merged, @total sessions: the smallest value with at least @pct percent of them at or
 * below it (svcmap_graph.c's pct() with weights). */
static uint64_t wpct(const struct ks_svcmap_bucket *w, size_t nw, const uint64_t *v, size_t nv,
		     uint64_t total, unsigned int pct)
{
	uint64_t rank = (total * pct + 99) / 100, run = 0, x = 0;
	size_t i = 0, j = 0;

	while (i < nw || j < nv) {
		if (j >= nv || (i < nw && w[i].le_ns <= v[j])) {
			x = w[i].le_ns;
			run += w[i++].n;
		} else {
			x = v[j++];
			run++;
		}
		if (run >= rank)
			break;
	}
	return x;
}

/* p50 and p99 into *@p50, *@p99 of the samples @v[0..nv) and the buckets @w[0..nw) (sorted
 * here); the sessions they count. Untouched without buckets. */
static uint64_t finish(struct ks_svcmap_bucket *w, size_t nw, const uint64_t *v, size_t nv,
		       uint64_t *p50, uint64_t *p99)
{
	uint64_t total = nv;

	if (!nw)
		return nv;
	qsort(w, nw, sizeof(*w), bucket_cmp);
	for (size_t i = 0; i < nw; i++)
		total += w[i].n;
	*p50 = wpct(w, nw, v, nv, total, 50);
	*p99 = wpct(w, nw, v, nv, total, 99);
	return total;
}

void svcmap_hist_finish(struct ks_svcmap_edge *e)
{
	e->nconn = finish(e->wconn, e->nwconn, e->conn, e->nconn, &e->conn_p50, &e->conn_p99);
	finish(e->wrtt, e->nwrtt, e->rtt, e->nrtt, &e->rtt_p50, &e->rtt_p99);
	finish(e->wdur, e->nwdur, e->dur, e->ndur, &e->dur_p50, &e->dur_p99);
}
