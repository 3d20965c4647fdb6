// SPDX-License-Identifier: GPL-2.0
/* core/path.c: joining a path a process passed to the directory it is relative to, cleanly. */
#include "testutil.h"

#include "core/path.h"

static const char *join(const char *base, bool bcut, const char *arg)
{
	static char out[256];
	bool cut;

	ks_path_join(base, base ? strlen(base) + 1 : 0, bcut, arg, arg ? strlen(arg) + 1 : 0, out,
		     sizeof(out), &cut);
	assert_false(cut);
	return out;
}

static void test_join(void **state)
{
	assert_string_equal(join("/tmp/w", false, "a b"), "/tmp/w/a b");
	assert_string_equal(join("/tmp/w", false, "/etc/passwd"), "/etc/passwd");
	assert_string_equal(join("/", false, "x"), "/x");
	assert_string_equal(join("/", false, ""), "/");
	assert_string_equal(join("/tmp/w", false, ""), "/tmp/w");	/* AT_EMPTY_PATH */
	assert_string_equal(join("/tmp/w", false, NULL), "/tmp/w");	/* fd-based */
	assert_string_equal(join("/tmp//w/", false, "./x//y/."), "/tmp/w/x/y");
	assert_string_equal(join("/tmp/w", false, "../x"), "/tmp/w/../x");	/* .. kept */
	assert_string_equal(join(NULL, false, "rel/./x"), "rel/x");
	assert_string_equal(join(NULL, false, "."), ".");
	assert_string_equal(join(NULL, false, ""), ".");
	assert_string_equal(join("/deep/tail", true, "f"), ".../deep/tail/f");
	assert_string_equal(join("/deep/tail", true, "/abs"), "/abs");	/* base unused */
	/* bytes are bytes: a newline and 0xff pass through (the sinks escape them) */
	assert_string_equal(join("/d\n", false, "n\xff"), "/d\n/n\xff");
}

/* Every way a process can spell a directory gives one clean name. */
static void test_clean_everywhere(void **state)
{
	/* gzip: openat(AT_FDCWD, "/tmp/d/") then openat(that fd, "f.gz") */
	assert_string_equal(join("/tmp/d/", false, "f.gz"), "/tmp/d/f.gz");
	assert_string_equal(join(NULL, false, "/tmp/d/"), "/tmp/d");
	assert_string_equal(join(NULL, false, "//tmp///d//"), "/tmp/d");
	assert_string_equal(join(NULL, false, "/./tmp/./d/."), "/tmp/d");
	assert_string_equal(join(NULL, false, "/"), "/");
	assert_string_equal(join(NULL, false, "///"), "/");
	assert_string_equal(join(NULL, false, "/."), "/");
	assert_string_equal(join("/", false, "/"), "/");
	assert_string_equal(join("/a/", false, "./"), "/a");
	assert_string_equal(join(NULL, false, "./d/"), "d");
	assert_string_equal(join(NULL, false, "d/../"), "d/..");
	/* names that merely start with dots are names */
	assert_string_equal(join("/a", false, ".hidden/..x/..."), "/a/.hidden/..x/...");
}

static void test_join_stops_at_nul_and_len(void **state)
{
	char out[64];
	bool cut;
	size_t n;

	/* lengths include the kernel's NUL; a shorter length cuts the bytes considered */
	n = ks_path_join("/a/b\0junk", 9, false, "c\0zz", 4, out, sizeof(out), &cut);
	assert_int_equal(n, 6);
	assert_string_equal(out, "/a/b/c");
	n = ks_path_join("/a/bcd", 4, false, "", 1, out, sizeof(out), &cut);
	assert_string_equal(out, "/a/b");
	/* only the length: nothing written */
	assert_int_equal(ks_path_join("/x//", 4, false, "y", 1, NULL, 0, NULL), 4);
}

static void test_join_cut(void **state)
{
	char out[8];
	bool cut;
	size_t n;

	n = ks_path_join("/abc/def", 9, false, "ghi", 4, out, sizeof(out), &cut);
	assert_int_equal(n, strlen("/abc/def/ghi"));
	assert_true(cut);
	assert_string_equal(out, "/abc/de");
	n = ks_path_join("/abc", 5, false, "d", 2, out, sizeof(out), &cut);
	assert_false(cut);
	assert_string_equal(out, "/abc/d");
}

static void test_join_dup(void **state)
{
	char *s = ks_path_join_dup("/tmp/d/", "./f");

	assert_string_equal(s, "/tmp/d/f");
	free(s);
	s = ks_path_join_dup(NULL, "x//");
	assert_string_equal(s, "x");
	free(s);
	s = ks_path_join_dup("/ignored", "/abs/");
	assert_string_equal(s, "/abs");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_clean_everywhere),
		cmocka_unit_test(test_join_stops_at_nul_and_len),
		cmocka_unit_test(test_join_cut),
		cmocka_unit_test(test_join_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
