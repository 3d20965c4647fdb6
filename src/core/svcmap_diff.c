// SPDX-License-Identifier: GPL-2.0
/* Two maps compared (svcmap.h): edges that appeared, disappeared, or changed by a factor. */
#include "core/svcmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *ks_svcmap_change_name(enum ks_svcmap_change c)
{
	return c == KS_CHG_APPEARED ? "appeared" : c == KS_CHG_DISAPPEARED ? "disappeared" :
	       "changed";
}

static const struct ks_svcmap_edge *find(const struct ks_svcmap *m,
					 const struct ks_svcmap_edge *e)
{
	for (size_t i = 0; i < m->nedges; i++)
		if (m->edges[i].port == e->port && m->edges[i].kind == e->kind &&
		    !strcmp(m->edges[i].client, e->client) &&
		    !strcmp(m->edges[i].server, e->server))
			return &m->edges[i];
	return NULL;
}

/* What an edge's rate counts: connections, execs for a spawn edge, datagrams (both
 * ways) for a UDP edge. */
static double count(const struct ks_svcmap_edge *e)
{
	if (e->kind == KS_EDGE_UDP)
		return e->dgrams_c2s + e->dgrams_s2c;
	return e->kind == KS_EDGE_SPAWN ? e->execs : e->conns;
}

/* Whether @a and @b (both measured) differ by the factor either way. */
static bool factor(double a, double b)
{
	if (a <= 0 || b <= 0)
		return false;
	return a >= b * KS_SVCMAP_FACTOR || b >= a * KS_SVCMAP_FACTOR;
}

static int chg_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_diff *a = x, *b = y;
	const struct ks_svcmap_edge *ea = a->b ? a->b : a->a, *eb = b->b ? b->b : b->a;
	int c;

	if (a->what != b->what)
		return a->what < b->what ? -1 : 1;
	if (ea->kind != eb->kind)
		return ea->kind < eb->kind ? -1 : 1;
	if ((c = strcmp(ea->client, eb->client)) || (c = strcmp(ea->server, eb->server)))
		return c;
	return ea->port < eb->port ? -1 : ea->port > eb->port;
}

long ks_svcmap_diff(const struct ks_svcmap *a, double secs_a, const struct ks_svcmap *b,
		    double secs_b, struct ks_svcmap_diff **out)
{
	struct ks_svcmap_diff *v = calloc(a->nedges + b->nedges + 1, sizeof(*v));
	size_t n = 0;

	*out = NULL;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < b->nedges; i++) {
		const struct ks_svcmap_edge *eb = &b->edges[i], *ea = find(a, eb);
		struct ks_svcmap_diff d = { .a = ea, .b = eb };

		d.rate_b = secs_b > 0 ? count(eb) / secs_b : 0;
		if (!ea) {
			d.what = KS_CHG_APPEARED;
			v[n++] = d;
			continue;
		}
		d.rate_a = secs_a > 0 ? count(ea) / secs_a : 0;
		d.rate_changed = factor(d.rate_a, d.rate_b);
		d.rtt_changed = factor(ea->rtt_p99, eb->rtt_p99);
		d.dur_changed = factor(ea->dur_p99, eb->dur_p99);
		/* + 1: a connect measured below a microsecond is not 0 */
		d.conn_changed = ea->nconn && eb->nconn &&
				 factor(ea->conn_p99 + 1, eb->conn_p99 + 1);
		if (d.rate_changed || d.rtt_changed || d.dur_changed || d.conn_changed) {
			d.what = KS_CHG_CHANGED;
			v[n++] = d;
		}
	}
	for (size_t i = 0; i < a->nedges; i++) {
		const struct ks_svcmap_edge *ea = &a->edges[i];

		if (find(b, ea))
			continue;
		v[n++] = (struct ks_svcmap_diff){ .what = KS_CHG_DISAPPEARED, .a = ea,
						  .rate_a = secs_a > 0 ? count(ea) / secs_a : 0 };
	}
	qsort(v, n, sizeof(*v), chg_cmp);
	*out = v;
	return n;
}
