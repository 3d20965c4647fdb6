// SPDX-License-Identifier: GPL-2.0
/* analyze/hist.c: log2 slots, bounds, percentiles, the biolatency-style print. */
#include "testutil.h"

#include "analyze/hist.h"

static void test_slots(void **state)
{
	static const struct {
		uint64_t v;
		unsigned int slot;
	} cases[] = {
		{ 0, 0 },	{ 1, 0 },	{ 2, 1 },	{ 3, 1 },	{ 4, 2 },
		{ 7, 2 },	{ 8, 3 },	{ 15, 3 },	{ 16, 4 },	{ 1023, 9 },
		{ 1024, 10 },	{ (1ULL << 32) - 1, 31 },	{ 1ULL << 32, 32 },
		{ (1ULL << 63) - 1, 62 },	{ 1ULL << 63, 63 },	{ UINT64_MAX, 63 },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(ks_log2_slot(cases[i].v), cases[i].slot);
}

static void test_bounds(void **state)
{
	uint64_t lo, hi;

	ks_hist_bounds(0, &lo, &hi);
	assert_true(lo == 0 && hi == 1);
	ks_hist_bounds(1, &lo, &hi);
	assert_true(lo == 2 && hi == 3);
	ks_hist_bounds(2, &lo, &hi);
	assert_true(lo == 4 && hi == 7);
	ks_hist_bounds(31, &lo, &hi);
	assert_true(lo == 1ULL << 31 && hi == (1ULL << 32) - 1);
	ks_hist_bounds(62, &lo, &hi);
	assert_true(lo == 1ULL << 62 && hi == (1ULL << 63) - 1);
	ks_hist_bounds(63, &lo, &hi);
	assert_true(lo == 1ULL << 63 && hi == UINT64_MAX);

	/* every value lies in the bounds of its slot, and the slots tile the range */
	for (unsigned int s = 0; s < 64; s++) {
		ks_hist_bounds(s, &lo, &hi);
		assert_int_equal(ks_log2_slot(lo), s);
		assert_int_equal(ks_log2_slot(hi), s);
		if (s < 63)
			assert_int_equal(ks_log2_slot(hi + 1), s + 1);
	}
}

static void test_total(void **state)
{
	const __u64 slots[] = { 1, 0, 2, UINT32_MAX, 5 };

	assert_true(ks_hist_total(slots, 5) == 8ULL + UINT32_MAX);
	assert_int_equal(ks_hist_total(slots, 3), 3);
	assert_int_equal(ks_hist_total(slots, 0), 0);
}

static void test_percentiles(void **state)
{
	const __u64 empty[8] = { 0 };
	const __u64 one[8] = { [3] = 4 };	/* four values in 8..15 */
	const __u64 low[2] = { 2 };		/* two values in 0..1 */
	const __u64 h[8] = { [1] = 10, [3] = 80, [4] = 10 };
	const __u64 top[64] = { [63] = 2 };

	assert_true(ks_hist_percentile(empty, 8, 50) == -1);
	assert_true(ks_hist_percentile(empty, 0, 50) == -1);
	assert_true(ks_hist_percentile(h, 8, 0) == -1);
	assert_true(ks_hist_percentile(h, 8, -5) == -1);
	assert_true(ks_hist_percentile(h, 8, 100.001) == -1);
	assert_true(ks_hist_percentile(h, 8, NAN) == -1);

	/* inside one bucket: linear from lo (8) to hi + 1 (16) */
	assert_true(ks_hist_percentile(one, 8, 25) == 10.0);
	assert_true(ks_hist_percentile(one, 8, 50) == 12.0);
	assert_true(ks_hist_percentile(one, 8, 75) == 14.0);
	assert_true(ks_hist_percentile(one, 8, 100) == 16.0);
	assert_near(ks_hist_percentile(one, 8, 1e-9), 8.0);
	assert_true(ks_hist_percentile(low, 2, 50) == 1.0);
	assert_true(ks_hist_percentile(low, 2, 100) == 2.0);

	/* 10 in 2..3, 80 in 8..15, 10 in 16..31 */
	assert_true(ks_hist_percentile(h, 8, 10) == 4.0);	/* end of the first bucket */
	assert_true(ks_hist_percentile(h, 8, 5) == 3.0);
	assert_true(ks_hist_percentile(h, 8, 50) == 12.0);	/* 8 + 8 * 40/80 */
	assert_near(ks_hist_percentile(h, 8, 90), 16.0);	/* 8 + 8 * 80/80 */
	assert_near(ks_hist_percentile(h, 8, 99), 30.4);	/* 16 + 16 * 9/10 */
	assert_true(ks_hist_percentile(h, 8, 100) == 32.0);
	/* the empty bucket between is skipped, not interpolated through */
	assert_near(ks_hist_percentile(h, 8, 10.5), 8.05);

	/* the last slot's upper bound is 2^64 */
	assert_true(ks_hist_percentile(top, 64, 50) == 0x1.8p63);
	assert_true(ks_hist_percentile(top, 64, 100) == 0x1p64);
}

static const char *print(struct ks_buf *b, const __u64 *slots, unsigned int n, const char *unit)
{
	b->len = 0;
	ks_hist_print(b, slots, n, unit);
	return tu_text(b);
}

static void test_print(void **state)
{
	const __u64 h[8] = { [1] = 10, [3] = 80, [4] = 10 };	/* 5 zero slots at the end */
	const __u64 zero[4] = { 0 };
	struct ks_buf b;

	assert_int_equal(ks_buf_init(&b, -1, 16), 0);
	assert_string_equal(print(&b, h, 8, "usecs"),
		"                  usecs      : count    distribution\n"
		"             0 -> 1          : 0        |                                        |\n"
		"             2 -> 3          : 10       |*****                                   |\n"
		"             4 -> 7          : 0        |                                        |\n"
		"             8 -> 15         : 80       |****************************************|\n"
		"            16 -> 31         : 10       |*****                                   |\n");
	/* nothing counted: the header alone */
	assert_string_equal(print(&b, zero, 4, "msecs"),
			    "                  msecs      : count    distribution\n");
	assert_string_equal(print(&b, zero, 0, "msecs"),
			    "                  msecs      : count    distribution\n");
	ks_buf_free(&b);
}

static void test_print_stars(void **state)
{
	/* one star per 1/40 of the largest count, rounded down */
	const __u64 h[3] = { 39, 40, 1 };
	/* counts large enough that count * 40 does not fit in 64 bits */
	const __u64 big[2] = { 1ULL << 62, 1ULL << 61 };
	const __u64 max[2] = { UINT64_MAX, UINT64_MAX / 4 };
	struct ks_buf b;

	assert_int_equal(ks_buf_init(&b, -1, 16), 0);
	assert_string_equal(print(&b, h, 3, "x"),
		"                  x          : count    distribution\n"
		"             0 -> 1          : 39       |*************************************** |\n"
		"             2 -> 3          : 40       |****************************************|\n"
		"             4 -> 7          : 1        |*                                       |\n");
	assert_string_equal(print(&b, big, 2, "x"),
		"                  x          : count    distribution\n"
		"             0 -> 1          : 4611686018427387904 "
		"|****************************************|\n"
		"             2 -> 3          : 2305843009213693952 "
		"|********************                    |\n");
	print(&b, max, 2, "x");
	assert_non_null(strstr(b.p, ": 18446744073709551615 "
				    "|****************************************|\n"));
	assert_non_null(strstr(b.p, ": 4611686018427387903 "
				    "|*********                               |\n"));
	ks_buf_free(&b);
}

static const char *dur(struct ks_buf *b, double v, double unit_ns)
{
	b->len = 0;
	ks_fmt_duration(b, v, unit_ns);
	return tu_text(b);
}

static void test_duration(void **state)
{
	struct ks_buf b;

	assert_int_equal(ks_buf_init(&b, -1, 4), 0);
	assert_string_equal(dur(&b, 0, 1), "0ns");
	assert_string_equal(dur(&b, 999, 1), "999ns");
	assert_string_equal(dur(&b, 1500, 1), "1.5us");
	assert_string_equal(dur(&b, 10, 1000), "10us");
	assert_string_equal(dur(&b, 512, 1000), "512us");
	assert_string_equal(dur(&b, 2100, 1000), "2.1ms");
	assert_string_equal(dur(&b, 12345678, 1), "12ms");
	assert_string_equal(dur(&b, 999, 1e6), "999ms");
	assert_string_equal(dur(&b, 3, 1e9), "3.0s");
	assert_string_equal(dur(&b, 90, 1e9), "90.0s");
	assert_string_equal(dur(&b, -1, 1000), "-");	/* an empty histogram's percentile */
	ks_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),	   cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_total),	   cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_print),	   cmocka_unit_test(test_print_stars),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
