// SPDX-License-Identifier: GPL-2.0
/* modules/syscount_agg.c: per-CPU copies added up, interval deltas, the top-N order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "modules/syscount_agg.h"

static struct syscount_row row(uint32_t pid, uint16_t nr, uint16_t err, uint64_t count,
			       uint64_t errors, uint64_t lat_ns)
{
	struct syscount_row r;

	memset(&r, 0, sizeof(r));
	r.k.pid = pid;
	r.k.nr = nr;
	r.k.err = err;
	r.count = count;
	r.errors = errors;
	r.lat_ns = lat_ns;
	return r;
}

static const struct syscount_row *find(const struct syscount_row *rows, size_t n, uint32_t pid,
				       uint16_t nr, uint16_t err)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].k.pid == pid && rows[i].k.nr == nr && rows[i].k.err == err)
			return &rows[i];
	fail_msg("no row %u/%u/%u", pid, nr, err);
	return NULL;
}

static void test_cpu_copies_add_up(void **state)
{
	struct syscount_val cpu[3] = {
		{ .count = 10, .errors = 1, .lat_ns = 1000 },
		{ .count = 5, .errors = 0, .lat_ns = 500, .comm = "worker" },
		{ .count = 7, .errors = 7, .lat_ns = 70, .comm = "other" },
	};
	struct syscount_hist h[2] = { { .slots = { [3] = 2, [39] = 1 } },
				      { .slots = { [3] = 5, [8] = 1 } } };
	struct syscount_row r = row(0, 0, 0, 0, 0, 0);

	for (int c = 0; c < 3; c++)
		syscount_row_add(&r, &cpu[c]);
	assert_int_equal(r.count, 22);
	assert_int_equal(r.errors, 8);
	assert_int_equal(r.lat_ns, 1570);
	assert_string_equal(r.comm, "worker");	/* the first CPU that had one */
	for (int c = 0; c < 2; c++)
		syscount_row_add_hist(&r, &h[c]);
	assert_int_equal(r.slots[3], 7);
	assert_int_equal(r.slots[8], 1);
	assert_int_equal(r.slots[39], 1);
	assert_int_equal(r.slots[0], 0);
}

static void test_key_order(void **state)
{
	struct syscount_key a = { 1, 500, 0 }, b = { 2, 0, 0 }, c = { 2, 0, 2 }, d = { 2, 1, 0 };

	assert_true(syscount_key_cmp(&a, &b) < 0);	/* pid first */
	assert_true(syscount_key_cmp(&b, &c) < 0);	/* then nr, then errno */
	assert_true(syscount_key_cmp(&c, &d) < 0);
	assert_true(syscount_key_cmp(&d, &a) > 0);
	assert_int_equal(syscount_key_cmp(&c, &c), 0);
}

static void test_delta_between_reports(void **state)
{
	struct syscount_prev prev = { 0 };
	struct syscount_row first[2] = { row(0, 110, 0, 100, 0, 1000), row(0, 0, 0, 5, 1, 50) };
	struct syscount_row second[3] = {
		row(0, 257, 2, 777, 777, 7770),	/* new since the first report */
		row(0, 0, 0, 5, 1, 50),		/* no calls since */
		row(0, 110, 0, 12345, 0, 99999),
	};
	struct syscount_row third[3];

	first[0].slots[8] = 100;
	second[2].slots[8] = 12000;
	second[2].slots[9] = 345;
	/* the first report has nothing to subtract */
	assert_int_equal(syscount_delta(&prev, first, 2), 0);
	assert_int_equal(find(first, 2, 0, 110, 0)->count, 100);
	assert_int_equal(prev.n, 2);

	memcpy(third, second, sizeof(second));
	assert_int_equal(syscount_delta(&prev, second, 3), 0);
	assert_int_equal(find(second, 3, 0, 110, 0)->count, 12245);
	assert_int_equal(find(second, 3, 0, 110, 0)->lat_ns, 98999);
	assert_int_equal(find(second, 3, 0, 110, 0)->slots[8], 11900);
	assert_int_equal(find(second, 3, 0, 110, 0)->slots[9], 345);
	assert_int_equal(find(second, 3, 0, 0, 0)->count, 0);
	assert_int_equal(find(second, 3, 0, 0, 0)->errors, 0);
	assert_int_equal(find(second, 3, 0, 257, 2)->count, 777);
	assert_int_equal(find(second, 3, 0, 257, 2)->errors, 777);
	/* the rows come back sorted by key */
	assert_int_equal(second[0].k.nr, 0);
	assert_int_equal(second[2].k.nr, 257);

	/* the same totals again: an interval without calls */
	assert_int_equal(syscount_delta(&prev, third, 3), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(third[i].count, 0);
		assert_int_equal(third[i].lat_ns, 0);
		for (int s = 0; s < SYSCOUNT_SLOTS; s++)
			assert_int_equal(third[i].slots[s], 0);
	}
	assert_int_equal(syscount_order(third, 3, false), 0);
	syscount_prev_free(&prev);
	assert_null(prev.rows);
	assert_int_equal(prev.n, 0);
}

static void test_delta_sums_to_total(void **state)
{
	struct syscount_prev prev = { 0 };
	uint64_t sum = 0, total = 0;

	/* running totals of three keys over 50 reports, keys in varying order */
	for (int rep = 1; rep <= 50; rep++) {
		struct syscount_row rows[3];

		for (int k = 0; k < 3; k++) {
			int idx = (k + rep) % 3;

			rows[idx] = row(1000 + k, k, 0, (uint64_t)rep * rep * (k + 1), 0, 0);
		}
		assert_int_equal(syscount_delta(&prev, rows, 3), 0);
		for (int k = 0; k < 3; k++)
			sum += rows[k].count;
	}
	for (int k = 0; k < 3; k++)
		total += 50ULL * 50 * (k + 1);
	assert_int_equal(sum, total);
	syscount_prev_free(&prev);
}

static void test_order(void **state)
{
	struct syscount_row rows[5] = {
		row(0, 3, 0, 10, 0, 5000), row(0, 1, 0, 0, 0, 0), row(0, 2, 0, 50, 0, 100),
		row(0, 0, 0, 10, 0, 5000), row(0, 4, 0, 20, 0, 9000),
	};
	struct syscount_row copy[5];

	memcpy(copy, rows, sizeof(rows));
	assert_int_equal(syscount_order(rows, 5, false), 4);	/* the empty one dropped */
	assert_int_equal(rows[0].k.nr, 2);
	assert_int_equal(rows[1].k.nr, 4);
	assert_int_equal(rows[2].k.nr, 0);	/* tie on count: by key */
	assert_int_equal(rows[3].k.nr, 3);

	assert_int_equal(syscount_order(copy, 5, true), 4);
	assert_int_equal(copy[0].k.nr, 4);
	assert_int_equal(copy[1].k.nr, 0);	/* tie on time and count: by key */
	assert_int_equal(copy[2].k.nr, 3);
	assert_int_equal(copy[3].k.nr, 2);
}

static void test_empty(void **state)
{
	struct syscount_prev prev = { 0 };
	struct syscount_row none[1];

	assert_int_equal(syscount_delta(&prev, none, 0), 0);
	assert_int_equal(prev.n, 0);
	assert_int_equal(syscount_order(none, 0, true), 0);
	syscount_prev_free(&prev);
	syscount_prev_free(&prev);	/* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_copies_add_up),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_delta_between_reports),
		cmocka_unit_test(test_delta_sums_to_total),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
