// SPDX-License-Identifier: GPL-2.0
/*
 * core/fdtab*.c, fdinfo.c: what an fd is, from a fake /proc tree (read by the worker,
 * inline here: published at ks_worker__drain) and from fd changes; the ordering rules for
 * closes and reused fd numbers; network namespaces; what other modules ask.
 */
#include "testutil.h"

#include <sys/socket.h>
#include <time.h>

#include "core/fdtab.h"
#include "core/worker.h"

#define PID 1234

struct fake {
	char *root;
	struct ks_worker *w;
	struct ks_fdtab *t;
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

#define TCP_LINE(local, remote, ino) \
	"   0: " local " " remote " 01 00000000:00000000 00:00000000 00000000 0 0 " ino " 1\n"

/* A process of the fake /proc: its dirs, cwd, network namespace and a tcp table. */
static void fake_pid(const char *root, int pid, const char *netns, const char *tcp)
{
	char rel[64], net[256];

	snprintf(rel, sizeof(rel), "%d", pid);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "%d/fd", pid);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "%d/net", pid);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "%d/ns", pid);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "%d/cwd", pid);
	link_at(root, rel, "/home/u");
	snprintf(rel, sizeof(rel), "%d/ns/net", pid);
	link_at(root, rel, netns);
	snprintf(net, sizeof(net), "%s/%d/net", root, pid);
	tu_write(net, "tcp", tcp, -1);
}

/* /proc/1234 with fds 0 (/dev/null), 3 (a TCP socket), 4 (a pipe), 5 (eventfd) and an
 * unbound UDP socket 6 that /proc/net/udp shows bound; scanned as a tool's -p does. */
static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char net[256];

	f->root = tu_mkdtemp("ksfd");
	fake_pid(f->root, PID, "net:[4026531840]",
		 "hdr\n" TCP_LINE("0100007F:1F90", "0200007F:C350", "777"));
	link_at(f->root, "1234/fd/0", "/dev/null");
	link_at(f->root, "1234/fd/3", "socket:[777]");
	link_at(f->root, "1234/fd/4", "pipe:[55]");
	link_at(f->root, "1234/fd/5", "anon_inode:[eventfd]");
	link_at(f->root, "1234/fd/6", "socket:[888]");
	snprintf(net, sizeof(net), "%s/1234/net", f->root);
	tu_write(net, "udp", "hdr\n   0: 0100007F:0035 00000000:0000 07 00000000:00000000 "
		 "00:00000000 00000000 0 0 888 2\n", -1);
	f->w = ks_worker__new(64, 0, false);
	f->t = ks_fdtab__new(f->root, 1000, f->w);
	assert_non_null(f->t);
	assert_int_equal(ks_fdtab__scan(f->t, PID, 1, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	ks_worker__free(f->w);
	ks_fdtab__free(f->t);
	tu_rmtree(f->root);
	free(f);
	return 0;
}

static const char *disp(struct fake *f, int fd, uint64_t enter)
{
	return ks_fdtab__lookup(f->t, PID, fd, enter, 1000)->disp;
}

static struct ks_fdchange change(uint8_t op, int fd, int fd2, uint64_t enter, uint64_t ts,
				 const char *path)
{
	return (struct ks_fdchange){ .op = op, .pid = PID, .fd = fd, .fd2 = fd2,
				     .dfd = KS_AT_FDCWD, .ts = ts, .enter_ts = enter,
				     .spec.path = path };
}

static void open_file(struct fake *f, int fd, uint64_t enter, uint64_t ts, const char *path)
{
	struct ks_fdchange c = change(KS_FD_NEW, fd, -1, enter, ts, path);

	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	ks_fdtab__apply(f->t, &c);
}

static void close_fd(struct fake *f, int fd, uint64_t enter, uint64_t ts, uint16_t flags)
{
	struct ks_fdchange c = change(KS_FD_CLOSE, fd, -1, enter, ts, NULL);

	c.flags = flags;
	ks_fdtab__apply(f->t, &c);
}

static struct ks_fdtab_stats stats(struct fake *f)
{
	struct ks_fdtab_stats st;

	ks_fdtab__stats(f->t, &st);
	return st;
}

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

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

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

static struct ks_fdchange inet(uint8_t op, int fd, uint64_t ts, uint16_t lport, uint16_t rport)
{
	struct ks_fdchange c = change(op, fd, -1, ts - 5, ts, NULL);

	c.spec.kind = KS_FD_SOCKET;
	c.spec.family = AF_INET;
	c.spec.sotype = SOCK_STREAM;
	c.spec.ino = 4242;
	if (lport) {
		memcpy(c.spec.local.addr, "\x0a\x00\x00\x01", 4);
		c.spec.local.port = lport;
	}
	if (rport) {
		memcpy(c.spec.remote.addr, "\x0a\x00\x00\x02", 4);
		c.spec.remote.port = rport;
	}
	return c;
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
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_is_async, setup, teardown),
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
		cmocka_unit_test_setup_teardown(test_stale_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
