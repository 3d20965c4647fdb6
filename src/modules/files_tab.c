// SPDX-License-Identifier: GPL-2.0
#include "modules/files_tab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct prev {
	struct files_top_key k;
	uint64_t reads, rbytes, writes, wbytes;
};

struct files_topd {
	struct prev *p;		/* the previous call's totals, sorted by key */
	size_t n;
	struct files_top_row *pend;	/* growth of retired entries, for the next call */
	size_t npend;
};

struct files_topd *files_topd__new(void)
{
	return calloc(1, sizeof(struct files_topd));
}

void files_topd__free(struct files_topd *d)
{
	if (!d)
		return;
	free(d->p);
	free(d->pend);
	free(d);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct files_top_key));
}

static uint64_t grow(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static void add(struct files_top_val *v, const struct files_top_val *g)
{
	v->reads += g->reads;
	v->rbytes += g->rbytes;
	v->writes += g->writes;
	v->wbytes += g->wbytes;
}

int files_topd__delta(struct files_topd *d, struct files_top_row *rows, size_t n, size_t cap)
{
	struct prev *next = calloc(n ? n : 1, sizeof(*next));
	size_t m = n;

	if (!next)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		next[i].k = rows[i].k;
		next[i].reads = rows[i].v.reads;
		next[i].rbytes = rows[i].v.rbytes;
		next[i].writes = rows[i].v.writes;
		next[i].wbytes = rows[i].v.wbytes;
	}
	qsort(next, n, sizeof(*next), key_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct prev *p = d->n ? bsearch(&rows[i].k, d->p, d->n, sizeof(*d->p),
						      key_cmp) : NULL;

		if (!p)
			continue;
		rows[i].v.reads = grow(rows[i].v.reads, p->reads);
		rows[i].v.rbytes = grow(rows[i].v.rbytes, p->rbytes);
		rows[i].v.writes = grow(rows[i].v.writes, p->writes);
		rows[i].v.wbytes = grow(rows[i].v.wbytes, p->wbytes);
	}
	for (size_t j = 0; j < d->npend; j++) {
		size_t i;

		for (i = 0; i < m && key_cmp(&rows[i].k, &d->pend[j].k); i++)
			;
		if (i < m)
			add(&rows[i].v, &d->pend[j].v);
		else if (m < cap)
			rows[m++] = d->pend[j];
	}
	d->npend = 0;
	free(d->p);
	d->p = next;
	d->n = n;
	return m;
}

int files_topd__retire(struct files_topd *d, const struct files_top_key *k,
		       const struct files_top_val *final)
{
	struct prev *p = d->n ? bsearch(k, d->p, d->n, sizeof(*d->p), key_cmp) : NULL;
	struct files_top_row g = { .k = *k, .v = *final }, *pend;

	if (p) {
		g.v.reads = grow(final->reads, p->reads);
		g.v.rbytes = grow(final->rbytes, p->rbytes);
		g.v.writes = grow(final->writes, p->writes);
		g.v.wbytes = grow(final->wbytes, p->wbytes);
		memmove(p, p + 1, (d->p + d->n - (p + 1)) * sizeof(*p));
		d->n--;
	}
	if (!g.v.reads && !g.v.writes)
		return 0;
	pend = realloc(d->pend, (d->npend + 1) * sizeof(*pend));
	if (!pend)
		return -ENOMEM;
	d->pend = pend;
	d->pend[d->npend++] = g;
	return 0;
}

static enum files_sort sort_by;

static uint64_t sort_value(const struct files_top_row *r, int tie)
{
	const struct files_top_val *v = &r->v;

	switch (sort_by) {
	case FILES_SORT_READS:
		return tie ? v->rbytes : v->reads;
	case FILES_SORT_WRITES:
		return tie ? v->wbytes : v->writes;
	case FILES_SORT_RBYTES:
		return tie ? v->reads : v->rbytes;
	case FILES_SORT_WBYTES:
		return tie ? v->writes : v->wbytes;
	default:
		return tie ? v->reads + v->writes : v->rbytes + v->wbytes;
	}
}

static int row_cmp(const void *a, const void *b)
{
	const struct files_top_row *x = a, *y = b;

	for (int tie = 0; tie < 2; tie++) {
		uint64_t vx = sort_value(x, tie), vy = sort_value(y, tie);

		if (vx != vy)
			return vx < vy ? 1 : -1;
	}
	if (x->k.tgid != y->k.tgid)
		return x->k.tgid < y->k.tgid ? -1 : 1;
	return strncmp(x->v.path, y->v.path, sizeof(x->v.path));
}

void files_top_sort(struct files_top_row *rows, size_t n, enum files_sort by)
{
	sort_by = by;
	qsort(rows, n, sizeof(*rows), row_cmp);
}
