// SPDX-License-Identifier: GPL-2.0
/* core/pidset.c: the processes whose kernel rows go after the next report. */
#include "testutil.h"

#include "core/pidset.h"

static void test_empty(void **state)
{
	struct ks_pidset s = { 0 };

	assert_false(ks_pidset_has(&s, 0));
	assert_false(ks_pidset_has(&s, 1));
	ks_pidset_free(&s);
}

/* Past the first allocation, in no order, with repeats: each added pid is found, no
 * other, and lookups between additions see the additions. */
static void test_add_and_find(void **state)
{
	struct ks_pidset s = { 0 };

	for (uint32_t i = 1000; i > 0; i--)
		assert_int_equal(ks_pidset_add(&s, i * 7), 0);
	assert_true(ks_pidset_has(&s, 7));
	assert_true(ks_pidset_has(&s, 7000));
	assert_false(ks_pidset_has(&s, 7001));
	assert_false(ks_pidset_has(&s, 8));
	assert_int_equal(ks_pidset_add(&s, 8), 0);
	assert_int_equal(ks_pidset_add(&s, 7), 0);
	assert_true(ks_pidset_has(&s, 8));
	assert_true(ks_pidset_has(&s, UINT32_C(7)));
	assert_false(ks_pidset_has(&s, UINT32_MAX));
	assert_int_equal(ks_pidset_add(&s, UINT32_MAX), 0);
	assert_true(ks_pidset_has(&s, UINT32_MAX));
	assert_int_equal(s.n, 1003);
	ks_pidset_free(&s);
	assert_null(s.pid);
	assert_int_equal(s.n, 0);
}

/* Cleared, the set is empty but keeps its memory for the next interval. */
static void test_clear(void **state)
{
	struct ks_pidset s = { 0 };
	uint32_t *mem;

	assert_int_equal(ks_pidset_add(&s, 42), 0);
	assert_int_equal(ks_pidset_add(&s, 3), 0);
	assert_true(ks_pidset_has(&s, 42));
	mem = s.pid;
	ks_pidset_clear(&s);
	assert_false(ks_pidset_has(&s, 42));
	assert_false(ks_pidset_has(&s, 3));
	assert_int_equal(ks_pidset_add(&s, 5), 0);
	assert_ptr_equal(s.pid, mem);
	assert_true(ks_pidset_has(&s, 5));
	assert_false(ks_pidset_has(&s, 42));
	ks_pidset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_add_and_find),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
