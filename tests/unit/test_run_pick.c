// SPDX-License-Identifier: GPL-2.0
/* cli/run_pick.c: which modules `ksight run --modules LIST --no-MODULE` runs. */
#include "testutil.h"

#include "cli/run_pick.h"

static const char *const names[] = { "exec", "open", "biolat", "rw" };
#define N 4

static bool no[N], keep[N];
static char err[256];

static int pick(const char *list)
{
	strcpy(err, "untouched");
	return ks_run_pick(names, N, list, no, NULL, keep, err, sizeof(err));
}

static int setup(void **state)
{
	memset(no, 0, sizeof(no));
	memset(keep, 0, sizeof(keep));
	return 0;
}

static void test_all_by_default(void **state)
{
	assert_int_equal(pick(NULL), N);
	for (int i = 0; i < N; i++)
		assert_true(keep[i]);
	assert_string_equal(err, "untouched");
}

static void test_list_and_no(void **state)
{
	assert_int_equal(pick("rw,exec,rw"), 2);
	assert_true(keep[0] && !keep[1] && !keep[2] && keep[3]);
	no[3] = true;
	assert_int_equal(pick("rw,exec"), 1);
	assert_true(keep[0] && !keep[3]);
	assert_int_equal(pick(NULL), N - 1);
	assert_false(keep[3]);
}

static void test_bad_lists(void **state)
{
	assert_int_equal(pick("exec,bogus"), -1);
	assert_non_null(strstr(err, "unknown module 'bogus'"));
	assert_non_null(strstr(err, "(exec, open, biolat, rw)"));
	assert_int_equal(pick("exe"), -1);	/* a prefix is not a name */
	assert_non_null(strstr(err, "'exe'"));
	assert_int_equal(pick("exec,,open"), -1);
	assert_non_null(strstr(err, "empty name"));
	assert_int_equal(pick("open,"), -1);
	assert_non_null(strstr(err, "empty name"));
	no[1] = true;
	assert_int_equal(pick("open"), -1);
	assert_non_null(strstr(err, "no module left"));
	assert_null(strchr(err, '\n'));
}

/* A module the agent never runs (funccount) is named "" by cmd_run, with its no[] set. */
static void test_tool_only_hidden(void **state)
{
	const char *const with[] = { "exec", "", "open" };
	bool n3[3] = { false, true, false }, k3[3];

	assert_int_equal(ks_run_pick(with, 3, NULL, n3, NULL, k3, err, sizeof(err)), 2);
	assert_true(k3[0] && !k3[1] && k3[2]);
	assert_int_equal(ks_run_pick(with, 3, "exec,", n3, NULL, k3, err, sizeof(err)), -1);
	assert_string_equal(err, "--modules: an empty name in 'exec,' (exec, open)");
	assert_int_equal(ks_run_pick(with, 3, "funccount", n3, NULL, k3, err, sizeof(err)), -1);
	assert_string_equal(err, "--modules: unknown module 'funccount' (exec, open)");
}

/* A module that costs every context switch or fault (sched, mem) runs only when named. */
static void test_optin_only_when_named(void **state)
{
	const bool optin[N] = { false, false, true, false };

	assert_int_equal(ks_run_pick(names, N, NULL, no, optin, keep, err, sizeof(err)), N - 1);
	assert_true(keep[0] && keep[1] && !keep[2] && keep[3]);
	assert_int_equal(ks_run_pick(names, N, "biolat,rw", no, optin, keep, err, sizeof(err)),
			 2);
	assert_true(!keep[0] && !keep[1] && keep[2] && keep[3]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_all_by_default, setup),
		cmocka_unit_test_setup(test_list_and_no, setup),
		cmocka_unit_test_setup(test_optin_only_when_named, setup),
		cmocka_unit_test_setup(test_bad_lists, setup),
		cmocka_unit_test_setup(test_tool_only_hidden, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
