// SPDX-License-Identifier: GPL-2.0
#include "modules/syscount_agg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void syscount_row_add(struct syscount_row *r, const struct syscount_val *v)
{
	r->count += v->count;
	r->errors += v->errors;
	r->lat_ns += v->lat_ns;
	if (!r->comm[0] && v->comm[0])
		memcpy(r->comm, v->comm, sizeof(r->comm));
}

void syscount_row_add_hist(struct syscount_row *r, const struct syscount_hist *h)
{
	for (int i = 0; i < SYSCOUNT_SLOTS; i++)
		r->slots[i] += h->slots[i];
}

int syscount_key_cmp(const struct syscount_key *a, const struct syscount_key *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->nr != b->nr)
		return a->nr < b->nr ? -1 : 1;
	if (a->err != b->err)
		return a->err < b->err ? -1 : 1;
	return 0;
}

static int row_key_cmp(const void *a, const void *b)
{
	return syscount_key_cmp(&((const struct syscount_row *)a)->k,
				&((const struct syscount_row *)b)->k);
}

int syscount_delta(struct syscount_prev *p, struct syscount_row *rows, size_t n)
{
	struct syscount_row *totals = malloc((n ? n : 1) * sizeof(*totals));
	size_t j = 0;

	if (!totals)
		return -ENOMEM;
	qsort(rows, n, sizeof(*rows), row_key_cmp);
	memcpy(totals, rows, n * sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		const struct syscount_row *old;
		int c = 1;

		/* both sorted: walk the previous totals alongside */
		while (j < p->n && (c = syscount_key_cmp(&p->rows[j].k, &rows[i].k)) < 0)
			j++;
		if (j >= p->n || c)
			continue;	/* a key new since the last report */
		old = &p->rows[j];
		rows[i].count -= old->count;
		rows[i].errors -= old->errors;
		rows[i].lat_ns -= old->lat_ns;
		for (int s = 0; s < SYSCOUNT_SLOTS; s++)
			rows[i].slots[s] -= old->slots[s];
	}
	free(p->rows);
	p->rows = totals;
	p->n = n;
	return 0;
}

void syscount_prev_free(struct syscount_prev *p)
{
	free(p->rows);
	p->rows = NULL;
	p->n = 0;
}

static int by_count(const void *a, const void *b)
{
	const struct syscount_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return syscount_key_cmp(&x->k, &y->k);
}

static int by_time(const void *a, const void *b)
{
	const struct syscount_row *x = a, *y = b;

	if (x->lat_ns != y->lat_ns)
		return x->lat_ns < y->lat_ns ? 1 : -1;
	return by_count(a, b);
}

size_t syscount_order(struct syscount_row *rows, size_t n, bool by_lat)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].count)
			rows[kept++] = rows[i];
	qsort(rows, kept, sizeof(*rows), by_lat ? by_time : by_count);
	return kept;
}
