// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's connect latencies in the map (core/svcmap.h): a weighted end (the sums of
 * ksight map --prometheus) brings its sessions' latencies as histogram buckets, not as
 * samples (a million connections would be a million samples). An edge's buckets and its
 * own samples (weight 1) are ranked together; a session in a bucket stands for the
 * bucket's bound, so a percentile from buckets is the bound of the bucket that holds it,
 * as Prometheus' le says: at most that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/svcmap_int.h"

int svcmap_hist_keep(struct ks_svcmap *m, struct ks_svcmap_conn *d)
{
	struct ks_svcmap_bucket *h;

	if (!d->nconnect_hist) {
		d->connect_hist = NULL;
		return 0;
	}
	if (!svcmap_grow((void **)&m->hists, &m->cap_hists, m->nhists, sizeof(*m->hists)))
		return -ENOMEM;
	h = malloc(d->nconnect_hist * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memcpy(h, d->connect_hist, d->nconnect_hist * sizeof(*h));
	m->hists[m->nhists++] = h;
	d->connect_hist = h;
	return 0;
}

int svcmap_hist_add(struct ks_svcmap_edge *e, const struct ks_svcmap_conn *c)
{
	for (size_t i = 0; i < c->nconnect_hist; i++) {
		if (!c->connect_hist[i].n)
			continue;
		if (!svcmap_grow((void **)&e->wconn, &e->cap_wconn, e->nwconn, sizeof(*e->wconn)))
			return -ENOMEM;
		e->wconn[e->nwconn++] = c->connect_hist[i];
	}
	return 0;
}

static int bucket_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_bucket *a = x, *b = y;

	return a->le_ns < b->le_ns ? -1 : a->le_ns > b->le_ns;
}

/* Nearest rank over @e's buckets (sorted) and samples (sorted, weight 1) merged, @total
 * sessions: the smallest value with at least @pct percent of them at or below it
 * (svcmap_graph.c's pct() with weights). */
static uint64_t wpct(const struct ks_svcmap_edge *e, uint64_t total, unsigned int pct)
{
	uint64_t rank = (total * pct + 99) / 100, run = 0, v = 0;
	size_t i = 0, j = 0;

	while (i < e->nwconn || j < e->nconn) {
		if (j >= e->nconn || (i < e->nwconn && e->wconn[i].le_ns <= e->conn[j])) {
			v = e->wconn[i].le_ns;
			run += e->wconn[i++].n;
		} else {
			v = e->conn[j++];
			run++;
		}
		if (run >= rank)
			break;
	}
	return v;
}

void svcmap_hist_finish(struct ks_svcmap_edge *e)
{
	uint64_t total = e->nconn;

	if (!e->nwconn)
		return;
	qsort(e->wconn, e->nwconn, sizeof(*e->wconn), bucket_cmp);
	for (size_t i = 0; i < e->nwconn; i++)
		total += e->wconn[i].n;
	e->conn_p50 = wpct(e, total, 50);
	e->conn_p99 = wpct(e, total, 99);
	e->nconn = total;
}
