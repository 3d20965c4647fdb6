// SPDX-License-Identifier: GPL-2.0
/*
 * modules/rw_fdcache.c, rw_fdscan.c, rw_fdinfo.c: what an fd is, from a fake /proc tree and
 * from fd records, and the ordering rules for closes and reused fd numbers.
 */
#include "testutil.h"

#include <sys/socket.h>
#include <sys/syscall.h>

#include "modules/rw_fdcache.h"

#define PID 1234

struct fake {
	char *root;
	struct rw_fdcache *c;
};

static void link_at(const char *root, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void mkdir_at(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* /proc/1234 with fds 0 (/dev/null), 3 (a TCP socket), 4 (a pipe), 5 (eventfd) and an
 * unbound UDP socket 6 that /proc/net/udp shows bound. */
static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char net[256];

	f->root = tu_mkdtemp("rwfd");
	mkdir_at(f->root, "1234");
	mkdir_at(f->root, "1234/fd");
	mkdir_at(f->root, "1234/net");
	mkdir_at(f->root, "1234/ns");
	link_at(f->root, "1234/cwd", "/home/u");
	link_at(f->root, "1234/ns/net", "net:[4026531840]");
	link_at(f->root, "1234/fd/0", "/dev/null");
	link_at(f->root, "1234/fd/3", "socket:[777]");
	link_at(f->root, "1234/fd/4", "pipe:[55]");
	link_at(f->root, "1234/fd/5", "anon_inode:[eventfd]");
	link_at(f->root, "1234/fd/6", "socket:[888]");
	snprintf(net, sizeof(net), "%s/1234/net", f->root);
	tu_write(net, "tcp", "hdr\n   0: 0100007F:1F90 0200007F:C350 01 00000000:00000000 "
		 "00:00000000 00000000 0 0 777 1\n", -1);
	tu_write(net, "udp", "hdr\n   0: 0100007F:0035 00000000:0000 07 00000000:00000000 "
		 "00:00000000 00000000 0 0 888 2\n", -1);
	f->c = rw_fdcache__new(f->root, 1000);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	rw_fdcache__free(f->c);
	tu_rmtree(f->root);
	free(f);
	return 0;
}

static const char *disp(struct fake *f, int fd, uint64_t enter)
{
	return rw_fdcache__lookup(f->c, PID, fd, enter, 1000)->disp;
}

/* An fd record; @name NULL for none. */
static struct rw_fd_event *ev(uint8_t op, int fd, int fd2, uint64_t enter, uint64_t ts,
			      const char *name, size_t *size)
{
	size_t n = name ? strlen(name) + 1 : 0;
	struct rw_fd_event *e = calloc(1, sizeof(*e) + n);

	e->hdr.type = RW_EV_FD;
	e->hdr.pid = PID;
	e->hdr.ts = ts;
	e->enter_ts = enter;
	e->op = op;
	e->fd = fd;
	e->fd2 = fd2;
	e->dfd = -100;
	if (name) {
		memcpy(e->name, name, n);
		e->name_len = n;
	}
	*size = sizeof(*e) + n;
	return e;
}

static void apply(struct fake *f, struct rw_fd_event *e, size_t size)
{
	rw_fdcache__apply(f->c, e, size);
	free(e);
}

static void open_file(struct fake *f, int fd, uint64_t enter, uint64_t ts, const char *path)
{
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_NEW, fd, -1, enter, ts, path, &n);

	e->kind = RW_KIND_FILE;
	e->flags = RW_FDF_PATH;
	apply(f, e, n);
}

static void close_fd(struct fake *f, int fd, uint64_t enter, uint64_t ts, uint16_t flags)
{
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_CLOSE, fd, -1, enter, ts, NULL, &n);

	e->flags = flags;
	apply(f, e, n);
}

static void test_scan(void **state)
{
	struct fake *f = *state;
	const struct rw_fdinfo *i;

	i = rw_fdcache__lookup(f->c, PID, 3, 0, 1000);
	assert_string_equal(i->disp, "tcp:127.0.0.1:8080->127.0.0.2:50000");
	assert_string_equal(i->kind_name, "socket");
	assert_string_equal(i->proto, "tcp");
	assert_string_equal(i->laddr, "127.0.0.1:8080");
	assert_string_equal(i->raddr, "127.0.0.2:50000");
	assert_null(i->path);
	assert_string_equal(disp(f, 0, 0), "file:/dev/null");
	assert_string_equal(disp(f, 4, 0), "pipe:[55]");
	i = rw_fdcache__lookup(f->c, PID, 5, 0, 1000);
	assert_string_equal(i->disp, "anon:[eventfd]");
	assert_string_equal(i->path, "[eventfd]");
	assert_string_equal(disp(f, 6, 0), "udp:127.0.0.1:53");
	assert_string_equal(disp(f, 9, 0), "unknown");	/* not open */
	assert_int_equal(rw_fdcache__count(f->c), 6);
}

static void test_open_paths(void **state)
{
	struct fake *f = *state;
	size_t n;
	struct rw_fd_event *e;

	open_file(f, 7, 10, 20, "rel/a");
	assert_string_equal(disp(f, 7, 30), "file:/home/u/rel/a");
	open_file(f, 8, 40, 50, "./b");
	assert_string_equal(disp(f, 8, 60), "file:/home/u/b");
	open_file(f, 9, 40, 50, "/abs\x01name");
	assert_string_equal(disp(f, 9, 60), "file:/abs\\x01name");	/* display form */
	assert_string_equal(rw_fdcache__lookup(f->c, PID, 9, 60, 1000)->path, "/abs\x01name");
	/* openat relative to a directory fd */
	open_file(f, 10, 70, 80, "/srv/data");
	e = ev(RW_FD_NEW, 11, -1, 90, 100, "x.db", &n);
	e->kind = RW_KIND_FILE;
	e->flags = RW_FDF_PATH;
	e->dfd = 10;
	apply(f, e, n);
	assert_string_equal(disp(f, 11, 110), "file:/srv/data/x.db");
	/* chdir relative to the old cwd, then fchdir to the directory fd */
	e = ev(RW_FD_CWD, -1, -1, 120, 130, "sub", &n);
	apply(f, e, n);
	open_file(f, 12, 140, 150, "c");
	assert_string_equal(disp(f, 12, 160), "file:/home/u/sub/c");
	e = ev(RW_FD_CWD, 10, -1, 170, 180, NULL, &n);
	apply(f, e, n);
	open_file(f, 13, 190, 200, "d");
	assert_string_equal(disp(f, 13, 210), "file:/srv/data/d");
}

/* gzip opens "/dir/" and then its files relative to that fd: one slash, never two. */
static void test_paths_clean(void **state)
{
	struct fake *f = *state;
	struct rw_fd_event *e;
	size_t n;

	open_file(f, 7, 10, 20, "/tmp/gz/");
	assert_string_equal(disp(f, 7, 30), "file:/tmp/gz");
	e = ev(RW_FD_NEW, 8, -1, 40, 50, "f.gz", &n);
	e->kind = RW_KIND_FILE;
	e->flags = RW_FDF_PATH;
	e->dfd = 7;
	apply(f, e, n);
	assert_string_equal(rw_fdcache__lookup(f->c, PID, 8, 60, 1000)->path, "/tmp/gz/f.gz");
	open_file(f, 9, 70, 80, "/srv//./x/");
	assert_string_equal(disp(f, 9, 90), "file:/srv/x");
	open_file(f, 10, 70, 80, "./rel//b/");
	assert_string_equal(disp(f, 10, 90), "file:/home/u/rel/b");
	/* chdir("/tmp/gz/") then a relative open */
	e = ev(RW_FD_CWD, -1, -1, 100, 110, "/tmp/gz/", &n);
	apply(f, e, n);
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
	/* after it: closed, and /proc has no fd 7 */
	assert_string_equal(disp(f, 7, 300), "unknown");
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
	close_fd(f, 7, 200, 210, RW_FDF_REUSED);
	assert_string_equal(disp(f, 7, 300), "file:/b");
	/* a read that entered before /b's open began used /a */
	assert_string_equal(disp(f, 7, 150), "file:/a");
	/* the close arrives first: applied, then the open */
	open_file(f, 8, 100, 110, "/c");
	close_fd(f, 8, 200, 210, RW_FDF_REUSED);
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
	close_fd(f, 7, 0, 210, RW_FDF_REUSED);
	assert_string_equal(disp(f, 7, 0), "file:/b");
	close_fd(f, 7, 0, 300, 0);
	assert_string_equal(disp(f, 7, 0), "unknown");
	/* a scanned fd is older than every close */
	snprintf(path, sizeof(path), "%s/1234/fd/4", f->root);
	assert_int_equal(unlink(path), 0);
	close_fd(f, 4, 50, 60, 0);
	assert_string_equal(disp(f, 4, 70), "unknown");
}

static void test_dup_pipe_socketpair(void **state)
{
	struct fake *f = *state;
	size_t n;
	struct rw_fd_event *e;

	open_file(f, 7, 10, 20, "/a");
	e = ev(RW_FD_DUP, 100, 7, 30, 40, NULL, &n);
	apply(f, e, n);
	assert_string_equal(disp(f, 100, 50), "file:/a");
	/* dup of an fd the cache does not know: what the kernel saw at the new fd */
	e = ev(RW_FD_DUP, 101, 99, 30, 40, "x", &n);
	e->kind = RW_KIND_ANON;
	apply(f, e, n);
	assert_string_equal(disp(f, 101, 50), "anon:x");
	/* dup2 onto itself changes nothing */
	e = ev(RW_FD_DUP, 7, 7, 60, 70, NULL, &n);
	apply(f, e, n);
	assert_string_equal(disp(f, 7, 80), "file:/a");
	/* both ends of a pipe */
	e = ev(RW_FD_NEW, 20, 21, 90, 100, NULL, &n);
	e->kind = RW_KIND_PIPE;
	e->ino = 31337;
	apply(f, e, n);
	assert_string_equal(disp(f, 20, 110), "pipe:[31337]");
	assert_string_equal(disp(f, 21, 110), "pipe:[31337]");
	/* a named unix pair: local path at name[0], the peer's at name[RW_UNIX_HALF] */
	e = calloc(1, sizeof(*e) + 2 * RW_UNIX_HALF);
	e->hdr.pid = PID;
	e->hdr.ts = 130;
	e->op = RW_FD_NEW;
	e->fd = 22;
	e->fd2 = -1;
	e->kind = RW_KIND_SOCKET;
	e->family = AF_UNIX;
	e->sotype = SOCK_STREAM;
	e->name_len = 2 * RW_UNIX_HALF;
	strcpy(e->name + RW_UNIX_HALF, "/run/s.sock");
	apply(f, e, sizeof(*e) + 2 * RW_UNIX_HALF);
	assert_string_equal(disp(f, 22, 140), "unix:->/run/s.sock");
	assert_null(rw_fdcache__lookup(f->c, PID, 22, 140, 1000)->laddr);
	assert_string_equal(rw_fdcache__lookup(f->c, PID, 22, 140, 1000)->raddr, "/run/s.sock");
}

static struct rw_fd_event *inet_ev(uint8_t op, int fd, uint64_t ts, uint16_t lport,
				   uint16_t rport, size_t *n)
{
	struct rw_fd_event *e = ev(op, fd, -1, ts - 5, ts, NULL, n);

	e->kind = RW_KIND_SOCKET;
	e->family = AF_INET;
	e->sotype = SOCK_STREAM;
	e->ino = 4242;
	if (lport) {
		memcpy(e->laddr.addr, "\x0a\x00\x00\x01", 4);
		e->laddr.port = lport;
	}
	if (rport) {
		memcpy(e->raddr.addr, "\x0a\x00\x00\x02", 4);
		e->raddr.port = rport;
	}
	return e;
}

/* What @fd is named after a dup from unknown fd 98 whose file the kernel calls @name. */
static const char *dup_unknown_file(struct fake *f, int fd, const char *name)
{
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_DUP, fd, 98, 30, 40, name, &n);

	e->kind = RW_KIND_FILE;
	apply(f, e, n);
	return disp(f, fd, 50);
}

/* A file dup'ed from an fd the cache does not know: the kernel gives its last component. */
static void test_dup_of_unknown_file(void **state)
{
	struct fake *f = *state;

	open_file(f, 7, 10, 20, "/a");	/* first sight: scanned before these links existed */
	link_at(f->root, "1234/fd/110", "/var/log/app.log");
	link_at(f->root, "1234/fd/112", "/other/c.log");
	/* /proc still has it at the new fd: its whole path */
	assert_string_equal(dup_unknown_file(f, 110, "app.log"), "file:/var/log/app.log");
	/* gone from /proc, or another file there by now: the component, marked as one */
	assert_string_equal(dup_unknown_file(f, 111, "gone.log"), "file:.../gone.log");
	assert_string_equal(dup_unknown_file(f, 112, "b.log"), "file:.../b.log");
}

static void test_socket_then_connect(void **state)
{
	struct fake *f = *state;
	const struct rw_fdinfo *i;
	struct rw_fd_event *e;
	size_t n;

	e = inet_ev(RW_FD_NEW, 30, 100, 0, 0, &n);
	apply(f, e, n);
	assert_string_equal(disp(f, 30, 110), "tcp:0.0.0.0:0");
	e = inet_ev(RW_FD_UPDATE, 30, 200, 40000, 443, &n);
	apply(f, e, n);
	i = rw_fdcache__lookup(f->c, PID, 30, 210, 1000);
	assert_string_equal(i->disp, "tcp:10.0.0.1:40000->10.0.0.2:443");
	/* the same incarnation: a call from before the connect is named the same */
	assert_string_equal(disp(f, 30, 150), "tcp:10.0.0.1:40000->10.0.0.2:443");
	/* accept: a new fd with both endpoints */
	e = inet_ev(RW_FD_NEW, 31, 300, 8080, 51000, &n);
	apply(f, e, n);
	assert_string_equal(disp(f, 31, 310), "tcp:10.0.0.1:8080->10.0.0.2:51000");
}

static void test_unbound_udp_refreshed(void **state)
{
	struct fake *f = *state;
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_NEW, 6, -1, 10, 20, NULL, &n);

	/* socket() made fd 6 unbound; its first send bound it: /proc/net/udp says :53 */
	e->kind = RW_KIND_SOCKET;
	e->family = AF_INET;
	e->sotype = SOCK_DGRAM;
	e->ino = 888;
	apply(f, e, n);
	assert_string_equal(disp(f, 6, 30), "udp:127.0.0.1:53");
}

static void test_close_range(void **state)
{
	struct fake *f = *state;
	size_t n;
	struct rw_fd_event *e;

	open_file(f, 7, 10, 20, "/a");
	open_file(f, 8, 10, 20, "/b");
	open_file(f, 9, 10, 20, "/c");
	e = ev(RW_FD_CLOSE_RANGE, 8, 0x7fffffff, 30, 40, NULL, &n);
	apply(f, e, n);
	assert_string_equal(disp(f, 7, 50), "file:/a");
	assert_string_equal(disp(f, 8, 50), "unknown");
	assert_string_equal(disp(f, 9, 50), "unknown");
	assert_string_equal(disp(f, 4, 50), "pipe:[55]");	/* below the range */
}

static void test_forget_and_names(void **state)
{
	struct fake *f = *state;

	open_file(f, 7, 10, 20, "/a");
	close_fd(f, 7, 30, 40, 0);
	/* a closed fd still names its --summary row */
	assert_string_equal(rw_fdcache__name(f->c, PID, 7, 1000)->disp, "file:/a");
	rw_fdcache__forget(f->c, PID, true);
	assert_int_equal(rw_fdcache__count(f->c), 0);
	assert_string_equal(rw_fdcache__name(f->c, PID, 7, 1000)->disp, "file:/a");
	assert_string_equal(rw_fdcache__name(f->c, PID, 3, 1000)->disp,
			    "tcp:127.0.0.1:8080->127.0.0.2:50000");
	/* a process known to be gone is not scanned again for a name */
	assert_string_equal(rw_fdcache__name(f->c, PID, 99, 1000)->disp, "unknown");
	assert_int_equal(rw_fdcache__count(f->c), 0);
	rw_fdcache__reap(f->c);
	/* after the report: a pid seen again is a new process, scanned afresh */
	assert_string_equal(rw_fdcache__name(f->c, PID, 7, 1000)->disp, "unknown");
	assert_string_equal(disp(f, 4, 0), "pipe:[55]");
	rw_fdcache__forget(f->c, PID, false);
	rw_fdcache__forget(f->c, 999, false);	/* never seen */
	assert_int_equal(rw_fdcache__count(f->c), 0);
}

static void test_bounded(void **state)
{
	struct fake *f = *state;
	struct rw_fdcache *c = rw_fdcache__new(f->root, 8);
	char path[32];
	size_t n;

	for (int fd = 10; fd < 200; fd++) {
		struct rw_fd_event *e;

		snprintf(path, sizeof(path), "/f%d", fd);
		e = ev(RW_FD_NEW, fd, -1, fd, fd, path, &n);
		e->kind = RW_KIND_FILE;
		e->flags = RW_FDF_PATH;
		rw_fdcache__apply(c, e, n);
		free(e);
		assert_true(rw_fdcache__count(c) <= 8);
		assert_string_equal(rw_fdcache__lookup(c, PID, fd, fd, 1000)->path, path);
	}
	rw_fdcache__free(c);
}

static void test_records_checked(void **state)
{
	struct fake *f = *state;
	size_t n;
	struct rw_fd_event *e = ev(RW_FD_NEW, 7, -1, 10, 20, "/a", &n);

	e->kind = RW_KIND_FILE;
	e->flags = RW_FDF_PATH;
	rw_fdcache__apply(f->c, e, sizeof(*e) - 1);	/* short: ignored */
	assert_string_equal(disp(f, 7, 30), "unknown");
	e->name_len = 200;	/* longer than the record: no name */
	rw_fdcache__apply(f->c, e, n);
	assert_string_equal(disp(f, 7, 30), "file:[0]");
	free(e);
	e = ev(99, 8, -1, 10, 20, NULL, &n);	/* an unknown op */
	apply(f, e, n);
	assert_string_equal(disp(f, 8, 30), "unknown");
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
		cmocka_unit_test_setup_teardown(test_forget_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
