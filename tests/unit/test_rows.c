// SPDX-License-Identifier: GPL-2.0
/* core/rows.c: the change of a sorted snapshot of counters since the previous one. */
#include "testutil.h"

#include "core/rows.h"

struct row {
	struct { uint32_t id; } k;
	struct { uint64_t n, bytes; } v;
};

static int by_id(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->k.id < y->k.id ? -1 : x->k.id > y->k.id;
}

static int subs;

static bool sub(void *r, const void *p)
{
	struct row *d = r;
	const struct row *o = p;

	subs++;
	if (o) {
		d->v.n -= o->v.n;
		d->v.bytes -= o->v.bytes;
	}
	return d->v.n;
}

/* First interval: no previous rows, every non-zero row is its own change, in order. */
static void test_first_interval(void **state)
{
	const struct row cur[] = { { { 1 }, { 3, 30 } }, { { 4 }, { 0, 0 } }, { { 9 }, { 1, 7 } } };
	struct row *d;
	size_t m;

	subs = 0;
	m = ks_rows_deltas(cur, 3, NULL, 0, sizeof(*cur), by_id, sub, (void **)&d);
	assert_non_null(d);
	assert_int_equal(m, 2);
	assert_int_equal(subs, 3);
	assert_int_equal(d[0].k.id, 1);
	assert_int_equal(d[0].v.bytes, 30);
	assert_int_equal(d[1].k.id, 9);
	assert_int_equal(d[1].v.n, 1);
	free(d);
}

/* Rows that grew give their growth, unchanged rows are left out, new rows count whole,
 * and rows gone from the current snapshot do not appear. The input is not changed. */
static void test_changes(void **state)
{
	const struct row prev[] = { { { 1 }, { 3, 30 } }, { { 2 }, { 5, 50 } },
				    { { 7 }, { 2, 20 } } };
	const struct row cur[] = { { { 1 }, { 3, 30 } }, { { 5 }, { 4, 44 } },
				   { { 7 }, { 12, 220 } } };
	struct row *d;
	size_t m;

	m = ks_rows_deltas(cur, 3, prev, 3, sizeof(*cur), by_id, sub, (void **)&d);
	assert_int_equal(m, 2);
	assert_int_equal(d[0].k.id, 5);
	assert_int_equal(d[0].v.n, 4);
	assert_int_equal(d[0].v.bytes, 44);
	assert_int_equal(d[1].k.id, 7);
	assert_int_equal(d[1].v.n, 10);
	assert_int_equal(d[1].v.bytes, 200);
	assert_int_equal(cur[2].v.n, 12);
	free(d);
}

static void test_empty_and_find(void **state)
{
	const struct row prev[] = { { { 2 }, { 1, 1 } }, { { 8 }, { 1, 1 } } };
	const struct row key = { { 8 }, { 0, 0 } }, miss = { { 3 }, { 0, 0 } };
	struct row *d;

	assert_int_equal(ks_rows_deltas(NULL, 0, prev, 2, sizeof(key), by_id, sub, (void **)&d),
			 0);
	assert_non_null(d);
	free(d);
	assert_ptr_equal(ks_rows_find(&key, prev, 2, sizeof(key), by_id), &prev[1]);
	assert_null(ks_rows_find(&miss, prev, 2, sizeof(key), by_id));
	assert_null(ks_rows_find(&key, NULL, 0, sizeof(key), by_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_interval),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_empty_and_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
