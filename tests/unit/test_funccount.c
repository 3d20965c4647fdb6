// SPDX-License-Identifier: GPL-2.0
/* modules/funccount_pat.c: funccount's PATTERN syntax, and its one-line errors. */
#include "testutil.h"

#include "modules/funccount_int.h"

static void ok(const char *s, enum fc_kind kind, const char *bin, const char *glob)
{
	char err[256] = "";
	struct fc_pat p;

	if (fc_pat_parse(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	assert_int_equal(p.kind, kind);
	if (bin)
		assert_string_equal(p.bin, bin);
	else
		assert_null(p.bin);
	assert_string_equal(p.glob, glob);
	fc_pat_free(&p);
}

static void bad(const char *s, const char *why)
{
	char err[256] = "", want[256];
	struct fc_pat p;

	assert_int_equal(fc_pat_parse(s, &p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "pattern '%s': %s", s, why);
	assert_string_equal(err, want);
	assert_null(strchr(err, '\n'));
}

static void test_kinds(void **state)
{
	ok("t:sched:*", FC_TP, NULL, "sched:*");
	ok("sched:sched_switch", FC_TP, NULL, "sched:sched_switch");
	ok("t:syscalls:sys_enter_get?pid", FC_TP, NULL, "syscalls:sys_enter_get?pid");
	ok("u:/lib/x86_64-linux-gnu/libc.so.6:malloc*", FC_USER, "/lib/x86_64-linux-gnu/libc.so.6",
	   "malloc*");
	ok("u:libc:[cm]alloc", FC_USER, "libc", "[cm]alloc");
	ok("k:vfs_*", FC_KERNEL, NULL, "vfs_*");
	ok("vfs_read", FC_KERNEL, NULL, "vfs_read");
}

static void test_bad(void **state)
{
	const char *kinds = "unknown kind (t:CATEGORY:NAME, u:BINARY:FUNCTION or k:FUNCTION)";

	bad("x:sched:*", kinds);
	bad("p::vfs_read", kinds);
	bad("t:sched", "a tracepoint is CATEGORY:NAME");
	bad("t::sched_switch", "an empty part");
	bad("sched:", "an empty part");
	bad("t:a:b:c", "a ':' or '/' in a name");
	bad("u:libc", "a user function is u:BINARY:FUNCTION");
	bad("u::malloc", "an empty part");
	bad("u:libc:", "an empty part");
	bad("k:", "an empty part");
	bad("k:vfs read", "a space or control character in a name");
	bad("k:a/b", "a ':' or '/' in a name");
	bad("", "an empty part");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
