/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rw module's fd cache: (pid, fd) -> what the fd is (file path, socket endpoints, pipe,
 * anonymous inode), so rw records stay small and carry no names. Pure (no skeleton): it is
 * fed the fd-change records and reads a proc tree whose root is given, so tests use fakes.
 *
 * A process is scanned (<root>/PID/fd/ and its net tables) the first time it is seen;
 * fd-change records are then applied on top. Records older than the scan are replayed on
 * a newer snapshot, which converges: every fd they touch ends as their last change says.
 * An fd missing after the scan (made by a call the kernel side does not follow) is read
 * from <root>/PID/fd/N when first used, and again at most once a second while unknown.
 *
 * Incarnations: an fd number is reused as soon as it is closed, possibly by another thread
 * on another CPU, and records of different CPUs may reach user space in either order. Each
 * entry keeps the previous incarnation and when the current one began:
 *  - a close whose call entered before the current incarnation's creating call returned
 *    belongs to an older incarnation and is ignored (without an entry time, a close the
 *    kernel saw reused at its return is ignored);
 *  - a read or write whose call entered before the current incarnation's creating call did
 *    (or before a close returned) is named after the previous incarnation.
 */
#ifndef KSIGHT_RW_FDCACHE_H
#define KSIGHT_RW_FDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rw.h"
#include "modules/rw_net.h"

/* What one fd refers to. Shared by dup'ed fds and previous incarnations (refcounted). */
struct rw_fdinfo {
	uint32_t refs;
	uint8_t kind;		/* enum rw_kind */
	uint16_t family;	/* sockets: AF_* */
	uint16_t sotype;	/* sockets: SOCK_* */
	uint16_t lport;		/* inet sockets: local port, 0 while unbound */
	uint64_t ino;
	const char *kind_name;	/* "file", "socket", "pipe", "anon", "unknown" */
	const char *proto;	/* sockets: "tcp", "udp6", "unix", ...; else NULL */
	const char *path;	/* files, FIFOs, anon names ("[eventfd]"); NULL if none */
	const char *laddr;	/* sockets: "127.0.0.1:80", unix paths; NULL if none */
	const char *raddr;
	const char *disp;	/* table form, already escaped: "tcp:1.2.3.4:5->6.7.8.9:80" */
	uint32_t path_len, laddr_len, raddr_len, disp_len;
	char data[];
};

struct rw_fdspec {
	uint8_t kind;
	uint16_t family, sotype, lport;
	uint64_t ino;
	const char *path, *laddr, *raddr;	/* NULL or NUL-terminated */
};

/* A new info (refs 1) built from @s; NULL on allocation failure. */
struct rw_fdinfo *rw_fdinfo_new(const struct rw_fdspec *s);
void rw_fdinfo_put(struct rw_fdinfo *i);

/*
 * An info from what readlink gives for /proc/PID/fd/N ("socket:[123]", "pipe:[9]",
 * "anon_inode:[eventfd]", "/path"), with @mode from stat (0 if unknown) and the sockets of
 * the process's namespace in @net (may be NULL). NULL on allocation failure.
 */
struct rw_fdinfo *rw_fdinfo_from_link(const char *link, uint32_t mode,
				      const struct rw_socktab *net);

/* Fill @s (pointing into @e and the buffers given) from an fd record of @size bytes. */
void rw_fdspec_from_event(struct rw_fdspec *s, const struct rw_fd_event *e, size_t size,
			  char *laddr, char *raddr, size_t len);

struct rw_fdcache;

/*
 * A cache for at most @max fds (when full it is emptied and processes are scanned again).
 * @proc_root is "/proc" except in tests. Returns NULL with errno set.
 */
struct rw_fdcache *rw_fdcache__new(const char *proc_root, size_t max);
void rw_fdcache__free(struct rw_fdcache *c);

/* Apply one RW_EV_FD record of @size bytes (checked). */
void rw_fdcache__apply(struct rw_fdcache *c, const struct rw_fd_event *e, size_t size);

/*
 * What @fd of @pid referred to for a call that entered at @enter_ts (ns, 0 unknown), at
 * user-space time @now_ns (for the retry pacing). Never NULL (an "unknown" info); valid
 * until the next call into the cache.
 */
const struct rw_fdinfo *rw_fdcache__lookup(struct rw_fdcache *c, uint32_t pid, int32_t fd,
					   uint64_t enter_ts, uint64_t now_ns);

/* What @fd of @pid is, or was when last closed (summary tables). Never NULL. */
const struct rw_fdinfo *rw_fdcache__name(struct rw_fdcache *c, uint32_t pid, int32_t fd,
					 uint64_t now_ns);

/*
 * Forget a process (it exited, and its pid may be reused; or it exec'd, closing its
 * close-on-exec fds: it is scanned again). With @keep_names its fds still name rows for
 * rw_fdcache__name() until rw_fdcache__reap().
 */
void rw_fdcache__forget(struct rw_fdcache *c, uint32_t pid, bool keep_names);
void rw_fdcache__reap(struct rw_fdcache *c);

/* Scan @pid now if it was not yet (tools call it for -p before the first record). */
void rw_fdcache__scan(struct rw_fdcache *c, uint32_t pid, uint64_t now_ns);

size_t rw_fdcache__count(const struct rw_fdcache *c);

#endif
