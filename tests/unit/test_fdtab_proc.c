// SPDX-License-Identifier: GPL-2.0
/*
 * core/fdtab_proc.c, fdtab_scan.c, fdtab_query.c: scans read by the worker and merged by
 * time, departed processes, network namespaces, and what other modules ask (notes of what
 * a record saw, struct files, socket peers). The fake: fdtab_fake.h.
 */
#include "fdtab_fake.h"

/* First sight queues a scan; until it is published the fd is unknown, and a change
 * recorded after /proc was read wins over it. */
static void test_scan_is_async(void **state)
{
	struct fake *f = *state;
	uint64_t before = mono_now();
	struct ks_fdchange c;

	fake_pid(f->root, 1300, "net:[4026531840]", "hdr\n");
	link_at(f->root, "1300/fd/3", "/var/a");
	link_at(f->root, "1300/fd/4", "/var/b");
	link_at(f->root, "1300/fd/5", "/var/c");
	assert_string_equal(ks_fdtab__lookup(f->t, 1300, 3, 0, before)->disp, "unknown");
	assert_int_equal(stats(f).scans_queued, 2);
	/* recorded meanwhile: fd 4 closed after /proc was read, fd 5 replaced before */
	c = change(KS_FD_CLOSE, 4, -1, 0, mono_now() + 1000000, NULL);
	c.pid = 1300;
	ks_fdtab__apply(f->t, &c);
	c = change(KS_FD_NEW, 5, -1, 0, before - 1, "/rec/c");
	c.pid = 1300;
	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(ks_fdtab__lookup(f->t, 1300, 3, 0, before)->disp, "unknown");
	assert_int_equal(ks_worker__drain(f->w), 1);
	assert_string_equal(ks_fdtab__lookup(f->t, 1300, 3, 0, before)->disp, "file:/var/a");
	assert_string_equal(ks_fdtab__lookup(f->t, 1300, 5, 0, before)->disp, "file:/rec/c");
	/* fd 4: its close came after the read (never known open, yet not undone) */
	assert_null(ks_fdtab__peek(f->t, 1300, 4));
	/* the cwd came with it */
	c = change(KS_FD_NEW, 6, -1, 0, mono_now(), "x");
	c.pid = 1300;
	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	ks_fdtab__apply(f->t, &c);
	assert_string_equal(ks_fdtab__peek(f->t, 1300, 6)->path, "/home/u/x");

	/* a close_range after the read closes what the scan saw in its range */
	fake_pid(f->root, 1301, "net:[4026531840]", "hdr\n");
	link_at(f->root, "1301/fd/3", "/var/a");
	link_at(f->root, "1301/fd/9", "/var/b");
	before = mono_now();
	ks_fdtab__lookup(f->t, 1301, 3, 0, before);
	c = change(KS_FD_CLOSE_RANGE, 5, 0x7fffffff, 0, mono_now() + 1000000, NULL);
	c.pid = 1301;
	ks_fdtab__apply(f->t, &c);
	ks_worker__drain(f->w);
	assert_string_equal(ks_fdtab__peek(f->t, 1301, 3)->path, "/var/a");
	assert_null(ks_fdtab__peek(f->t, 1301, 9));
}

static void test_forget_and_names(void **state)
{
	struct fake *f = *state;

	open_file(f, 7, 10, 20, "/a");
	close_fd(f, 7, 30, 40, 0);
	/* a closed fd still names its --summary row */
	assert_string_equal(ks_fdtab__name(f->t, PID, 7, 1000)->disp, "file:/a");
	ks_fdtab__forget(f->t, PID, 500);
	assert_int_equal(ks_fdtab__count(f->t), 0);
	assert_int_equal(stats(f).departed, 6);
	assert_null(ks_fdtab__peek(f->t, PID, 0));
	assert_string_equal(ks_fdtab__name(f->t, PID, 7, 1000)->disp, "file:/a");
	assert_string_equal(ks_fdtab__name(f->t, PID, 3, 1000)->disp,
			    "tcp:127.0.0.1:8080->127.0.0.2:50000");
	/* a process known to be gone is not scanned again for a name */
	assert_string_equal(ks_fdtab__name(f->t, PID, 99, 1000)->disp, "unknown");
	assert_int_equal(stats(f).scans_queued, 1);
	/* kept until reaped: what departed before 500 goes, not what departed at 500 */
	ks_fdtab__reap(f->t, 500);
	assert_string_equal(ks_fdtab__name(f->t, PID, 7, 1000)->disp, "file:/a");
	ks_fdtab__reap(f->t, 501);
	assert_int_equal(stats(f).departed, 0);
	/* then a pid seen again is a new process, scanned afresh */
	assert_string_equal(ks_fdtab__name(f->t, PID, 7, 1000)->disp, "unknown");
	ks_worker__drain(f->w);
	assert_string_equal(disp(f, 4, 0), "pipe:[55]");
	assert_int_equal(stats(f).scans_done, 2);
	ks_fdtab__forget(f->t, PID, 600);
	ks_fdtab__forget(f->t, 999, 600);	/* never seen */
	assert_int_equal(ks_fdtab__count(f->t), 0);
}

/* A scan published after its process was forgotten (exit, exec) is thrown away. */
static void test_stale_scan(void **state)
{
	struct fake *f = *state;

	fake_pid(f->root, 1300, "net:[1]", "hdr\n");
	link_at(f->root, "1300/fd/3", "/var/a");
	ks_fdtab__lookup(f->t, 1300, 3, 0, 10);
	ks_fdtab__forget(f->t, 1300, 20);
	ks_worker__drain(f->w);
	assert_int_equal(stats(f).stale, 1);
	assert_null(ks_fdtab__peek(f->t, 1300, 3));
}

/* The same socket inode in two namespaces is two sockets; one namespace, one table. */
static void test_netns(void **state)
{
	struct fake *f = *state;
	const struct ks_fdinfo *a, *b;

	fake_pid(f->root, 2000, "net:[4026532000]",
		 "hdr\n" TCP_LINE("0A00000A:0050", "0B00000A:D431", "777"));
	link_at(f->root, "2000/fd/3", "socket:[777]");
	fake_pid(f->root, 2001, "net:[4026531840]",	/* PID's namespace, seen through 2001 */
		 "hdr\n" TCP_LINE("0100007F:1F90", "0200007F:C350", "777"));
	link_at(f->root, "2001/fd/3", "socket:[777]");
	ks_fdtab__scan(f->t, 2000, 1, 0);
	ks_fdtab__scan(f->t, 2001, 1, 0);
	a = ks_fdtab__lookup(f->t, PID, 3, 0, 1000);
	b = ks_fdtab__lookup(f->t, 2000, 3, 0, 1000);
	assert_string_equal(a->disp, "tcp:127.0.0.1:8080->127.0.0.2:50000");
	assert_string_equal(b->disp, "tcp:10.0.0.10:80->10.0.0.11:54321");
	assert_true(b->netns == 4026532000ULL);
	assert_string_equal(ks_fdtab__lookup(f->t, 2001, 3, 0, 1000)->disp,
			    "tcp:127.0.0.1:8080->127.0.0.2:50000");
	/* 2000's table was read: PID's would have named the socket 127.0.0.1:8080 */
	assert_true(stats(f).net_loads >= 2);
}

static void test_note_and_file(void **state)
{
	struct fake *f = *state;
	struct ks_fdspec s = { .kind = KS_FD_FILE, .path = "/w/a", .file = 0xabc };
	const struct ks_fdinfo *i;

	/* the files module's first write: noted without /proc */
	ks_fdtab__note(f->t, 1400, 3, &s, 100);
	i = ks_fdtab__file(f->t, 1400, 3, 0xabc);
	assert_non_null(i);
	assert_string_equal(i->path, "/w/a");
	assert_null(ks_fdtab__file(f->t, 1400, 3, 0xdef));	/* another struct file */
	assert_null(ks_fdtab__file(f->t, 1400, 4, 0xabc));
	assert_int_equal(stats(f).scans_queued, 1);	/* PID's only */
	/* closed, reopened at the same number: a reused struct file address, another path */
	s.path = "/w/b";
	s.path_cut = true;
	ks_fdtab__note(f->t, 1400, 3, &s, 200);
	i = ks_fdtab__file(f->t, 1400, 3, 0xabc);
	assert_string_equal(i->path, "/w/b");
	assert_true(i->path_cut);
	/* rw named it at its open: the same file gets its struct file */
	open_file(f, 7, 10, 20, "/w/c");
	s = (struct ks_fdspec){ .kind = KS_FD_FILE, .path = "/w/c", .file = 0x123 };
	ks_fdtab__note(f->t, PID, 7, &s, 30);
	assert_ptr_equal(ks_fdtab__file(f->t, PID, 7, 0x123), ks_fdtab__peek(f->t, PID, 7));
	assert_string_equal(disp(f, 7, 15), "file:/w/c");	/* one incarnation */
	/* its exit first, then the close the exit made */
	ks_fdtab__forget(f->t, 1400, 300);
	assert_string_equal(ks_fdtab__file(f->t, 1400, 3, 0xabc)->path, "/w/b");
}

static void test_peer(void **state)
{
	struct fake *f = *state;
	struct ks_fdchange c = inet(KS_FD_NEW, 30, 100, 40000, 443);
	const struct ks_fdinfo *i, *p;
	uint32_t pid = 0;
	int32_t fd = 0;

	ks_fdtab__apply(f->t, &c);
	/* the server side, in another process of the same namespace */
	c = inet(KS_FD_NEW, 5, 110, 0, 0);
	c.pid = 2100;
	memcpy(c.spec.local.addr, "\x0a\x00\x00\x02", 4);
	c.spec.local.port = 443;
	memcpy(c.spec.remote.addr, "\x0a\x00\x00\x01", 4);
	c.spec.remote.port = 40000;
	c.spec.netns = 4026531840ULL;
	ks_fdtab__apply(f->t, &c);
	i = ks_fdtab__lookup(f->t, PID, 30, 0, 1000);
	p = ks_fdtab__peer(f->t, i, &pid, &fd);
	assert_non_null(p);
	assert_int_equal(pid, 2100);
	assert_int_equal(fd, 5);
	assert_ptr_equal(ks_fdtab__peer(f->t, p, &pid, &fd), i);
	assert_int_equal(pid, PID);
	/* the same endpoints in another namespace are another connection */
	c.pid = 2200;
	c.spec.netns = 99;
	ks_fdtab__apply(f->t, &c);
	ks_fdtab__forget(f->t, 2100, 120);
	assert_null(ks_fdtab__peer(f->t, i, &pid, &fd));
	assert_null(ks_fdtab__peer(f->t, ks_fdtab__lookup(f->t, PID, 0, 0, 1000), &pid, &fd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_is_async, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
