// SPDX-License-Identifier: GPL-2.0
#include "modules/bio_fmt.h"

#include <stdlib.h>
#include <string.h>

#include "biolat.h"

const char *const bio_sort_names[] = { "bytes", "ops", "time", "avg", NULL };

const char *bio_op_letter(unsigned int op)
{
	static const char *const l[] = { "R", "W", "F", "D" };

	return op < 4 ? l[op] : "?";
}

const char *bio_op_word(unsigned int op)
{
	static const char *const w[] = { "read", "write", "flush", "discard" };

	return op < 4 ? w[op] : "other";
}

const char *bio_how_word(unsigned int how)
{
	return how == BIO_BY_QUEUER ? "queuer" : "issuer";
}

uint64_t bio_avg(uint64_t total, uint64_t n)
{
	return n ? total / n : 0;
}

int bio_row_by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bio_key));
}

bool bio_row_sub(void *row, const void *prev)
{
	struct bio_row *d = row;
	const struct bio_row *o = prev;

	if (o) {
		d->v.ops -= o->v.ops;
		d->v.bytes -= o->v.bytes;
		d->v.svc_ns -= o->v.svc_ns;
		d->v.queue_ns -= o->v.queue_ns;
		for (int i = 0; i < BIO_SLOTS; i++)
			d->v.slots[i] -= o->v.slots[i];
	}
	return d->v.ops;
}

static uint64_t sort_value(const struct bio_row *r, enum bio_sort by)
{
	switch (by) {
	case BIO_SORT_OPS:
		return r->v.ops;
	case BIO_SORT_TIME:
		return r->v.svc_ns;
	case BIO_SORT_AVG:
		return bio_avg(r->v.svc_ns, r->v.ops);
	default:
		return r->v.bytes;
	}
}

static enum bio_sort sort_by;

static int by_value(const void *a, const void *b)
{
	uint64_t x = sort_value(a, sort_by), y = sort_value(b, sort_by);

	if (x != y)
		return x > y ? -1 : 1;
	return bio_row_by_key(a, b);
}

void bio_rows_sort(struct bio_row *rows, size_t n, enum bio_sort by)
{
	sort_by = by;
	qsort(rows, n, sizeof(*rows), by_value);
}
