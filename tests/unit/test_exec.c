// SPDX-License-Identifier: GPL-2.0
/* The exec module's decoder: exec, failed exec and exit records as the kernel writes them,
 * to exact JSON and table text (through the test context, nothing loaded). */
#include "testctx.h"

#include "core.h"
#include "exec.h"

extern const struct ks_module exec_module;

struct exec_rec {
	struct ks_proc_exec e;
	char data[256];
};

/* filename, then argv with a NUL after each argument, as the kernel copies them */
static size_t build_exec(struct exec_rec *r, const char *file, const char *args, size_t alen)
{
	size_t flen = strlen(file) + 1, size = sizeof(r->e) + flen + alen;

	memset(r, 0, sizeof(*r));
	tc_hdr(&r->e.hdr, KS_EV_PROC_EXEC, size, 2000000000ULL, 77, 77, 4242, "sed");
	r->e.start_ns = 1900000000ULL;
	r->e.ppid = 70;
	r->e.uid = 1000;
	r->e.old_tid = 77;
	r->e.filename_len = flen;
	r->e.args_len = alen;
	r->e.args_total = alen;
	memcpy(r->data, file, flen);
	memcpy(r->data + flen, args, alen);
	return size;
}

/* The backslash of sed's script is one backslash in JSON, two in the table's form. */
static void test_exec(void **state)
{
	static const char args[] = "sed\0-e\0s/\\./_/g\0two words";
	struct exec_rec r;
	struct tc t;

	tc_open(&t, &exec_module, 0, NULL);
	tc_feed(&t, &r, build_exec(&r, "/usr/bin/sed", args, sizeof(args)));
	tc_expect(tc_json(&t),
		  "{\"type\":\"exec\",\"ts\":\"1970-01-01T00:00:02.000000000Z\",\"pid\":77,"
		  "\"tid\":77,\"comm\":\"sed\",\"service\":\"sed\",\"cgroup\":4242,\"event\":\"exec\","
		  "\"ppid\":70,\"uid\":1000,\"ret\":0,\"filename\":\"/usr/bin/sed\","
		  "\"args\":[\"sed\",\"-e\",\"s/\\\\./_/g\",\"two words\"],\"args_truncated\":false}\n");
	tc_expect(tc_table(&t),
		  "EVENT PID     PPID    UID   COMM             RET    ARGS\n"
		  "exec  77      70      1000  sed              0      sed -e s/\\\\./_/g \"two words\"\n");
	assert_int_equal(tc_counter(&t, "ksight_exec_execs_total", "sed"), 1);
	tc_close(&t);
}

static void test_exec_failed(void **state)
{
	struct exec_fail f;
	struct tc t;

	memset(&f, 0, sizeof(f));
	tc_hdr(&f.hdr, EXEC_EV_FAIL, sizeof(f), 3000000000ULL, 78, 78, 4242, "bash");
	f.err = -2;
	f.ppid = 70;
	f.nargs = 2;
	strcpy(f.filename, "/nonexistent/prog");
	strcpy(f.args[0], "prog");
	f.arg_len[0] = 5;
	strcpy(f.args[1], "a b");
	f.arg_len[1] = 4;
	tc_open(&t, &exec_module, 0, NULL);
	tc_feed(&t, &f, sizeof(f));
	tc_expect(tc_json(&t),
		  "{\"type\":\"exec\",\"ts\":\"1970-01-01T00:00:03.000000000Z\",\"pid\":78,"
		  "\"tid\":78,\"comm\":\"bash\",\"service\":\"bash\",\"cgroup\":4242,\"event\":\"fail\","
		  "\"ppid\":70,\"uid\":0,\"err\":\"ENOENT\",\"ret\":-2,"
		  "\"filename\":\"/nonexistent/prog\",\"args\":[\"prog\",\"a b\"],"
		  "\"args_truncated\":false}\n");
	/* the table shows the path that failed, then argv[1..] */
	tc_expect(tc_table(&t),
		  "EVENT PID     PPID    UID   COMM             RET    ARGS\n"
		  "fail  78      70      0     bash             ENOENT /nonexistent/prog \"a b\"\n");
	assert_int_equal(tc_counter(&t, "ksight_exec_failures_total", NULL), 1);
	tc_close(&t);
}

static void test_exit_killed(void **state)
{
	struct ks_proc_exit x;
	struct tc t;

	memset(&x, 0, sizeof(x));
	tc_hdr(&x.hdr, KS_EV_PROC_EXIT, sizeof(x), 4500000000ULL, 79, 79, 4242, "sleep");
	x.start_ns = 4000000000ULL;
	x.cpu_ns = 1234;
	x.ppid = 70;
	x.exit_code = 9 | 0x80;	/* SIGKILL, core dumped */
	tc_open(&t, &exec_module, 0, NULL);
	tc_feed(&t, &x, sizeof(x));
	tc_expect(tc_json(&t),
		  "{\"type\":\"exit\",\"ts\":\"1970-01-01T00:00:04.500000000Z\",\"pid\":79,"
		  "\"tid\":79,\"comm\":\"sleep\",\"service\":\"sleep\",\"cgroup\":4242,"
		  "\"event\":\"exit\",\"ppid\":70,\"uid\":0,\"ret\":137,\"exit_code\":0,\"signal\":9,"
		  "\"core_dumped\":true,\"lifetime_ns\":500000000,\"cpu_ns\":1234,"
		  "\"detail\":\"killed by KILL (core dumped), lifetime 0.500s\"}\n");
	tc_expect(tc_table(&t),
		  "EVENT PID     PPID    UID   COMM             RET    ARGS\n"
		  "exit  79      70      0     sleep            137    killed by KILL (core dumped), "
		  "lifetime 0.500s\n");
	tc_close(&t);
}

/* -x: only failures are shown, but every exec and exit is still counted. */
static void test_failed_only_counts_all(void **state)
{
	char *argv[] = { "-x" };
	struct exec_rec r;
	struct tc t;

	tc_open(&t, &exec_module, 1, argv);
	tc_feed(&t, &r, build_exec(&r, "/bin/true", "true", 5));
	tc_expect(tc_json(&t), "");
	assert_int_equal(tc_counter(&t, "ksight_exec_execs_total", "sed"), 1);
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_exec_failed),
		cmocka_unit_test(test_exit_killed),
		cmocka_unit_test(test_failed_only_counts_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
