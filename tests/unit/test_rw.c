// SPDX-License-Identifier: GPL-2.0
/* The rw module's decoder: an fd record then calls on that fd, as the kernel writes them,
 * to exact JSON and table text (through the test context, nothing loaded); the agent's
 * routes by kind of fd. */
#include "testctx.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "core/fdtab.h"
#include "modules/rw_int.h"
#include "rw.h"

struct fd_rec {
	struct rw_fd_event e;
	char name[RW_NAME_MAX];
};

static void open_fd(struct tc *t, int fd, const char *path)
{
	struct fd_rec r;
	size_t n = strlen(path) + 1;

	memset(&r, 0, sizeof(r));
	tc_hdr(&r.e.hdr, RW_EV_FD, sizeof(r.e) + n, 1000000000ULL, 50, 50, 4242, "postgres");
	r.e.enter_ts = 999000000ULL;
	r.e.ino = 1234;
	r.e.ret = fd;
	r.e.fd = fd;
	r.e.fd2 = -1;
	r.e.dfd = AT_FDCWD;
	r.e.sys = SYS_openat;
	r.e.op = RW_FD_NEW;
	r.e.kind = RW_KIND_FILE;
	r.e.flags = RW_FDF_PATH;
	r.e.name_len = n;
	memcpy(r.name, path, n);
	tc_feed(t, &r, sizeof(r.e) + n);
}

static void call(struct tc *t, uint16_t sys, int fd, long ret, uint32_t req, uint64_t ts)
{
	struct rw_event e;

	memset(&e, 0, sizeof(e));
	tc_hdr(&e.hdr, RW_EV_CALL, sizeof(e), ts, 50, 51, 4242, "postgres");
	e.lat_ns = 1500;
	e.ret = ret;
	e.req = req;
	e.fd = fd;
	e.fd2 = -1;
	e.sys = sys;
	tc_feed(t, &e, sizeof(e));
}

static void tc_open_rw(struct tc *t)
{
	struct rw_state *st;

	tc_open(t, &rw_module, 0, NULL);
	/* the session's fd table, made by rw_setup with the BPF side; here over the empty
	 * /proc */
	st = t->state;
	t->ctx->fdtab = ks_fdtab__new(t->procdir, 64, t->ctx->worker);
	assert_non_null(t->ctx->fdtab);
	st->fds = t->ctx->fdtab;
}

static void test_calls_named_by_fd(void **state)
{
	struct tc t;

	tc_open_rw(&t);
	open_fd(&t, 5, "/srv/pg/base/16384/2619");
	call(&t, SYS_read, 5, 8192, 8192, 1000100000ULL);
	call(&t, SYS_pwrite64, 5, -28, 8192, 1000200000ULL);	/* ENOSPC */
	call(&t, SYS_write, 9, 3, 3, 1000300000ULL);	/* an fd nothing said anything about */
	tc_expect(tc_json(&t),
		  "{\"type\":\"rw\",\"ts\":\"1970-01-01T00:00:01.000100000Z\",\"pid\":50,\"tid\":51,"
		  "\"comm\":\"postgres\",\"service\":\"postgres\",\"cgroup\":4242,\"call\":\"read\","
		  "\"fd\":5,\"req\":8192,\"ret\":8192,\"lat_ns\":1500,\"fd_kind\":\"file\","
		  "\"path\":\"/srv/pg/base/16384/2619\"}\n"
		  "{\"type\":\"rw\",\"ts\":\"1970-01-01T00:00:01.000200000Z\",\"pid\":50,\"tid\":51,"
		  "\"comm\":\"postgres\",\"service\":\"postgres\",\"cgroup\":4242,\"call\":\"pwrite64\","
		  "\"fd\":5,\"req\":8192,\"ret\":-28,\"err\":\"ENOSPC\",\"errno\":28,\"lat_ns\":1500,"
		  "\"fd_kind\":\"file\",\"path\":\"/srv/pg/base/16384/2619\"}\n"
		  "{\"type\":\"rw\",\"ts\":\"1970-01-01T00:00:01.000300000Z\",\"pid\":50,\"tid\":51,"
		  "\"comm\":\"postgres\",\"service\":\"postgres\",\"cgroup\":4242,\"call\":\"write\","
		  "\"fd\":9,\"req\":3,\"ret\":3,\"lat_ns\":1500,\"fd_kind\":\"unknown\"}\n");
	tc_expect(tc_table(&t),
		  "    PID     TID COMM             CALL       FD      REQ      RET     LAT "
		  "FD-KIND/NAME\n"
		  "     50      51 postgres         read        5     8192     8192   1.5us "
		  "file:/srv/pg/base/16384/2619\n"
		  "     50      51 postgres         pwrite64    5     8192   ENOSPC   1.5us "
		  "file:/srv/pg/base/16384/2619\n"
		  "     50      51 postgres         write       9        3        3   1.5us unknown\n");
	/* the registry: every call per process name, bytes each way */
	assert_int_equal(tc_counter(&t, "ksight_rw_calls_total", "postgres"), 3);
	assert_int_equal(tc_counter(&t, "ksight_rw_read_bytes_total", NULL), 8192);
	assert_int_equal(tc_counter(&t, "ksight_rw_written_bytes_total", NULL), 3);
	tc_close(&t);
}

/* The agent's line: bytes per second in IEC units, not "read B/s 30168318.5". */
static void test_summary_units(void **state)
{
	struct tc t;

	tc_open_rw(&t);
	for (int i = 0; i < 3683; i++)
		call(&t, SYS_read, 5, 8192, 8192, 1000000000ULL + i);
	free(tc_json(&t));
	free(tc_table(&t));
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;	/* the agent's table takes summaries */
	rw_module.summary(t.ctx, t.state, 1.0);
	tc_expect(tc_table(&t), "rw        calls 3683/s  read 28.8 MiB/s  write 0 B/s  "
				"top: postgres 3683\n");
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"summary\",\"module\":\"rw\",\"calls_per_s\":3683,"
		  "\"read_bytes_per_s\":30171136,\"write_bytes_per_s\":0,\"top\":{\"postgres\":3683},"
		  "\"calls\":3683,\"read_bytes\":30171136,\"write_bytes\":0}\n");
	tc_close(&t);
}

/* The agent's routes: with --rw-kinds, the kind flags (told by the call for send/recv and
 * positioned I/O, else looked up), none without it or outside the agent; the rows' kind
 * labels from the key's pid. */
static void test_kind_routes(void **state)
{
	struct rw_state st = { .agent = true, .no_latency = true, .fd = KS_UNSET };
	const unsigned int k = KS_SYS_INLINE_KINDS;

	assert_int_equal(rw_module.sys_inline(&st, SYS_read), KS_SYS_INLINE_READ);
	st.want_kinds = true;
	assert_int_equal(rw_module.sys_inline(&st, SYS_read), KS_SYS_INLINE_READ | k);
	assert_int_equal(rw_module.sys_inline(&st, SYS_recvfrom),
			 KS_SYS_INLINE_READ | k | KS_SYS_INLINE_ON_SOCK);
	assert_int_equal(rw_module.sys_inline(&st, SYS_pread64),
			 KS_SYS_INLINE_READ | k | KS_SYS_INLINE_ON_FILE);
	assert_int_equal(rw_module.sys_inline(&st, SYS_sendmsg),
			 KS_SYS_INLINE_WRITE | k | KS_SYS_INLINE_ON_SOCK);
	assert_int_equal(rw_module.sys_inline(&st, SYS_writev), KS_SYS_INLINE_WRITE | k);
	assert_int_equal(rw_module.sys_inline(&st, SYS_copy_file_range),
			 KS_SYS_INLINE_WRITE_ARG2 | k | KS_SYS_INLINE_ON_FILE);
	assert_int_equal(rw_module.sys_inline(&st, SYS_splice), KS_SYS_INLINE_WRITE_ARG2 | k);
	assert_int_equal(rw_module.sys_inline(&st, SYS_openat), 0);
	st.agent = false;	/* --summary --no-latency: sums, no kinds */
	st.summary = true;
	assert_int_equal(rw_module.sys_inline(&st, SYS_read), KS_SYS_INLINE_READ);
	assert_string_equal(rw_kind_label(4242 | KS_FD_K_FILE << KS_FD_KEY_KIND_SHIFT), "file");
	assert_string_equal(rw_kind_label(4242 | KS_FD_K_SOCKET << KS_FD_KEY_KIND_SHIFT),
			    "socket");
	assert_string_equal(rw_kind_label(4242 | KS_FD_K_PIPE << KS_FD_KEY_KIND_SHIFT), "other");
	assert_string_equal(rw_kind_label(4242 | KS_FD_K_ANON << KS_FD_KEY_KIND_SHIFT), "other");
	assert_string_equal(rw_kind_label(4242), "other");	/* no file at the return */
	assert_int_equal((4242 | KS_FD_K_ANON << KS_FD_KEY_KIND_SHIFT) & KS_FD_KEY_PID_MASK, 4242);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_named_by_fd),
		cmocka_unit_test(test_summary_units),
		cmocka_unit_test(test_kind_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
