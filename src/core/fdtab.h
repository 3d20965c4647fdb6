/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fd table: (pid, fd) -> what the fd refers to (file path, socket with its namespace
 * and endpoints, pipe, anonymous inode), one per session, shared by every module that
 * names fds (rw, files, and the network and security modules to come). Modules feed it
 * the fd changes their records see (ks_fdtab__apply, ks_fdtab__note) and ask it
 * (ks_fdtab__lookup, __name, __peek, __file, __peer); the core forgets a process at its
 * exit and exec. Pure (no skeleton): tests give it a fake proc root.
 *
 * /proc: a process is scanned (<root>/PID/{fd/,cwd,ns/net} and the socket tables of its
 * network namespace) when first looked up, by the worker (core/worker.h), never on the
 * reader's path. Until the scan is published its unknown fds read as "unknown"; records
 * applied meanwhile win over it (a scan at time T never undoes a change made after T).
 * An fd still unknown afterwards (made by a call the kernel side does not follow) is
 * probed alone, at most once a second. Sockets: /proc/PID/net/ lists the sockets of
 * PID's network namespace only, so tables are kept per namespace and a socket's identity
 * includes its namespace.
 *
 * Incarnations: an fd number is reused as soon as it is closed, possibly by another
 * thread on another CPU, and records of different CPUs may reach user space in either
 * order. Each entry keeps the previous incarnation and when the current one began:
 *  - a close whose call entered before the current incarnation's creating call returned
 *    belongs to an older incarnation and is ignored (without an entry time, a close the
 *    kernel saw reused at its return is ignored);
 *  - a read or write whose call entered before the current incarnation's creating call
 *    did (or before a close returned) is named after the previous incarnation.
 *
 * Bounded: at most max fds (when full it is emptied and processes are scanned again),
 * and the fds of departed processes (kept to name late records and report rows) are
 * dropped oldest first past max / 4.
 */
#ifndef KSIGHT_FDTAB_H
#define KSIGHT_FDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/socktab.h"

/* What kind of file an fd is (the values of bpf/rw.h's enum rw_kind). */
enum ks_fd_kind {
	KS_FD_UNKNOWN = 0,
	KS_FD_FILE,		/* regular files, directories, devices, memfds */
	KS_FD_SOCKET,
	KS_FD_PIPE,		/* pipes and FIFOs */
	KS_FD_ANON,		/* anonymous inodes: eventfd, epoll, timerfd, signalfd, ... */
	KS_FD_KINDS,
};

/* What one fd refers to. Immutable once made; shared by dup'ed fds and previous
 * incarnations (refcounted by the table: callers never keep one past the next call). */
struct ks_fdinfo {
	uint32_t refs;		/* the table's */
	uint8_t kind;		/* enum ks_fd_kind */
	uint16_t family;	/* sockets: AF_* */
	uint16_t sotype;	/* sockets: SOCK_* */
	uint64_t ino;		/* inode number; 0 unknown */
	uint64_t netns;		/* sockets: inode of the network namespace; 0 unknown */
	uint64_t file;		/* kernel address of the struct file; 0 unknown */
	struct ks_endpoint local, remote;	/* AF_INET, AF_INET6 */
	const char *kind_name;	/* "file", "socket", "pipe", "anon", "unknown" */
	const char *proto;	/* sockets: "tcp", "udp6", "unix", ...; else NULL */
	const char *path;	/* files, FIFOs, anon names ("[eventfd]"), clean; NULL if none */
	const char *laddr;	/* sockets: "127.0.0.1:80", unix paths; NULL if none */
	const char *raddr;
	const char *disp;	/* table form, already escaped: "tcp:1.2.3.4:5->6.7.8.9:80" */
	uint32_t path_len, laddr_len, raddr_len, disp_len;
	bool path_cut;		/* path lost its head or its tail (a limit in the kernel) */
	char data[];
};

/* What a caller knows an fd refers to. Strings are NUL-terminated, or NULL. */
struct ks_fdspec {
	uint8_t kind;		/* enum ks_fd_kind */
	uint16_t family, sotype;
	uint64_t ino, netns, file;	/* 0: unknown (netns 0: the process's) */
	struct ks_endpoint local, remote;	/* AF_INET, AF_INET6 */
	const char *path;	/* files, FIFOs, anon names */
	bool path_cut;		/* path is incomplete */
	const char *lname, *rname;	/* AF_UNIX: bound paths ("@x": abstract) */
};

/* An fd change (enum ks_fd_op). */
enum ks_fd_op {
	KS_FD_NEW = 1,		/* fd was made (open, socket, accept, pipe, ...); pipe,
				 * socketpair: fd2 is the second end, else -1 */
	KS_FD_UPDATE,		/* fd's endpoints changed (connect, bind): same incarnation */
	KS_FD_DUP,		/* fd is now a copy of fd2 */
	KS_FD_CLOSE,		/* fd was closed */
	KS_FD_CLOSE_RANGE,	/* fds fd..fd2 were closed */
	KS_FD_CWD,		/* the working directory changed: to spec.path, or to fd's */
};

/* ks_fdchange.flags */
#define KS_FDC_REUSED 0x1	/* close: the number was already taken again at its return */
#define KS_FDC_PATH 0x2		/* spec.path is the path the call was given, relative to dfd
				 * (AT_FDCWD: the cwd) unless absolute */
#define KS_FDC_BASENAME 0x4	/* spec.path is the file's last component only */

#define KS_AT_FDCWD (-100)

struct ks_fdchange {
	uint8_t op;		/* enum ks_fd_op */
	uint16_t flags;		/* KS_FDC_* */
	uint32_t pid;
	int32_t fd, fd2, dfd;
	uint64_t ts;		/* the call's return, ns CLOCK_MONOTONIC (record time) */
	uint64_t enter_ts;	/* the call's entry; 0 unknown */
	struct ks_fdspec spec;	/* NEW, UPDATE, DUP (what the kernel saw at fd), CWD */
};

struct ks_fdtab_stats {
	uint64_t scans_queued, scans_done, probes_queued, probes_done, refused, stale;
	uint64_t net_loads;	/* socket tables read (per namespace, at most every 100 ms) */
	uint64_t cleared;	/* times the table was full and emptied */
	size_t fds, procs, departed;	/* now */
};

struct ks_fdtab;
struct ks_worker;

/*
 * A table of at most @max fds reading @proc_root ("/proc" except in tests) through @w
 * (not owned; free it before the table so that unpublished scans are let go first).
 * Returns NULL with errno set.
 */
struct ks_fdtab *ks_fdtab__new(const char *proc_root, size_t max, struct ks_worker *w);
/* Accepts NULL. */
void ks_fdtab__free(struct ks_fdtab *t);

/* Apply one fd change. Paths given relative to a directory are joined and cleaned. */
void ks_fdtab__apply(struct ks_fdtab *t, const struct ks_fdchange *c);

/*
 * What @fd of @pid referred to for a call that entered at @enter_ts (ns, 0 unknown), at
 * record time @now (paces /proc). First sight of @pid queues its scan. Never NULL (an
 * "unknown" info while nothing is known).
 */
const struct ks_fdinfo *ks_fdtab__lookup(struct ks_fdtab *t, uint32_t pid, int32_t fd,
					 uint64_t enter_ts, uint64_t now);

/* What @fd of @pid is, or was when last closed, also for a process that departed and
 * was not reaped yet (report rows). Never NULL. */
const struct ks_fdinfo *ks_fdtab__name(struct ks_fdtab *t, uint32_t pid, int32_t fd,
				       uint64_t now);

/* What the table holds for @fd of @pid now, or NULL; never reads /proc. */
const struct ks_fdinfo *ks_fdtab__peek(const struct ks_fdtab *t, uint32_t pid, int32_t fd);

/*
 * A record saw @fd of @pid refer to @s at @ts without seeing it made (the files module's
 * first write): the current incarnation if it is the same object (then its struct file
 * address is added if it had none), else a new one from @ts.
 */
void ks_fdtab__note(struct ks_fdtab *t, uint32_t pid, int32_t fd, const struct ks_fdspec *s,
		    uint64_t ts);

/* The incarnation of @fd of @pid whose struct file is at @file (current, previous, or of
 * the departed process), or NULL. */
const struct ks_fdinfo *ks_fdtab__file(const struct ks_fdtab *t, uint32_t pid, int32_t fd,
				       uint64_t file);

/*
 * An open fd of @pid that refers to inode @ino (io_uring's fixed files, known to the kernel
 * by their file only), its number in *@fd; NULL if none is known. First sight of @pid
 * queues its scan. O(fds of @pid).
 */
const struct ks_fdinfo *ks_fdtab__by_ino(struct ks_fdtab *t, uint32_t pid, uint64_t ino,
				       uint64_t now, int32_t *fd);

/*
 * The other end of inet socket @sock on this machine: a socket in the same network
 * namespace whose local endpoint is @sock's remote one and the other way round; its
 * process and fd in *@pid, *@fd. NULL if none is known. O(fds known): for connection
 * events, not for every read.
 */
const struct ks_fdinfo *ks_fdtab__peer(const struct ks_fdtab *t, const struct ks_fdinfo *sock,
				       uint32_t *pid, int32_t *fd);

/* @pid exited or exec'd at @ts: its fds go (an exec closed its close-on-exec fds; it is
 * scanned again), kept for ks_fdtab__name() and __file() until reaped. */
void ks_fdtab__forget(struct ks_fdtab *t, uint32_t pid, uint64_t ts);

/* Drop what processes that departed before @before left. */
void ks_fdtab__reap(struct ks_fdtab *t, uint64_t before);

/*
 * Scan @pid now if it was not yet, and wait at most @timeout_ms until the worker is done
 * (start-up: a tool's -p before the first record; never on the reader's path). Returns
 * 0, -EAGAIN (the worker refused), -ETIMEDOUT or -ENOMEM.
 */
int ks_fdtab__scan(struct ks_fdtab *t, uint32_t pid, uint64_t now, unsigned int timeout_ms);

/* The counters so far and the sizes now, into @out (cannot fail). */
void ks_fdtab__stats(const struct ks_fdtab *t, struct ks_fdtab_stats *out);
/* Live fds known now. */
size_t ks_fdtab__count(const struct ks_fdtab *t);

#endif
