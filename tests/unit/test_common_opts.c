// SPDX-License-Identifier: GPL-2.0
/* cli/common_opts.c: the shared option table and the checks a table cannot make. */
#include "testutil.h"

#include <pthread.h>
#include <sys/syscall.h>

#include "cli/common_opts.h"

static struct ks_common c;
static char err[KS_ERR_LEN];

static int check(bool positional, int npos, ...)
{
	const char *pos[KS_OPTS_MAX_POS];
	va_list ap;

	va_start(ap, npos);
	for (int i = 0; i < npos; i++)
		pos[i] = va_arg(ap, const char *);
	va_end(ap);
	strcpy(err, "untouched");
	return ks_common_check(&c, pos, npos, positional, err, sizeof(err));
}

static int setup(void **state)
{
	ks_common_defaults(&c);
	return 0;
}

static void test_defaults(void **state)
{
	assert_true(c.uid == KS_UNSET);
	assert_true(c.ringbuf_size == 4ULL << 20);
	assert_true(c.pid == 0 && c.tid == 0 && c.interval == 0 && c.count == 0);
	assert_null(c.comm);
	assert_int_equal(c.hooks, KS_HOOKS_AUTO);
	assert_int_equal(check(true, 0), 0);
	assert_string_equal(err, "untouched");
}

static void test_parse_table(void **state)
{
	struct ks_opt_table t = { ks_common_opts, &c };
	char *argv[] = { "-p1", "-t", "2", "-u0", "-n", "sshd", "--cgroup=/sys/fs/cgroup/a", "-Tv",
			 "--json", "--hooks=raw_tp", "--ringbuf-size=16M", "--duration", "30",
			 "5" };
	char *bad[] = { "--hooks=fexit" };
	char *big[] = { "-u", "4294967295" };	/* (uid_t)-1 means "no uid" */
	const char *pos[KS_OPTS_MAX_POS];
	int npos;

	assert_int_equal(ks_opts_parse(&t, 1, ARRAY_LEN(argv), argv, pos, 2, &npos, err,
				       sizeof(err)), 0);
	assert_int_equal(c.pid, 1);
	assert_int_equal(c.tid, 2);
	assert_int_equal(c.uid, 0);
	assert_string_equal(c.comm, "sshd");
	assert_string_equal(c.cgroup, "/sys/fs/cgroup/a");
	assert_true(c.timestamps && c.json);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(c.hooks, KS_HOOKS_RAW_TP);
	assert_true(c.ringbuf_size == 16 << 20);
	assert_int_equal(c.duration, 30);
	assert_int_equal(npos, 1);

	assert_int_equal(ks_opts_parse(&t, 1, 1, bad, pos, 2, &npos, err, sizeof(err)), -1);
	tu_one_line(err, "--hooks: 'fexit' is not one of auto|fentry|kprobe|tp_btf|raw_tp|tp");
	assert_int_equal(ks_opts_parse(&t, 1, 2, big, pos, 2, &npos, err, sizeof(err)), -1);
	tu_one_line(err, "-u/--uid: '4294967295'");
}

static void test_positionals(void **state)
{
	assert_int_equal(check(true, 1, "1"), 0);
	assert_int_equal(c.interval, 1);
	assert_int_equal(c.count, 0);
	assert_int_equal(check(true, 2, "86400", "1000000000"), 0);
	assert_int_equal(c.interval, 86400);
	assert_int_equal(c.count, 1000000000);

	assert_int_equal(check(true, 1, "0"), -1);
	assert_string_equal(err, "interval '0' is not a number of seconds in 1..86400");
	assert_int_equal(check(true, 1, "86401"), -1);
	tu_one_line(err, "interval '86401'");
	assert_int_equal(check(true, 1, "abc"), -1);
	tu_one_line(err, "interval 'abc'");
	assert_int_equal(check(true, 1, "-5"), -1);
	tu_one_line(err, "interval '-5'");
	assert_int_equal(check(true, 2, "1", "0"), -1);
	assert_string_equal(err, "count '0' is not a whole number above 0");
	assert_int_equal(check(true, 2, "1", "2x"), -1);
	tu_one_line(err, "count '2x'");
	assert_int_equal(check(true, 3, "1", "2", "3"), -1);
	assert_string_equal(err, "unexpected argument '3'");
	/* a command without positionals refuses the first one */
	assert_int_equal(check(false, 1, "1"), -1);
	assert_string_equal(err, "unexpected argument '1'");
}

static void test_ringbuf_size(void **state)
{
	c.ringbuf_size = 12288;
	assert_int_equal(check(true, 0), -1);
	assert_string_equal(err, "--ringbuf-size: 12288 is not a power of two");
	c.ringbuf_size = (1ULL << 30) - 4096;
	assert_int_equal(check(true, 0), -1);
	tu_one_line(err, "--ringbuf-size: 1073737728");
	c.ringbuf_size = 4096;
	assert_int_equal(check(true, 0), 0);
	c.ringbuf_size = 1ULL << 30;
	assert_int_equal(check(true, 0), 0);
}

struct live_thread {
	pthread_t th;
	pid_t tid;
	int go[2];	/* the thread lives until this pipe closes */
	int ready[2];
};

static void *thread_main(void *arg)
{
	struct live_thread *t = arg;
	char ch;

	t->tid = syscall(SYS_gettid);
	assert_int_equal(write(t->ready[1], "r", 1), 1);
	while (read(t->go[0], &ch, 1) > 0)
		;
	return NULL;
}

static void test_pid_tid(void **state)
{
	struct live_thread t = { 0 };
	char ch;

	/* pid_max is at most 4194304 (2^22): pids are below it, so this one never exists */
	c.pid = 4194304;
	assert_int_equal(check(true, 0), -1);
	assert_string_equal(err, "-p 4194304: no such process");
	c.pid = getpid();
	assert_int_equal(check(true, 0), 0);

	c.tid = 4194304;
	assert_int_equal(check(true, 0), -1);
	assert_string_equal(err, "-t 4194304: no such thread");

	/* a thread other than the main one: /proc/<tid> is not listed but exists */
	assert_int_equal(pipe(t.go), 0);
	assert_int_equal(pipe(t.ready), 0);
	assert_int_equal(pthread_create(&t.th, NULL, thread_main, &t), 0);
	assert_int_equal(read(t.ready[0], &ch, 1), 1);
	assert_true(t.tid > 0 && t.tid != getpid());
	c.tid = t.tid;
	assert_int_equal(check(true, 0), 0);
	close(t.go[1]);
	assert_int_equal(pthread_join(t.th, NULL), 0);
	close(t.go[0]);
	close(t.ready[0]);
	close(t.ready[1]);
}

/* -o: repeatable; each spec parsed, one output on stdout, files openable, once each. */
static void test_outputs(void **state)
{
	struct ks_opt_table t = { ks_common_opts, &c };
	char *dir = tu_mkdtemp("ksight-o"), f1[300], f2[300], missing[300];
	const char *pos[KS_OPTS_MAX_POS];
	int npos;

	snprintf(f1, sizeof(f1), "-ojson:%s/a.jsonl", dir);
	snprintf(f2, sizeof(f2), "json,event,stats:%s/b:c", dir);
	snprintf(missing, sizeof(missing), "json:%s/no/such", dir);
	char *argv[] = { "-o", "table", f1, "--output", f2 };

	assert_int_equal(ks_opts_parse(&t, 1, ARRAY_LEN(argv), argv, pos, 2, &npos, err,
				       sizeof(err)), 0);
	assert_int_equal(c.outputs.n, 3);
	assert_string_equal(c.outputs.v[0], "table");
	assert_int_equal(check(false, 0), 0);
	/* the files exist now, private: records hold argv and paths */
	struct stat st;
	char path[320];

	snprintf(path, sizeof(path), "%s/b:c", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* each bad spec: one line naming it */
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "xml", "-o xml: unknown format 'xml' (table, json, prometheus, store, otlp, "
			 "otlp-protobuf)" },
		{ "json,evnt:/tmp/x", "unknown record kind 'evnt' (event, report, summary, stats, meta)" },
		{ "json,", "unknown record kind ''" },
		{ "json:", "no file after the colon" },
		{ "table:/tmp/x", "the table format writes to the terminal only" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		ks_common_defaults(&c);
		c.outputs.v[c.outputs.n++] = bad[i].spec;
		assert_int_equal(check(false, 0), -1);
		tu_one_line(err, bad[i].says);
	}
	ks_common_defaults(&c);
	c.outputs.v[c.outputs.n++] = missing + 0;
	assert_int_equal(check(false, 0), -1);
	tu_one_line(err, "No such file or directory");
	/* an address a backend serves on or posts to is not a file to open (before, the
	 * check created a file "127.0.0.1:1" and refused otlp:http://... as ENOENT) */
	char cwd[4096];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	ks_common_defaults(&c);
	c.outputs.v[c.outputs.n++] = "prometheus:127.0.0.1:1";
	c.outputs.v[c.outputs.n++] = "otlp:http://127.0.0.1:1/v1/metrics";
	assert_int_equal(check(false, 0), 0);
	assert_int_equal(access("127.0.0.1:1", F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	/* two outputs on stdout would interleave: refused, --json counts as one */
	ks_common_defaults(&c);
	c.json = true;
	c.outputs.v[c.outputs.n++] = "table";
	assert_int_equal(check(false, 0), -1);
	tu_one_line(err, "-o table: stdout is taken by another output");
	ks_common_defaults(&c);
	c.outputs.v[c.outputs.n++] = f1 + 2;
	c.outputs.v[c.outputs.n++] = f1 + 2;
	assert_int_equal(check(false, 0), -1);
	tu_one_line(err, "that file is named twice");
	/* more than KS_STRS_MAX */
	ks_common_defaults(&c);
	char *many[2 * (KS_STRS_MAX + 1)];

	for (int i = 0; i <= KS_STRS_MAX; i++) {
		many[2 * i] = "-o";
		many[2 * i + 1] = "json";
	}
	assert_int_equal(ks_opts_parse(&t, 1, ARRAY_LEN(many), many, pos, 2, &npos, err,
				       sizeof(err)), -1);
	tu_one_line(err, "-o/--output: given more than 8 times");
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b:c", dir);
	unlink(path);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outputs, setup, NULL),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_parse_table, setup),
		cmocka_unit_test_setup(test_positionals, setup),
		cmocka_unit_test_setup(test_ringbuf_size, setup),
		cmocka_unit_test_setup(test_pid_tid, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
