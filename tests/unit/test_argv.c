// SPDX-License-Identifier: GPL-2.0
/* core/argv.c: NUL-separated argument areas, counted and cut to a number of arguments. */
#include "testutil.h"

#include "core/argv.h"

#define A(lit) lit, sizeof(lit) - 1	/* the bytes of a literal, NULs included */

static void test_count(void **state)
{
	assert_int_equal(ks_argv_count("", 0), 0);
	assert_int_equal(ks_argv_count(A("\0")), 0);	/* the area of a lone "" */
	assert_int_equal(ks_argv_count(A("ls\0")), 1);
	assert_int_equal(ks_argv_count(A("ls")), 1);	/* no trailing NUL (cut area) */
	assert_int_equal(ks_argv_count(A("ls\0-l\0/tmp\0")), 3);
	assert_int_equal(ks_argv_count(A("ls\0-l\0/tmp")), 3);
	/* only the last NUL ends the area: "a\0" + NUL is "a" and "" */
	assert_int_equal(ks_argv_count(A("a\0\0")), 2);
	assert_int_equal(ks_argv_count(A("a\0\0\0")), 3);
	assert_int_equal(ks_argv_count(A("\0\0")), 2);
	assert_int_equal(ks_argv_count(A("\0a\0")), 2);
	/* the length bounds it, whatever follows */
	assert_int_equal(ks_argv_count("a\0b\0c\0", 2), 1);
	assert_int_equal(ks_argv_count("a\0b\0c\0", 3), 2);
}

static void limit(const char *args, size_t len, size_t max, size_t expect, bool expect_cut)
{
	bool cut = false;

	assert_int_equal(ks_argv_limit(args, len, max, &cut), expect);
	if (cut != expect_cut)
		fail_msg("max %zu: cut %d, expected %d", max, cut, expect_cut);
}

static void test_limit(void **state)
{
	bool cut = true;

	/* nothing: no bytes, never cut (and *cut is left alone) */
	assert_int_equal(ks_argv_limit("", 0, 5, &cut), 0);
	assert_true(cut);
	limit(A("\0"), 0, 0, false);
	limit(A("\0"), 5, 0, false);

	/* all arguments fit: everything but the final NUL */
	limit(A("ls\0-l\0/tmp\0"), 3, 10, false);
	limit(A("ls\0-l\0/tmp\0"), 5, 10, false);
	limit(A("ls\0-l\0/tmp"), 3, 10, false);		/* no final NUL: all bytes */
	/* cut after max arguments: the bytes of the first max, without their last NUL */
	limit(A("ls\0-l\0/tmp\0"), 2, 5, true);		/* "ls\0-l" */
	limit(A("ls\0-l\0/tmp\0"), 1, 2, true);		/* "ls" */
	limit(A("ls\0-l\0/tmp\0"), 0, 0, true);
	limit(A("ls\0-l\0/tmp"), 2, 5, true);

	/* empty arguments count as arguments */
	limit(A("a\0\0"), 2, 2, false);			/* "a\0": "a" and "" */
	limit(A("a\0\0"), 1, 1, true);
	limit(A("\0\0"), 2, 1, false);
	limit(A("\0\0"), 1, 0, true);
	limit(A("\0\0\0"), 2, 1, true);			/* "" "" of "" "" "" */
	limit(A("a\0\0b\0"), 2, 2, true);		/* "a\0" */
	limit(A("a\0\0b\0"), 3, 4, false);

	/* what is kept, given its final NUL back, counts exactly max arguments again */
	{
		static const char args[] = "x\0\0yy\0zzz\0";
		char kept[sizeof(args)];

		for (size_t max = 0; max <= 5; max++) {
			bool c = false;
			size_t n = ks_argv_limit(args, sizeof(args) - 1, max, &c);

			memcpy(kept, args, n);
			kept[n] = 0;
			assert_int_equal(ks_argv_count(kept, n + 1), max < 4 ? max : 4);
			assert_int_equal(c, max < 4);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
