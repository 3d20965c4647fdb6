// SPDX-License-Identifier: GPL-2.0
/*
 * core/fdtab.c, fdinfo.c: what an fd is, from a fake /proc and from fd changes, and the
 * ordering rules for closes and reused fd numbers (the fake: fdtab_fake.h).
 */
#include "fdtab_fake.h"

static void test_scan(void **state)
{
	struct fake *f = *state;
	const struct ks_fdinfo *i;

	i = ks_fdtab__lookup(f->t, PID, 3, 0, 1000);
	assert_string_equal(i->disp, "tcp:127.0.0.1:8080->127.0.0.2:50000");
	assert_string_equal(i->kind_name, "socket");
	assert_string_equal(i->proto, "tcp");
	assert_string_equal(i->laddr, "127.0.0.1:8080");
	assert_string_equal(i->raddr, "127.0.0.2:50000");
	assert_int_equal(i->local.port, 8080);
	assert_memory_equal(i->remote.addr, "\x7f\x00\x00\x02", 4);
	assert_true(i->netns == 4026531840ULL);
	assert_null(i->path);
	assert_string_equal(disp(f, 0, 0), "file:/dev/null");
	assert_string_equal(disp(f, 4, 0), "pipe:[55]");
	i = ks_fdtab__lookup(f->t, PID, 5, 0, 1000);
	assert_string_equal(i->disp, "anon:[eventfd]");
	assert_string_equal(i->path, "[eventfd]");
	assert_string_equal(disp(f, 6, 0), "udp:127.0.0.1:53");
	assert_string_equal(disp(f, 9, 0), "unknown");	/* not open */
	assert_int_equal(ks_fdtab__count(f->t), 6);
	assert_int_equal(stats(f).scans_done, 1);
	assert_int_equal(stats(f).net_loads, 1);	/* one table for the namespace */
}

static void test_open_paths(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c;

	open_file(f, 7, 10, 20, "rel/a");
	assert_string_equal(disp(f, 7, 30), "file:/home/u/rel/a");
	open_file(f, 8, 40, 50, "./b");
	assert_string_equal(disp(f, 8, 60), "file:/home/u/b");
	open_file(f, 9, 40, 50, "/abs\x01name");
	assert_string_equal(disp(f, 9, 60), "file:/abs\\x01name");	/* display form */
	assert_string_equal(ks_fdtab__lookup(f->t, PID, 9, 60, 1000)->path, "/abs\x01name");
	/* openat relative to a directory fd */
	open_file(f, 10, 70, 80, "/srv/data");
	c = change(KS_FD_NEW, 11, -1, 90, 100, "x.db");
	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	c.dfd = 10;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 11, 110), "file:/srv/data/x.db");
	/* chdir relative to the old cwd, then fchdir to the directory fd */
	c = change(KS_FD_CWD, -1, -1, 120, 130, "sub");
	ks_fdtab__apply(f->t, &c);
	open_file(f, 12, 140, 150, "c");
	assert_string_equal(disp(f, 12, 160), "file:/home/u/sub/c");
	c = change(KS_FD_CWD, 10, -1, 170, 180, NULL);
	ks_fdtab__apply(f->t, &c);
	open_file(f, 13, 190, 200, "d");
	assert_string_equal(disp(f, 13, 210), "file:/srv/data/d");
}

/* gzip opens "/dir/" and then its files relative to that fd: one slash, never two. */
static void test_paths_clean(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c;

	open_file(f, 7, 10, 20, "/tmp/gz/");
	assert_string_equal(disp(f, 7, 30), "file:/tmp/gz");
	c = change(KS_FD_NEW, 8, -1, 40, 50, "f.gz");
	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	c.dfd = 7;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(ks_fdtab__lookup(f->t, PID, 8, 60, 1000)->path, "/tmp/gz/f.gz");
	open_file(f, 9, 70, 80, "/srv//./x/");
	assert_string_equal(disp(f, 9, 90), "file:/srv/x");
	open_file(f, 10, 70, 80, "./rel//b/");
	assert_string_equal(disp(f, 10, 90), "file:/home/u/rel/b");
	/* chdir("/tmp/gz/") then a relative open */
	c = change(KS_FD_CWD, -1, -1, 100, 110, "/tmp/gz/");
	ks_fdtab__apply(f->t, &c);
	open_file(f, 11, 120, 130, "c");
	assert_string_equal(disp(f, 11, 140), "file:/tmp/gz/c");
}

static void test_close_and_reuse(void **state)
{
	struct fake *f = *state;

	open_file(f, 7, 100, 110, "/a");
	close_fd(f, 7, 200, 210, 0);
	/* a call that entered before the close returned still used /a */
	assert_string_equal(disp(f, 7, 150), "file:/a");
	/* after it: closed, and /proc has no fd 7 (asked once) */
	assert_string_equal(disp(f, 7, 300), "unknown");
	ks_worker__drain(f->w);
	assert_string_equal(disp(f, 7, 300), "unknown");
	assert_int_equal(stats(f).probes_queued, 1);
	/* reopened: the new incarnation; calls entering before its open, the old one */
	open_file(f, 7, 400, 410, "/b");
	assert_string_equal(disp(f, 7, 420), "file:/b");
	/* in between, a call could only fail with EBADF: the last file is the best name */
	assert_string_equal(disp(f, 7, 390), "file:/a");
	assert_string_equal(disp(f, 7, 0), "file:/b");	/* entry unknown: the current one */
}

static void test_close_racing_reopen(void **state)
{
	struct fake *f = *state;

	/* thread A closes /a (enters 200); thread B's open of /b gets the number and its
	 * record (returned 205) reaches user space before A's close (returned 210) */
	open_file(f, 7, 100, 110, "/a");
	open_file(f, 7, 190, 205, "/b");
	close_fd(f, 7, 200, 210, KS_FDC_REUSED);
	assert_string_equal(disp(f, 7, 300), "file:/b");
	/* a read that entered before /b's open began used /a */
	assert_string_equal(disp(f, 7, 150), "file:/a");
	/* the close arrives first: applied, then the open */
	open_file(f, 8, 100, 110, "/c");
	close_fd(f, 8, 200, 210, KS_FDC_REUSED);
	open_file(f, 8, 190, 205, "/d");
	assert_string_equal(disp(f, 8, 300), "file:/d");
}

static void test_close_without_entry_time(void **state)
{
	struct fake *f = *state;
	char path[512];

	/* fexit-only closes carry no entry time: the kernel's reuse flag decides */
	open_file(f, 7, 0, 110, "/a");
	open_file(f, 7, 0, 205, "/b");
	close_fd(f, 7, 0, 210, KS_FDC_REUSED);
	assert_string_equal(disp(f, 7, 0), "file:/b");
	close_fd(f, 7, 0, 300, 0);
	assert_string_equal(disp(f, 7, 0), "unknown");
	/* a scanned fd is older than every close */
	snprintf(path, sizeof(path), "%s/1234/fd/4", f->root);
	assert_int_equal(unlink(path), 0);
	close_fd(f, 4, 50, 60, 0);
	assert_string_equal(disp(f, 4, 70), "unknown");
	ks_worker__drain(f->w);
	assert_string_equal(disp(f, 4, 70), "unknown");
}

static void test_dup_pipe_socketpair(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c;
	const struct ks_fdinfo *i;

	open_file(f, 7, 10, 20, "/a");
	c = change(KS_FD_DUP, 100, 7, 30, 40, NULL);
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 100, 50), "file:/a");
	/* dup of an fd the table does not know: what the kernel saw at the new fd */
	c = change(KS_FD_DUP, 101, 99, 30, 40, "x");
	c.spec.kind = KS_FD_ANON;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 101, 50), "anon:x");
	/* dup2 onto itself changes nothing */
	c = change(KS_FD_DUP, 7, 7, 60, 70, NULL);
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 7, 80), "file:/a");
	/* both ends of a pipe */
	c = change(KS_FD_NEW, 20, 21, 90, 100, NULL);
	c.spec.kind = KS_FD_PIPE;
	c.spec.ino = 31337;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 20, 110), "pipe:[31337]");
	assert_string_equal(disp(f, 21, 110), "pipe:[31337]");
	/* a connected unix socket: no local name, the peer's */
	c = change(KS_FD_NEW, 22, -1, 120, 130, NULL);
	c.spec.kind = KS_FD_SOCKET;
	c.spec.family = AF_UNIX;
	c.spec.sotype = SOCK_STREAM;
	c.spec.lname = "";
	c.spec.rname = "/run/s.sock";
	ks_fdtab__apply(f->t, &c);
	i = ks_fdtab__lookup(f->t, PID, 22, 140, 1000);
	assert_string_equal(i->disp, "unix:->/run/s.sock");
	assert_null(i->laddr);
	assert_string_equal(i->raddr, "/run/s.sock");
	assert_string_equal(i->proto, "unix");
}

/* What @fd is named after a dup from unknown fd 98 whose file the kernel calls @name,
 * before and after /proc was asked. */
static void dup_unknown_file(struct fake *f, int fd, const char *name, const char *before,
			     const char *after)
{
	struct ks_fdchange c = change(KS_FD_DUP, fd, 98, 30, 40, name);

	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_BASENAME;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, fd, 50), before);
	ks_worker__drain(f->w);
	assert_string_equal(disp(f, fd, 50), after);
}

/* A file dup'ed from an fd the table does not know: the kernel gives its last component. */
static void test_dup_of_unknown_file(void **state)
{
	struct fake *f = *state;

	link_at(f->root, "1234/fd/110", "/var/log/app.log");
	link_at(f->root, "1234/fd/112", "/other/c.log");
	/* /proc still has it at the new fd: its whole path */
	dup_unknown_file(f, 110, "app.log", "file:.../app.log", "file:/var/log/app.log");
	/* gone from /proc, or another file there by now: the component, marked as one */
	dup_unknown_file(f, 111, "gone.log", "file:.../gone.log", "file:.../gone.log");
	dup_unknown_file(f, 112, "b.log", "file:.../b.log", "file:.../b.log");
}

static void test_socket_then_connect(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c = inet(KS_FD_NEW, 30, 100, 0, 0);
	const struct ks_fdinfo *i;

	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 30, 110), "tcp:0.0.0.0:0");
	c = inet(KS_FD_UPDATE, 30, 200, 40000, 443);
	ks_fdtab__apply(f->t, &c);
	i = ks_fdtab__lookup(f->t, PID, 30, 210, 1000);
	assert_string_equal(i->disp, "tcp:10.0.0.1:40000->10.0.0.2:443");
	assert_true(i->netns == 4026531840ULL);	/* made by the process: its namespace */
	/* the same incarnation: a call from before the connect is named the same */
	assert_string_equal(disp(f, 30, 150), "tcp:10.0.0.1:40000->10.0.0.2:443");
	/* accept: a new fd with both endpoints */
	c = inet(KS_FD_NEW, 31, 300, 8080, 51000);
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 31, 310), "tcp:10.0.0.1:8080->10.0.0.2:51000");
}

static void test_unbound_udp_refreshed(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c = change(KS_FD_NEW, 6, -1, 10, 20, NULL);

	/* socket() made fd 6 unbound; its first send bound it: /proc/net/udp says :53 */
	c.spec.kind = KS_FD_SOCKET;
	c.spec.family = AF_INET;
	c.spec.sotype = SOCK_DGRAM;
	c.spec.ino = 888;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 6, 30), "udp:0.0.0.0:0");	/* asked */
	assert_string_equal(disp(f, 6, 30), "udp:0.0.0.0:0");	/* once a second */
	assert_int_equal(stats(f).probes_queued, 1);
	ks_worker__drain(f->w);
	assert_string_equal(disp(f, 6, 30), "udp:127.0.0.1:53");
	assert_int_equal(stats(f).probes_done, 1);
}

static void test_close_range(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c = change(KS_FD_CLOSE_RANGE, 8, 0x7fffffff, 30, 40, NULL);

	open_file(f, 7, 10, 20, "/a");
	open_file(f, 8, 10, 20, "/b");
	open_file(f, 9, 10, 20, "/c");
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(disp(f, 7, 50), "file:/a");
	assert_string_equal(disp(f, 8, 50), "unknown");
	assert_string_equal(disp(f, 9, 50), "unknown");
	assert_string_equal(disp(f, 4, 50), "pipe:[55]");	/* below the range */
}

static void test_bounded(void **state)
{
	struct fake *f = *state;
	struct ks_fdtab *t = ks_fdtab__new(f->root, 8, f->w);
	char path[32];

	for (int fd = 10; fd < 200; fd++) {
		struct ks_fdchange c = change(KS_FD_NEW, fd, -1, fd, fd, path);

		snprintf(path, sizeof(path), "/f%d", fd);
		c.spec.kind = KS_FD_FILE;
		c.flags = KS_FDC_PATH;
		ks_fdtab__apply(t, &c);
		assert_true(ks_fdtab__count(t) <= 8);
		assert_string_equal(ks_fdtab__lookup(t, PID, fd, fd, 1000)->path, path);
	}
	ks_worker__drain(f->w);
	ks_fdtab__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_racing_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_without_entry_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_pipe_socketpair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_of_unknown_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_then_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbound_udp_refreshed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
