// SPDX-License-Identifier: GPL-2.0
/* The open module's decoder: a record as the kernel writes it, to exact JSON and table
 * text, and the registry's counts (through the test context, nothing loaded). */
#include "testctx.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include "open.h"

extern const struct ks_module open_module;

struct open_rec {
	struct open_event e;
	char path[64];
};

static size_t build(struct open_rec *r, long ret, uint64_t flags, const char *path, size_t n)
{
	size_t size = sizeof(r->e) + n;

	memset(r, 0, sizeof(*r));
	tc_hdr(&r->e.hdr, OPEN_EV_OPEN, size, 1500000000ULL, 42, 43, 4242, "cat");
	r->e.ret = ret;
	r->e.flags = flags;
	r->e.dfd = AT_FDCWD;
	r->e.sys = SYS_openat;
	r->e.path_len = n;
	memcpy(r->path, path, n);
	return size;
}

static void test_open_ok(void **state)
{
	char *argv[] = { "-T" };
	struct open_rec r;
	struct tc t;

	tc_open(&t, &open_module, 1, argv);
	tc_feed(&t, &r, build(&r, 3, O_RDONLY | O_CLOEXEC, "/etc/passwd", 12));
	tc_expect(tc_json(&t),
		  "{\"type\":\"open\",\"ts\":\"1970-01-01T00:00:01.500000000Z\",\"pid\":42,"
		  "\"tid\":43,\"comm\":\"cat\",\"service\":\"cat\",\"cgroup\":4242,\"fd\":3,"
		  "\"errno\":0,\"flags\":\"O_RDONLY|O_CLOEXEC\",\"mode\":0,\"syscall\":\"openat\","
		  "\"path\":\"/etc/passwd\",\"path_truncated\":false}\n");
	tc_expect(tc_table(&t),
		  "TIME     PID     COMM              FD ERR     PATH\n"
		  "00:00:01 42      cat                3 0       /etc/passwd\n");
	tc_close(&t);
}

/* A failed open of a hostile name: exact bytes in JSON, display form in the table. */
static void test_open_failed_hostile(void **state)
{
	static const char path[] = "/tmp/new\nline\xff\\x";
	char *argv[] = { "-e" };
	struct open_rec r;
	struct tc t;

	tc_open(&t, &open_module, 1, argv);
	tc_feed(&t, &r, build(&r, -2, O_WRONLY | O_CREAT | O_TRUNC, path, sizeof(path)));
	r.e.mode = 0640;
	tc_feed(&t, &r, sizeof(r.e) + sizeof(path));
	tc_expect(tc_json(&t),
		  "{\"type\":\"open\",\"ts\":\"1970-01-01T00:00:01.500000000Z\",\"pid\":42,"
		  "\"tid\":43,\"comm\":\"cat\",\"service\":\"cat\",\"cgroup\":4242,\"fd\":-1,"
		  "\"err\":\"ENOENT\",\"errno\":2,\"flags\":\"O_WRONLY|O_CREAT|O_TRUNC\",\"mode\":0,"
		  "\"syscall\":\"openat\",\"path\":\"/tmp/new\\nline\\udcff\\\\x\","
		  "\"path_truncated\":false}\n"
		  "{\"type\":\"open\",\"ts\":\"1970-01-01T00:00:01.500000000Z\",\"pid\":42,"
		  "\"tid\":43,\"comm\":\"cat\",\"service\":\"cat\",\"cgroup\":4242,\"fd\":-1,"
		  "\"err\":\"ENOENT\",\"errno\":2,\"flags\":\"O_WRONLY|O_CREAT|O_TRUNC\",\"mode\":416,"
		  "\"syscall\":\"openat\",\"path\":\"/tmp/new\\nline\\udcff\\\\x\","
		  "\"path_truncated\":false}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM              FD ERR     FLAGS                    PATH\n"
		  "42      cat               -1 ENOENT  O_WRONLY|O_CREAT|O_TRUNC /tmp/new\\nline\\xff\\\\x\n"
		  "42      cat               -1 ENOENT  O_WRONLY|O_CREAT|O_TRUNC /tmp/new\\nline\\xff\\\\x\n");
	assert_int_equal(tc_counter(&t, "ksight_open_calls_total", "cat"), 2);
	assert_int_equal(tc_counter(&t, "ksight_open_errors_total", NULL), 2);
	tc_close(&t);
}

/* A record shorter than its path length says is refused, not read past its end. */
static void test_open_short(void **state)
{
	struct open_rec r;
	struct tc t;

	tc_open(&t, &open_module, 0, NULL);
	build(&r, 3, O_RDONLY, "/etc/passwd", 12);
	tc_feed(&t, &r, sizeof(r.e) + 11);
	tc_expect(tc_json(&t), "");
	tc_expect(tc_table(&t), "");
	assert_int_equal(tc_counter(&t, "ksight_open_calls_total", "cat"), -1);
	tc_close(&t);
}

/* The agent's summary of an interval: the registry's deltas, human units in the table. */
static void test_open_summary(void **state)
{
	struct open_rec r;
	struct tc t;

	tc_open(&t, &open_module, 0, NULL);
	for (int i = 0; i < 12000; i++)
		tc_feed(&t, &r, build(&r, i % 3 ? 3 : -13, O_RDONLY, "/x", 3));
	memcpy(r.e.hdr.comm, "sh\0\0", 4);
	tc_feed(&t, &r, sizeof(r.e) + 3);
	free(tc_json(&t));
	free(tc_table(&t));
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;	/* the agent's table takes summaries */
	open_module.summary(t.ctx, t.state, 2.0);
	tc_expect(tc_table(&t), "open      opens 6000/s  failed 4000  top: cat 12.0k, sh 1\n");
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"summary\",\"module\":\"open\",\"opens_per_s\":6000.5,"
		  "\"failed\":4000,\"top\":{\"cat\":12000,\"sh\":1}}\n");
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_ok),
		cmocka_unit_test(test_open_failed_hostile),
		cmocka_unit_test(test_open_short),
		cmocka_unit_test(test_open_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
