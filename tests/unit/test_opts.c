// SPDX-License-Identifier: GPL-2.0
/* core/opts.c: table-driven parsing, every bad input one line naming the option. */
#include "testutil.h"

#include "core/opts.h"

struct vals {
	bool json, x, ts;
	int verbose;
	uint64_t pid, size, big;
	const char *name;
	int mode;
};

struct mod {
	uint64_t max_args;
	bool failed;
};

static const char *const modes[] = { "fast", "slow", NULL };

#define OFF(f) offsetof(struct vals, f)

static const struct ks_opt opts[] = {
	{ "json", 0, KS_OPT_FLAG, OFF(json), NULL, "one JSON object per line" },
	{ "extra", 'x', KS_OPT_FLAG, OFF(x), NULL, "extra columns" },
	{ "timestamp", 'T', KS_OPT_FLAG, OFF(ts), NULL, "a TIME column" },
	{ "verbose", 'v', KS_OPT_COUNT, OFF(verbose), NULL, "more logs" },
	{ "pid", 'p', KS_OPT_UINT, OFF(pid), "PID", "only this process", 1, 4194304 },
	{ "big", 0, KS_OPT_UINT, OFF(big), "N", "any u64", 0, UINT64_MAX },
	{ "size", 's', KS_OPT_SIZE, OFF(size), "BYTES", "buffer size", 4096, 1ULL << 30 },
	{ "name", 'n', KS_OPT_STR, OFF(name), "NAME", "only NAME", 0, 16 },
	{ "mode", 'm', KS_OPT_CHOICE, OFF(mode), "MODE", "how", 0, 0, modes },
	{ 0 },
};

static const struct ks_opt mod_opts[] = {
	{ "max-args", 0, KS_OPT_UINT, offsetof(struct mod, max_args), "N", "arguments shown", 1,
	  128 },
	{ "failed", 'X', KS_OPT_FLAG, offsetof(struct mod, failed), NULL, "failures only" },
	{ 0 },
};

static struct vals v;
static struct mod m;
static struct ks_opt_table tables[2] = { { opts, &v }, { mod_opts, &m } };
static const char *pos[KS_OPTS_MAX_POS];
static int npos;
static char err[KS_ERR_LEN];

/* Parse a NULL-terminated list of arguments with room for @max_pos positionals. */
static int parse_n(int max_pos, ...)
{
	static char *argv[32];
	va_list ap;
	int argc = 0;

	memset(&v, 0, sizeof(v));
	memset(&m, 0, sizeof(m));
	memset(pos, 0, sizeof(pos));
	strcpy(err, "untouched");
	va_start(ap, max_pos);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return ks_opts_parse(tables, 2, argc, argv, pos, max_pos, &npos, err, sizeof(err));
}

#define parse(...) parse_n(2, __VA_ARGS__, NULL)

static void test_flags_counts_clusters(void **state)
{
	assert_int_equal(parse("--json", "-xT", "-vvv", "-v", "--verbose"), 0);
	assert_true(v.json && v.x && v.ts);
	assert_int_equal(v.verbose, 5);
	assert_int_equal(npos, 0);
	assert_string_equal(err, "untouched");

	assert_int_equal(parse("-x"), 0);
	assert_true(v.x && !v.ts && !v.json);
	/* a cluster ending in an option that takes a value, glued or separate */
	assert_int_equal(parse("-xp123"), 0);
	assert_true(v.x);
	assert_int_equal(v.pid, 123);
	assert_int_equal(parse("-Tp", "77", "-X"), 0);
	assert_true(v.ts && m.failed);
	assert_int_equal(v.pid, 77);
}

static void test_values(void **state)
{
	assert_int_equal(parse("-p123"), 0);
	assert_int_equal(v.pid, 123);
	assert_int_equal(parse("-p", "1"), 0);
	assert_int_equal(v.pid, 1);
	assert_int_equal(parse("--pid=4194304"), 0);
	assert_int_equal(v.pid, 4194304);
	assert_int_equal(parse("--pid", "42"), 0);
	assert_int_equal(v.pid, 42);
	assert_int_equal(parse("--pid=5", "--pid=6"), 0);	/* the last one wins */
	assert_int_equal(v.pid, 6);
	assert_int_equal(parse("--big=18446744073709551615", "--max-args", "128"), 0);
	assert_true(v.big == UINT64_MAX);
	assert_int_equal(m.max_args, 128);

	assert_int_equal(parse("--name=nginx"), 0);
	assert_string_equal(v.name, "nginx");
	assert_int_equal(parse("-n", "0123456789abcde"), 0);	/* 15 bytes: < max 16 */
	assert_string_equal(v.name, "0123456789abcde");
	assert_int_equal(parse("-nbash"), 0);
	assert_string_equal(v.name, "bash");

	assert_int_equal(parse("--mode=slow"), 0);
	assert_int_equal(v.mode, 1);
	assert_int_equal(parse("-m", "fast"), 0);
	assert_int_equal(v.mode, 0);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *arg;
		uint64_t bytes;
	} ok[] = {
		{ "4096", 4096 },	{ "4K", 4096 },		{ "4k", 4096 },
		{ "12K", 12288 },	/* powers of two are the caller's business */
		{ "8KiB", 8192 },	{ "8KB", 8192 },	{ "8kib", 8192 },
		{ "3M", 3 << 20 },	{ "3MiB", 3 << 20 },	{ "1G", 1 << 30 },
		{ "1GiB", 1 << 30 },	{ "1024Ki", 1 << 20 },
	};
	char arg[64];

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		snprintf(arg, sizeof(arg), "--size=%s", ok[i].arg);
		if (parse(arg))
			fail_msg("%s: %s", arg, err);
		assert_int_equal(v.size, ok[i].bytes);
	}
	assert_int_equal(parse("-s", "64K"), 0);
	assert_int_equal(v.size, 65536);
	assert_int_equal(parse("-s8M"), 0);
	assert_int_equal(v.size, 8 << 20);
}

static void test_size_parser(void **state)
{
	static const char *const bad[] = {
		"", "K", "-4K", "+4K", " 4K", "4K ", "4X", "4KX", "4KiBB", "4iB", "4Bi", "0x10",
		"4.5K", "2G", "3K", "8192B", "99999999999999999999", "17179869184G", "18014398509481984K",
	};
	uint64_t out = 7;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (!ks_parse_size(bad[i], 4096, 1ULL << 30, &out))
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(out, 7);	/* untouched on failure */
	}
	assert_int_equal(ks_parse_size(NULL, 0, 10, &out), -1);
	assert_int_equal(ks_parse_size("0", 0, 10, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(ks_parse_size("16777215G", 0, UINT64_MAX, &out), 0);
	assert_true(out == 16777215ULL << 30);
	assert_int_equal(ks_parse_size("17179869183G", 0, UINT64_MAX, &out), 0);
	assert_true(out == 17179869183ULL << 30);
	assert_int_equal(ks_parse_size("17179869184G", 0, UINT64_MAX, &out), -1);
	assert_int_equal(ks_parse_size("1M", 0, (1 << 20) - 1, &out), -1);
	assert_int_equal(ks_parse_size("1M", (1 << 20) + 1, UINT64_MAX, &out), -1);
}

static void test_u64_parser(void **state)
{
	uint64_t out = 7;

	assert_int_equal(ks_parse_u64("0", 0, 5, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(ks_parse_u64("007", 0, 10, &out), 0);
	assert_int_equal(out, 7);
	assert_int_equal(ks_parse_u64("18446744073709551615", 0, UINT64_MAX, &out), 0);
	assert_true(out == UINT64_MAX);
	out = 3;
	assert_int_equal(ks_parse_u64("18446744073709551616", 0, UINT64_MAX, &out), -1);
	assert_int_equal(ks_parse_u64("99999999999999999999", 0, UINT64_MAX, &out), -1);
	assert_int_equal(ks_parse_u64("-1", 0, UINT64_MAX, &out), -1);
	assert_int_equal(ks_parse_u64("", 0, 5, &out), -1);
	assert_int_equal(ks_parse_u64(NULL, 0, 5, &out), -1);
	assert_int_equal(ks_parse_u64(" 1", 0, 5, &out), -1);
	assert_int_equal(ks_parse_u64("1 ", 0, 5, &out), -1);
	assert_int_equal(ks_parse_u64("1K", 0, 5000, &out), -1);
	assert_int_equal(ks_parse_u64("6", 0, 5, &out), -1);
	assert_int_equal(ks_parse_u64("4", 5, 9, &out), -1);
	assert_int_equal(out, 3);
}

static void test_positionals(void **state)
{
	assert_int_equal(parse("1", "-x", "5"), 0);
	assert_int_equal(npos, 2);
	assert_string_equal(pos[0], "1");
	assert_string_equal(pos[1], "5");
	assert_true(v.x);

	/* "--" ends options: what follows is positional even if it looks like one */
	assert_int_equal(parse("-v", "--", "-x", "--json"), 0);
	assert_int_equal(npos, 2);
	assert_string_equal(pos[0], "-x");
	assert_string_equal(pos[1], "--json");
	assert_false(v.x || v.json);
	assert_int_equal(parse("--", "--"), 0);
	assert_int_equal(npos, 1);
	assert_string_equal(pos[0], "--");
	assert_int_equal(parse("-"), 0);	/* a lone dash is an argument */
	assert_string_equal(pos[0], "-");

	assert_int_equal(parse_n(4, "a", "b", "c", "d", NULL), 0);
	assert_int_equal(npos, 4);
	assert_string_equal(pos[3], "d");
}

struct bad {
	const char *args[4];
	const char *names;	/* must appear in the message */
};

static void test_bad_input(void **state)
{
	static const struct bad bad[] = {
		{ { "-z" }, "unknown option '-z'" },
		{ { "-xz" }, "unknown option '-z'" },
		{ { "-\x01" }, "unknown option '-\\x01'" },
		{ { "--nope" }, "unknown option '--nope'" },
		{ { "--nope=3" }, "unknown option '--nope'" },
		{ { "--pi=3" }, "unknown option '--pi'" },	/* no prefix matching */
		{ { "---x" }, "unknown option '---x'" },
		{ { "-p" }, "option '-p' needs an argument (PID)" },
		{ { "-xp" }, "option '-p' needs an argument (PID)" },
		{ { "--pid" }, "option '--pid' needs an argument (PID)" },
		{ { "-p", "0" }, "-p/--pid: '0' is not a whole number in 1..4194304" },
		{ { "-p4194305" }, "-p/--pid: '4194305'" },
		{ { "-p", "abc" }, "-p/--pid: 'abc'" },
		{ { "-p", "-1" }, "-p/--pid: '-1'" },
		{ { "--pid=-1" }, "-p/--pid: '-1'" },
		{ { "--pid=" }, "-p/--pid: ''" },
		{ { "--pid=12x" }, "-p/--pid: '12x'" },
		{ { "--pid", "--json" }, "-p/--pid: '--json'" },
		{ { "--big=99999999999999999999" }, "--big: '99999999999999999999'" },
		{ { "--max-args=0" }, "--max-args: '0' is not a whole number in 1..128" },
		{ { "-s1" }, "-s/--size: '1' is not a size in 4096..1073741824 bytes" },
		{ { "--size=2G" }, "-s/--size: '2G'" },
		{ { "--size=4Q" }, "-s/--size: '4Q'" },
		{ { "--size=" }, "-s/--size: ''" },
		{ { "--name=" }, "-n/--name: empty argument" },
		{ { "-n", "" }, "-n/--name: empty argument" },
		{ { "-n", "0123456789abcdef" }, "-n/--name: '0123456789abcdef' is longer than 15" },
		{ { "--mode=medium" }, "-m/--mode: 'medium' is not one of fast|slow" },
		{ { "-m", "" }, "-m/--mode: '' is not one of fast|slow" },
		{ { "--json=1" }, "option '--json' takes no argument" },
		{ { "--verbose=2" }, "option '--verbose' takes no argument" },
		{ { "--failed=" }, "option '--failed' takes no argument" },
		{ { "1", "2", "3" }, "unexpected argument '3'" },
		{ { "--", "1", "2", "-x" }, "unexpected argument '-x'" },
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *const *a = bad[i].args;

		if (parse_n(2, a[0], a[1], a[2], a[3], NULL) != -1)
			fail_msg("case %zu (%s) accepted", i, a[0]);
		tu_one_line(err, bad[i].names);
	}
	/* no positionals wanted at all */
	assert_int_equal(parse_n(0, "5", NULL), -1);
	tu_one_line(err, "unexpected argument '5'");
}

static void test_messages_bounded(void **state)
{
	char longopt[400] = "--", longval[400] = "--name=";

	memset(longopt + 2, 'a', 300);
	assert_int_equal(parse(longopt), -1);
	tu_one_line(err, "unknown option '--aaaa");
	assert_true(strlen(err) < 100);	/* the name is cut, not the line */

	memset(longval + 7, 'b', 300);
	assert_int_equal(parse(longval), -1);
	tu_one_line(err, "-n/--name: 'bbbb");
	assert_true(strlen(err) < 100);

	/* a small err buffer still gets a terminated (cut) line */
	{
		char *argv[] = { "--nope" };
		char small[8];

		assert_int_equal(ks_opts_parse(tables, 2, 1, argv, pos, 2, &npos, small,
					       sizeof(small)), -1);
		assert_string_equal(small, "unknown");
	}
}

static void test_help(void **state)
{
	assert_int_equal(parse("--help"), 1);
	assert_int_equal(parse("-h"), 1);
	assert_int_equal(parse("-x", "--help"), 1);
	assert_int_equal(parse("-xh"), 1);
	/* arguments are parsed in order: a bad one before -h is reported */
	assert_int_equal(parse("--nope", "-h"), -1);
	tu_one_line(err, "unknown option '--nope'");
	/* -h as an option's value is that value, not help */
	assert_int_equal(parse("-p", "-h"), -1);
	tu_one_line(err, "-p/--pid: '-h' is not a whole number in 1..4194304");
	/* after "--" it is a positional */
	assert_int_equal(parse("--", "-h"), 0);
	assert_int_equal(npos, 1);
	assert_string_equal(pos[0], "-h");
}

static void test_help_text(void **state)
{
	static const char *const lines[] = {
		"      --json                 one JSON object per line\n",
		"  -x, --extra                extra columns\n",
		"  -T, --timestamp            a TIME column\n",
		"  -v, --verbose              more logs\n",
		"  -p, --pid PID              only this process\n",
		"      --big N                any u64\n",
		"  -s, --size BYTES           buffer size\n",
		"  -n, --name NAME            only NAME\n",
		"  -m, --mode MODE            how\n",
		"      --max-args N           arguments shown\n",
		"  -X, --failed               failures only\n",
	};
	char buf[4096], expect[4096] = "", small[40];

	for (size_t i = 0; i < ARRAY_LEN(lines); i++)
		strcat(expect, lines[i]);
	ks_opts_help(tables, 2, buf, sizeof(buf));
	assert_string_equal(buf, expect);

	ks_opts_help(tables, 2, small, sizeof(small));	/* cut, terminated */
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, expect, sizeof(small) - 1);
	ks_opts_help(tables, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_counts_clusters),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_size_parser),
		cmocka_unit_test(test_u64_parser),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_messages_bounded),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_help_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
