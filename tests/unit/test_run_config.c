// SPDX-License-Identifier: GPL-2.0
/* cli/run_config.c: a YAML file under the command line, its errors, --print-config. */
#include "testutil.h"

#include "cli/run_config.h"

struct o {
	const char *listen, *config;
	bool flag, print;
	struct ks_strs out;
	int verbose, hooks;
	uint64_t n;
};

static const char *const hooks[] = { "auto", "kprobe", NULL };

static const struct ks_opt table[] = {
	{ "listen", 0, KS_OPT_STR, offsetof(struct o, listen), "ADDR", "where" },
	{ "flag", 0, KS_OPT_FLAG, offsetof(struct o, flag), NULL, "a flag" },
	{ "output", 'o', KS_OPT_STRS, offsetof(struct o, out), "SPEC", "outputs" },
	{ "verbose", 'v', KS_OPT_COUNT, offsetof(struct o, verbose), NULL, "louder" },
	{ "n", 0, KS_OPT_UINT, offsetof(struct o, n), "N", "a number", 1, 100 },
	{ "hooks", 0, KS_OPT_CHOICE, offsetof(struct o, hooks), "H", "hooks", 0, 0, hooks },
	{ "config", 0, KS_OPT_STR, offsetof(struct o, config), "FILE", "the file" },
	{ "print-config", 0, KS_OPT_FLAG, offsetof(struct o, print), NULL, "print" },
	{ 0 },
};

static char *dir, path[256], err[KS_ERR_LEN];
static const char *pos[4];
static int npos;

static int setup(void **state)
{
	dir = tu_mkdtemp("ksight-run-config");
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	tu_rmtree(dir);
	return 0;
}

static int parse(struct o *v, const char *file, int argc, const char **argv)
{
	struct ks_opt_table t = { table, v };

	memset(v, 0, sizeof(*v));
	if (file)
		tu_write(dir, "c.yaml", file, -1);
	err[0] = 0;
	return ks_run_config_parse(&t, 1, argc, (char **)argv, pos, 4, &npos, err, sizeof(err));
}

/* The command line wins: a scalar, a list (replaced), positionals; what it does not
 * give comes from the file, counts included. */
static void test_merge(void **state)
{
	const char *file = "# a comment\nlisten: 'a:1'\nflag: yes\noutput: [x, y]\nverbose: 2\n"
			   "n: 5\nhooks: kprobe\ninterval: 3\ncount: 4\n";
	const char *a1[] = { "--config", path, "-o", "z", "--listen", "b:2" };
	const char *a2[] = { NULL, "-v", "7" };
	char cfg[300];
	struct o v;

	assert_int_equal(parse(&v, file, 6, a1), 0);
	assert_string_equal(v.listen, "b:2");
	assert_true(v.flag);
	assert_int_equal(v.out.n, 1);
	assert_string_equal(v.out.v[0], "z");
	assert_int_equal(v.verbose, 2);
	assert_int_equal(v.n, 5);
	assert_int_equal(v.hooks, 1);
	assert_int_equal(npos, 2);
	assert_string_equal(pos[0], "3");
	assert_string_equal(pos[1], "4");
	snprintf(cfg, sizeof(cfg), "--config=%s", path);	/* the = form */
	a2[0] = cfg;
	assert_int_equal(parse(&v, file, 3, a2), 0);
	assert_int_equal(v.verbose, 1);
	assert_int_equal(v.out.n, 2);
	assert_string_equal(v.out.v[1], "y");
	assert_int_equal(npos, 1);
	assert_string_equal(pos[0], "7");
}

static void error_at(const char *file, const char *where, const char *needle)
{
	const char *argv[] = { "--config", path };
	char want[300];
	struct o v;

	assert_int_equal(parse(&v, file, 2, argv), -1);
	snprintf(want, sizeof(want), "%s:%s: ", path, where);
	if (strncmp(err, want, strlen(want)))
		fail_msg("'%s' is not at %s", err, where);
	tu_one_line(err, needle);
}

static void test_errors(void **state)
{
	error_at("n: [1\n", "2:1", "did not find expected ',' or ']'");
	error_at("flag: true\nnope: 1\n", "2:1", "unknown key 'nope'");
	error_at("n: 101\n", "1:4", "--n: '101' is not a whole number in 1..100");
	error_at("n: [1]\n", "1:4", "n: expects one value, not a list");
	error_at("flag: 2\n", "1:7", "flag: expects true or false");
	error_at("hooks: fentry\n", "1:8", "'fentry' is not one of auto|kprobe");
	error_at("listen: x\n", "1:9", "--listen x: not HOST:PORT");
	error_at("output: [a, {b: c}]\n", "1:13", "output: expects one value, not a mapping");
	error_at("n: 1\nn: 2\n", "2:1", "'n' given twice (first on line 1)");
	error_at("print-config: true\n", "1:1", "not in a configuration file");
	error_at("interval: x\n", "1:11", "interval: not a number of seconds");
	error_at("count: 0\n", "1:8", "count: not a whole number above 0");
	error_at("just text\n", "1:1", "expects a mapping");
}

static char *print(struct o *v)
{
	struct ks_opt_table t = { table, v };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	ks_run_config_print(f, &t, 1, npos ? atoi(pos[0]) : 0, npos > 1 ? atoi(pos[1]) : 0);
	fclose(f);
	return text;
}

/* What --print-config prints reads back to the same options and the same text. */
static void test_print_round_trip(void **state)
{
	const char *a1[] = { "-o", "x\"q\\z", "-o", "y", "--flag", "-vv", "--n", "9", "5", "2" };
	const char *a2[] = { "--config", path };
	char *first, *second;
	struct o v;

	assert_int_equal(parse(&v, NULL, 10, a1), 0);
	first = print(&v);
	assert_non_null(strstr(first, "\ninterval: 5\n"));
	assert_non_null(strstr(first, "\ncount: 2\n"));
	assert_non_null(strstr(first, "\n# where\nlisten: \"127.0.0.1:9464\"\n"));
	assert_non_null(strstr(first, "\noutput:\n  - \"x\\\"q\\\\z\"\n  - \"y\"\n"));
	assert_non_null(strstr(first, "\nverbose: 2\n"));
	assert_non_null(strstr(first, "\nhooks: \"auto\"\n"));
	assert_null(strstr(first, "config:"));
	assert_int_equal(parse(&v, first, 2, a2), 0);
	assert_string_equal(v.out.v[0], "x\"q\\z");
	second = print(&v);
	assert_string_equal(first, second);
	free(first);
	free(second);
	/* the defaults alone */
	assert_int_equal(parse(&v, "", 0, a2), 0);
	first = print(&v);
	assert_non_null(strstr(first, "\ninterval: 10\n"));
	assert_non_null(strstr(first, "\ncount: ~\n"));
	assert_non_null(strstr(first, "\noutput: []\n"));
	assert_non_null(strstr(first, "\nn: ~\n"));
	assert_int_equal(parse(&v, first, 2, a2), 0);
	second = print(&v);
	assert_string_equal(first, second);
	free(first);
	free(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
