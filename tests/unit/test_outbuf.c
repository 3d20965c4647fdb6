// SPDX-License-Identifier: GPL-2.0
/* sink/outbuf.c: the growable output buffer and its flush to a file descriptor. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>

/* Under AddressSanitizer a huge allocation must fail like malloc does, not abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static struct ks_buf b;

static int setup(void **state)
{
	return ks_buf_init(&b, -1, 4);
}

static int teardown(void **state)
{
	ks_buf_free(&b);
	return 0;
}

static void test_init_free(void **state)
{
	struct ks_buf x;

	assert_int_equal(ks_buf_init(&x, 7, 0), 0);	/* 0: a default capacity */
	assert_int_equal(x.cap, 256);
	assert_int_equal(x.len, 0);
	assert_int_equal(x.fd, 7);
	assert_int_equal(x.err, 0);
	ks_buf_free(&x);
	assert_null(x.p);
	assert_int_equal(x.cap, 0);
	ks_buf_free(&x);	/* twice is fine */
	ks_buf_free(NULL);
}

static void test_u64_i64(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} u[] = {
		{ 0, "0" },	{ 9, "9" },	{ 10, "10" },	{ 4294967296ULL, "4294967296" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	static const struct {
		int64_t v;
		const char *s;
	} i[] = {
		{ 0, "0" },
		{ -1, "-1" },
		{ 42, "42" },
		{ -100, "-100" },
		{ INT64_MAX, "9223372036854775807" },
		{ INT64_MIN, "-9223372036854775808" },
		{ INT64_MIN + 1, "-9223372036854775807" },
	};

	for (size_t k = 0; k < ARRAY_LEN(u); k++) {
		b.len = 0;
		ks_buf_u64(&b, u[k].v);
		assert_string_equal(tu_text(&b), u[k].s);
	}
	for (size_t k = 0; k < ARRAY_LEN(i); k++) {
		b.len = 0;
		ks_buf_i64(&b, i[k].v);
		assert_string_equal(tu_text(&b), i[k].s);
	}
	b.len = 0;	/* appends, no separators */
	ks_buf_u64(&b, 1);
	ks_buf_i64(&b, -2);
	ks_buf_u64(&b, UINT64_MAX);
	assert_string_equal(tu_text(&b), "1-218446744073709551615");
}

static void test_pad(void **state)
{
	ks_buf_pad(&b, "ab", 2, 5);
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "ab", 2, -5);
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "ab", 2, 0);
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "abcdef", 6, 3);	/* too long: never cut */
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "abcdef", 6, -3);
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "abc", 3, -3);
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "abcdef", 2, 4);	/* only n bytes */
	ks_buf_ch(&b, '|');
	ks_buf_pad(&b, "", 0, -2);
	assert_string_equal(tu_text(&b), "   ab|ab   |ab|abcdef|abcdef|abc|  ab|  ");
}

static void test_growth(void **state)
{
	char big[1000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	ks_buf_str(&b, "xy");
	assert_int_equal(b.cap, 4);
	ks_buf_put(&b, big, sizeof(big));
	assert_int_equal(b.len, 1002);
	assert_int_equal(b.cap, 1024);	/* doubled from 4 until it fits */
	assert_memory_equal(b.p, "xy", 2);
	assert_memory_equal(b.p + 2, big, sizeof(big));
	for (int i = 0; i < 100; i++)
		ks_buf_ch(&b, '0' + i % 10);
	assert_int_equal(b.len, 1102);
	assert_int_equal(b.cap, 2048);
	assert_memory_equal(b.p + 1002, "0123456789", 10);
	ks_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 2048);	/* kept for reuse */
	assert_int_equal(ks_buf_reserve(&b, 2048), 0);
	assert_int_equal(b.cap, 2048);
}

static void test_reserve_fails_cleanly(void **state)
{
	char *p;

	ks_buf_str(&b, "abc");
	p = b.p;
	/* an allocation that cannot succeed, and sizes whose sum or doubling overflows */
	assert_int_equal(ks_buf_reserve(&b, SIZE_MAX / 4), -ENOMEM);
	assert_int_equal(ks_buf_reserve(&b, SIZE_MAX - 1), -ENOMEM);
	assert_int_equal(ks_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(ks_buf_reserve(&b, SIZE_MAX / 2 + 1), -ENOMEM);
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.cap, 4);
	ks_buf_ch(&b, 'd');
	assert_string_equal(tu_text(&b), "abcd");
}

static void test_printf(void **state)
{
	char longer[600];

	ks_buf_printf(&b, "%d-%s-%05.1f", -3, "x", 2.25);
	assert_string_equal(tu_text(&b), "-3-x-002.2");
	memset(longer, 'z', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	ks_buf_printf(&b, "[%s]", longer);
	assert_int_equal(b.len, 10 + 601);
	assert_int_equal(b.p[10], '[');
	assert_int_equal(b.p[10 + 600], ']');
	ks_buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 611);
}

static void test_flush(void **state)
{
	struct ks_buf w;
	int fds[2];
	char got[64];

	/* fd -1: output is dropped, not an error */
	ks_buf_str(&b, "gone");
	assert_int_equal(ks_buf_flush(&b), 0);
	assert_int_equal(b.len, 0);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(ks_buf_init(&w, fds[1], 8), 0);
	ks_buf_str(&w, "hello ");
	ks_buf_u64(&w, 42);
	ks_buf_ch(&w, '\n');
	assert_int_equal(ks_buf_flush(&w), 0);
	assert_int_equal(w.len, 0);
	assert_int_equal(read(fds[0], got, sizeof(got)), 9);
	assert_memory_equal(got, "hello 42\n", 9);

	/* the reader goes away: EPIPE is kept and later output dropped */
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	ks_buf_str(&w, "lost");
	assert_int_equal(ks_buf_flush(&w), -EPIPE);
	assert_int_equal(w.err, EPIPE);
	assert_int_equal(w.len, 0);
	ks_buf_str(&w, "also lost");
	assert_int_equal(ks_buf_flush(&w), -EPIPE);
	assert_int_equal(w.len, 0);
	close(fds[1]);
	ks_buf_free(&w);
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_free),
		cmocka_unit_test_setup_teardown(test_u64_i64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_printf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
