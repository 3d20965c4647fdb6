// SPDX-License-Identifier: GPL-2.0
/* core/clock.c: monotonic to wall time, RFC 3339 with nanoseconds, the -T column. */
#include "testutil.h"

#include <time.h>

#include "core/clock.h"

static struct ks_clock c;
static struct ks_buf b;

static int setup(void **state)
{
	setenv("TZ", "UTC", 1);	/* the -T column is local time */
	tzset();
	ks_clock_init(&c);
	return ks_buf_init(&b, -1, 8);
}

static int teardown(void **state)
{
	ks_buf_free(&b);
	return 0;
}

static const char *rfc(int64_t ns)
{
	b.len = 0;
	ks_clock_rfc3339(&c, &b, ns);
	return tu_text(&b);
}

static const char *hms(int64_t ns)
{
	b.len = 0;
	ks_clock_hms(&c, &b, ns);
	return tu_text(&b);
}

static void test_rfc3339(void **state)
{
	assert_string_equal(rfc(0), "1970-01-01T00:00:00.000000000Z");
	assert_string_equal(rfc(1), "1970-01-01T00:00:00.000000001Z");
	assert_string_equal(rfc(1700000000123456789LL), "2023-11-14T22:13:20.123456789Z");
	assert_string_equal(rfc(1700000000000000007LL), "2023-11-14T22:13:20.000000007Z");
	assert_string_equal(rfc(1700000000999999999LL), "2023-11-14T22:13:20.999999999Z");
	assert_string_equal(rfc(1700000001000000000LL), "2023-11-14T22:13:21.000000000Z");
	assert_string_equal(rfc(951782400000000000LL), "2000-02-29T00:00:00.000000000Z");
	assert_string_equal(rfc(4102444799500000000LL), "2099-12-31T23:59:59.500000000Z");
	/* before the epoch: the second is floored, the fraction stays positive */
	assert_string_equal(rfc(-1), "1969-12-31T23:59:59.999999999Z");
	assert_string_equal(rfc(-1000000000LL), "1969-12-31T23:59:59.000000000Z");
	assert_string_equal(rfc(-1000000001LL), "1969-12-31T23:59:58.999999999Z");
	assert_string_equal(rfc(-1500000000LL), "1969-12-31T23:59:58.500000000Z");
}

static void test_cache(void **state)
{
	/* the date text is made once per second: prove the second call reuses it */
	assert_string_equal(rfc(1700000000100000000LL), "2023-11-14T22:13:20.100000000Z");
	assert_int_equal(c.cached_sec, 1700000000);
	strcpy(c.prefix, "CACHED");
	assert_string_equal(rfc(1700000000200000000LL), "CACHED.200000000Z");
	assert_string_equal(rfc(1700000000999999999LL), "CACHED.999999999Z");
	/* another second is formatted afresh, also going backwards */
	assert_string_equal(rfc(1700000001000000000LL), "2023-11-14T22:13:21.000000000Z");
	assert_string_equal(rfc(1699999999999999999LL), "2023-11-14T22:13:19.999999999Z");
	assert_int_equal(c.cached_sec, 1699999999);

	assert_string_equal(hms(1700000000100000000LL), "22:13:20");
	strcpy(c.hms, "hh:mm:ss");
	assert_string_equal(hms(1700000000900000000LL), "hh:mm:ss");
	assert_string_equal(hms(1700000001000000000LL), "22:13:21");
}

static void test_hms(void **state)
{
	assert_string_equal(hms(0), "00:00:00");
	assert_string_equal(hms(1700000000123456789LL), "22:13:20");
	assert_string_equal(hms(-1), "23:59:59");
	/* appends, like every sink helper */
	b.len = 0;
	ks_buf_str(&b, "t=");
	ks_clock_hms(&c, &b, 3600LL * 1000000000);
	ks_buf_ch(&b, ' ');
	ks_clock_rfc3339(&c, &b, 3600LL * 1000000000);
	assert_string_equal(tu_text(&b), "t=01:00:00 1970-01-01T01:00:00.000000000Z");
}

static void test_init(void **state)
{
	struct timespec real;
	int64_t now, conv;

	/* a fresh clock has nothing cached, even for the first second of the epoch */
	assert_true(c.cached_sec == INT64_MIN && c.cached_hms_sec == INT64_MIN);
	conv = ks_clock_real(&c, ks_clock_mono_now());
	clock_gettime(CLOCK_REALTIME, &real);
	now = (int64_t)real.tv_sec * 1000000000 + real.tv_nsec;
	/* the offset was measured a moment ago: conversion lands within a second of now */
	assert_true(llabs(now - conv) < 1000000000);

	c.mono_to_real = 1700000000000000000LL;
	assert_true(ks_clock_real(&c, 123) == 1700000000000000123LL);
	c.mono_to_real = -5;
	assert_true(ks_clock_real(&c, 3) == -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc3339, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
