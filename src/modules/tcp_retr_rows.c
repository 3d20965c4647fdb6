// SPDX-License-Identifier: GPL-2.0
#include "modules/tcp_retr_rows.h"

#include <stdlib.h>
#include <string.h>

static int by_key(const void *a, const void *b)
{
	const struct tcp_retr_row *x = a, *y = b;

	return memcmp(&x->k, &y->k, sizeof(x->k));
}

static uint64_t resets(const struct tcp_retr_val *v)
{
	return v->rst_sent + v->rst_rcvd;
}

static int busiest(const void *a, const void *b)
{
	const struct tcp_retr_row *x = a, *y = b;

	if (x->v.segs != y->v.segs)
		return x->v.segs > y->v.segs ? -1 : 1;
	if (x->v.failed != y->v.failed)
		return x->v.failed > y->v.failed ? -1 : 1;
	if (resets(&x->v) != resets(&y->v))
		return resets(&x->v) > resets(&y->v) ? -1 : 1;
	return by_key(a, b);
}

void tcp_retr_rows_sort(struct tcp_retr_row *rows, size_t n)
{
	if (n)
		qsort(rows, n, sizeof(*rows), by_key);
}

size_t tcp_retr_rows_delta(const struct tcp_retr_row *cur, size_t n,
			   const struct tcp_retr_row *prev, size_t nprev, struct tcp_retr_row *out)
{
	size_t j = 0, nd = 0;

	for (size_t i = 0; i < n; i++) {
		struct tcp_retr_row d = cur[i];
		int c = 1;

		while (j < nprev && (c = by_key(&prev[j], &cur[i])) < 0)
			j++;
		if (j < nprev && c == 0) {
			const struct tcp_retr_val *p = &prev[j].v;

			d.v.segs -= p->segs;
			d.v.events -= p->events;
			d.v.failed -= p->failed;
			d.v.rst_sent -= p->rst_sent;
			d.v.rst_rcvd -= p->rst_rcvd;
		}
		if (d.v.segs || d.v.failed || d.v.rst_sent || d.v.rst_rcvd || d.v.events)
			out[nd++] = d;
	}
	if (nd)
		qsort(out, nd, sizeof(*out), busiest);
	return nd;
}
