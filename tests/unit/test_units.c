// SPDX-License-Identifier: GPL-2.0
/* sink/units.c: counts, rates and sizes as the terminal shows them. */
#include "testutil.h"

#include "sink/units.h"

static struct ks_buf b;

static int setup(void **state)
{
	return ks_buf_init(&b, -1, 1);
}

static int teardown(void **state)
{
	ks_buf_free(&b);
	return 0;
}

#define COUNT(v, text)                                                                     \
	do {                                                                               \
		b.len = 0;                                                                 \
		ks_fmt_count(&b, v);                                                       \
		assert_string_equal(tu_text(&b), text);                                   \
	} while (0)

#define RATE(v, text)                                                                      \
	do {                                                                               \
		b.len = 0;                                                                 \
		ks_fmt_rate(&b, v);                                                        \
		assert_string_equal(tu_text(&b), text);                                   \
	} while (0)

#define BYTES(v, text)                                                                     \
	do {                                                                               \
		b.len = 0;                                                                 \
		ks_fmt_bytes(&b, v);                                                       \
		assert_string_equal(tu_text(&b), text);                                   \
	} while (0)

static void test_count(void **state)
{
	COUNT(0, "0");
	COUNT(9999, "9999");	/* exact while short */
	COUNT(10000, "10.0k");
	COUNT(12345, "12.3k");
	COUNT(123456, "123k");
	COUNT(999499, "999k");
	COUNT(999500, "1.00M");	/* never "1000k" */
	COUNT(1234567, "1.23M");
	COUNT(4560000000ULL, "4.56G");
	COUNT(UINT64_MAX, "18.4E");
}

static void test_rate(void **state)
{
	RATE(0, "0.0/s");
	RATE(0.04, "0.0/s");
	RATE(1.25, "1.2/s");
	RATE(54.3, "54.3/s");
	RATE(99.94, "99.9/s");
	RATE(540.4, "540/s");
	RATE(9999.4, "9999/s");
	RATE(12345, "12.3k/s");
	RATE(2.5e6, "2.50M/s");
	RATE(-1, "-");
	RATE(NAN, "-");
	RATE(INFINITY, "-");
}

static void test_bytes(void **state)
{
	BYTES(0, "0 B");
	BYTES(512, "512 B");
	BYTES(1023, "1023 B");
	BYTES(1024, "1.00 KiB");
	BYTES(1536, "1.50 KiB");
	BYTES(30168318.5, "28.8 MiB");	/* the agent's "read B/s 30168318.5" */
	BYTES(1023.0 * 1024, "1.00 MiB");	/* 1023 KiB rounds on, not "1023 KiB" */
	BYTES(3.1 * 1024 * 1024 * 1024, "3.10 GiB");
	BYTES(500.0 * 1024 * 1024 * 1024 * 1024, "500 TiB");
	BYTES(NAN, "-");
	b.len = 0;
	ks_fmt_byte_rate(&b, 30168318.5);
	assert_string_equal(tu_text(&b), "28.8 MiB/s");
	b.len = 0;
	ks_fmt_byte_rate(&b, -5);
	assert_string_equal(tu_text(&b), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
