// SPDX-License-Identifier: GPL-2.0
#include "modules/rw_sum.h"

#include <stdlib.h>
#include <string.h>

void rw_sum_merge(struct rw_sum_val *out, const struct rw_sum_val *percpu, unsigned int ncpu)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int c = 0; c < ncpu; c++) {
		const struct rw_sum_val *v = &percpu[c];

		out->reads += v->reads;
		out->writes += v->writes;
		out->rbytes += v->rbytes;
		out->wbytes += v->wbytes;
		out->errors += v->errors;
		out->lat_sum += v->lat_sum;
		for (int s = 0; s < RW_SLOTS; s++)
			out->slots[s] += v->slots[s];
		if (!out->comm[0]) {
			memcpy(out->comm, v->comm, sizeof(out->comm));
			out->cgroup = v->cgroup;
		}
	}
}

static int key_cmp(const struct rw_sum_key *a, const struct rw_sum_key *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->fd != b->fd)
		return a->fd < b->fd ? -1 : 1;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return key_cmp(&((const struct rw_sum_row *)a)->k, &((const struct rw_sum_row *)b)->k);
}

void rw_sum_sort_keys(struct rw_sum_row *rows, size_t n)
{
	if (n)
		qsort(rows, n, sizeof(*rows), by_key);
}

static void subtract(struct rw_sum_val *v, const struct rw_sum_val *p)
{
	v->reads -= p->reads;
	v->writes -= p->writes;
	v->rbytes -= p->rbytes;
	v->wbytes -= p->wbytes;
	v->errors -= p->errors;
	v->lat_sum -= p->lat_sum;
	for (int s = 0; s < RW_SLOTS; s++)
		v->slots[s] -= p->slots[s];
}

size_t rw_sum_delta(const struct rw_sum_row *prev, size_t nprev, const struct rw_sum_row *cur,
		    size_t n, struct rw_sum_row *out)
{
	size_t j = 0, m = 0;

	for (size_t i = 0; i < n; i++) {
		while (j < nprev && key_cmp(&prev[j].k, &cur[i].k) < 0)
			j++;
		out[m] = cur[i];
		if (j < nprev && !key_cmp(&prev[j].k, &cur[i].k))
			subtract(&out[m].v, &prev[j].v);
		if (out[m].v.reads || out[m].v.writes)
			m++;
	}
	return m;
}

static enum rw_sort sort_by;

static unsigned long long metric(const struct rw_sum_val *v)
{
	switch (sort_by) {
	case RW_SORT_BYTES:
		return v->rbytes + v->wbytes;
	case RW_SORT_LAT:
		return v->lat_sum;
	default:
		return v->reads + v->writes;
	}
}

static int by_metric(const void *a, const void *b)
{
	const struct rw_sum_row *x = a, *y = b;
	unsigned long long mx = metric(&x->v), my = metric(&y->v);

	if (mx != my)
		return mx < my ? 1 : -1;
	return key_cmp(&x->k, &y->k);
}

void rw_sum_sort(struct rw_sum_row *rows, size_t n, enum rw_sort by)
{
	sort_by = by;
	if (n)
		qsort(rows, n, sizeof(*rows), by_metric);
}
