/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fake /proc the fd table tests share: /proc/1234 with fds 0 (/dev/null), 3 (a TCP
 * socket), 4 (a pipe), 5 (eventfd) and an unbound UDP socket 6 that /proc/net/udp shows
 * bound, scanned as a tool's -p does (setup), and helpers that make fd changes. The
 * worker runs jobs inline: /proc is read at submission, published at ks_worker__drain().
 */
#ifndef KSIGHT_FDTAB_FAKE_H
#define KSIGHT_FDTAB_FAKE_H

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

static inline void link_at(const char *root, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static inline void mkdir_at(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

#define TCP_LINE(local, remote, ino) \
	"   0: " local " " remote " 01 00000000:00000000 00:00000000 00000000 0 0 " ino " 1\n"

/* A process of the fake /proc: its dirs, cwd, network namespace and a tcp table. */
static inline void fake_pid(const char *root, int pid, const char *netns, const char *tcp)
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

static inline const char *disp(struct fake *f, int fd, uint64_t enter)
{
	return ks_fdtab__lookup(f->t, PID, fd, enter, 1000)->disp;
}

static inline struct ks_fdchange change(uint8_t op, int fd, int fd2, uint64_t enter, uint64_t ts,
				 const char *path)
{
	return (struct ks_fdchange){ .op = op, .pid = PID, .fd = fd, .fd2 = fd2,
				     .dfd = KS_AT_FDCWD, .ts = ts, .enter_ts = enter,
				     .spec.path = path };
}

static inline void open_file(struct fake *f, int fd, uint64_t enter, uint64_t ts, const char *path)
{
	struct ks_fdchange c = change(KS_FD_NEW, fd, -1, enter, ts, path);

	c.spec.kind = KS_FD_FILE;
	c.flags = KS_FDC_PATH;
	ks_fdtab__apply(f->t, &c);
}

static inline void close_fd(struct fake *f, int fd, uint64_t enter, uint64_t ts, uint16_t flags)
{
	struct ks_fdchange c = change(KS_FD_CLOSE, fd, -1, enter, ts, NULL);

	c.flags = flags;
	ks_fdtab__apply(f->t, &c);
}

static inline struct ks_fdtab_stats stats(struct fake *f)
{
	struct ks_fdtab_stats st;

	ks_fdtab__stats(f->t, &st);
	return st;
}

static inline uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline struct ks_fdchange inet(uint8_t op, int fd, uint64_t ts, uint16_t lport,
						uint16_t rport)
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

#endif
