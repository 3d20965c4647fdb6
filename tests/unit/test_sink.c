// SPDX-License-Identifier: GPL-2.0
/* sink/sink.c: choosing the backend, flushing, errno names. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>

#include "sink/sink.h"

static void test_backends(void **state)
{
	struct ks_clock c;
	struct ks_sink *t, *j;
	struct ks_rec r;
	char *got;
	int fd = tu_memfd();

	ks_clock_init(&c);
	t = ks_sink__new(fd, false, false, &c);
	j = ks_sink__new(fd, true, false, &c);
	assert_non_null(t);
	assert_non_null(j);
	assert_ptr_equal(t->ops, &ks_table_ops);
	assert_ptr_equal(j->ops, &ks_json_ops);
	assert_ptr_equal(t->clock, &c);

	ks_rec_init(&r, "x", NULL);
	ks_rec_uint(&r, "n", "N", 0, 7);
	ks_sink__emit(t, &r);
	ks_sink__emit(j, &r);
	/* nothing is written before a flush (or the free) */
	got = tu_take(fd);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(ks_sink__flush(j), 0);
	ks_sink__free(t);	/* flushes what is left */
	got = tu_take(fd);
	assert_string_equal(got, "{\"type\":\"x\",\"ts\":\"1970-01-01T00:00:00.000000000Z\","
				 "\"n\":7}\nN\n7\n");
	free(got);
	ks_sink__free(j);
	ks_sink__free(NULL);
	close(fd);
}

static void test_reader_gone(void **state)
{
	struct ks_clock c;
	struct ks_sink *s;
	struct ks_rec r;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	ks_clock_init(&c);
	s = ks_sink__new(p[1], true, false, &c);
	close(p[0]);
	ks_rec_init(&r, "x", NULL);
	ks_sink__emit(s, &r);
	assert_int_equal(ks_sink__flush(s), -EPIPE);
	ks_sink__emit(s, &r);
	assert_int_equal(ks_sink__flush(s), -EPIPE);
	ks_sink__free(s);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_errno_name(void **state)
{
	char tmp[16];

	assert_string_equal(ks_errno_name(ENOENT, tmp, sizeof(tmp)), "ENOENT");
	assert_string_equal(ks_errno_name(EACCES, tmp, sizeof(tmp)), "EACCES");
	assert_string_equal(ks_errno_name(EHWPOISON, tmp, sizeof(tmp)), "EHWPOISON");
	/* unknown, zero and negative values come back as numbers */
	assert_string_equal(ks_errno_name(4095, tmp, sizeof(tmp)), "4095");
	assert_ptr_equal(ks_errno_name(4095, tmp, sizeof(tmp)), tmp);
	assert_string_equal(ks_errno_name(0, tmp, sizeof(tmp)), "0");
	assert_string_equal(ks_errno_name(-2, tmp, sizeof(tmp)), "-2");
	assert_string_equal(ks_errno_name(-2147483647 - 1, tmp, 8), "-214748");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_errno_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
