/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The identity cache: pid -> process (comm, exe, argv, ppid, uid, start, cgroup) and
 * cgroup id -> path and service, for the ring buffer's reader.
 *
 * The reader never waits for /proc: a record whose pid (or cgroup) is not cached gets an
 * entry made of what the record carries (pid, comm, cgroup id) at once, and a load is
 * queued to the worker thread (core/worker.h), whose result is published when the reader
 * drains the worker. Exec records fill an entry completely without /proc; exit records
 * mark it (and fill ppid, uid and start). Loads the worker refuses (its queue is full) are
 * counted and asked again at most once a second per process.
 *
 * Bounded: at most max processes and KS_IDENT_CGROUPS cgroups. Eviction is O(1): exited
 * processes go first (the least recently looked up of them first), then the least recently
 * looked up of the others. Seeding never evicts.
 *
 * Pointers returned stay valid until the next call that takes a non-const struct ks_ident
 * (any of them may evict), so use them at once (a sink copies what it prints).
 */
#ifndef KSIGHT_IDENT_H
#define KSIGHT_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "core/service.h"

#define KS_IDENT_ARGS_MAX 512	/* bytes of argv kept per process */
#define KS_IDENT_CGROUPS 4096	/* cgroups cached */

/* How much is known of a process. */
enum ks_proc_state {
	KS_PROC_PARTIAL,	/* what records carry only: a /proc load is queued or refused */
	KS_PROC_FULL,		/* from its exec record or /proc */
	KS_PROC_GONE,		/* /proc had nothing when read: what records carry only */
};

struct ks_proc {
	uint32_t pid, ppid, uid;	/* ppid, uid: 0 until known */
	uint8_t state;		/* enum ks_proc_state */
	bool exited;		/* its exit record was seen */
	bool args_cut;		/* argv longer than what is kept */
	uint64_t start_ns;	/* CLOCK_MONOTONIC, like record times; 0 unknown */
	uint64_t cgroup;	/* cgroup v2 id it was last seen in; 0 unknown */
	char comm[TASK_COMM_LEN];
	const char *exe;	/* full path of the executable, or NULL */
	const char *args;	/* argv, NUL-separated and NUL-terminated, or NULL */
	uint32_t args_len;	/* bytes of args before its final NUL */
	const char *cgroup_path;	/* from /proc/PID/cgroup (v2, else v1 name=systemd) */
};

/* The service a record's task belongs to, and what it was derived from. */
struct ks_service {
	const char *name;	/* never NULL */
	enum ks_svc_kind kind;
	uint64_t cgroup;	/* the cgroup v2 id looked at; 0 when none */
	const char *cgroup_path;	/* its path below the cgroup2 mount; NULL until resolved */
};

struct ks_ident_stats {
	uint64_t lookups;	/* records looked up */
	uint64_t misses;	/* ... whose process was not cached (or was a reused pid) */
	uint64_t queued;	/* /proc loads handed to the worker (seeding counts one) */
	uint64_t dropped;	/* loads the worker refused: its queue was full */
	uint64_t loaded;	/* loads published into the cache */
	uint64_t gone;		/* loads that found the process gone */
	uint64_t stale;		/* loads thrown away: evicted, exec'd or reused meanwhile */
	uint64_t evicted;	/* processes evicted to make room */
	uint64_t cg_queued, cg_dropped, cg_resolved, cg_gone;	/* the same for cgroups */
	size_t procs, cgroups;	/* entries now */
};

struct ks_ident;
struct ks_worker;

/*
 * A cache of at most @max processes reading @proc_root ("/proc" except in tests) through
 * @w (not owned; it must outlive the cache's use and be freed before the cache, so that
 * unpublished loads are let go first). Returns NULL with errno set.
 */
struct ks_ident *ks_ident__new(size_t max, const char *proc_root, struct ks_worker *w);
/* Accepts NULL. */
void ks_ident__free(struct ks_ident *id);

/* Queue loading every process of /proc (the agent at start). Entries records made stay.
 * Returns 0, or -EAGAIN when the worker refused. */
int ks_ident__seed(struct ks_ident *id);

/* Queue loading @pid now (a tool's -p before its first record). Returns 0 or -EAGAIN. */
int ks_ident__load(struct ks_ident *id, uint32_t pid);

/*
 * The process of record @h: cached, or made now from the record (a load is queued), or,
 * when @h's pid belonged to a process that exited before @h was made, reset the same way.
 * Counts as a use for eviction. NULL only when out of memory.
 */
const struct ks_proc *ks_ident__lookup(struct ks_ident *id, const struct ks_hdr *h);

/* The cached process @pid, or NULL; loads nothing, touches no eviction order. */
const struct ks_proc *ks_ident__find(const struct ks_ident *id, uint32_t pid);

/* An exec record: replaces what was known of h->pid. @args is NUL-separated. */
void ks_ident__exec(struct ks_ident *id, const struct ks_hdr *h, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns, const char *exe, const char *args, size_t args_len,
		    bool args_cut);

/* An exit record: the entry stays for late records until room is needed, and goes first. */
void ks_ident__exit(struct ks_ident *id, const struct ks_hdr *h, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns);

/*
 * The service of record @h's task: the unit or container of the cgroup it ran in (h->cgroup;
 * a cgroup not yet resolved is queued), else of the cgroup /proc listed for it, else its
 * executable's file name, else its comm. Never NULL (see the lifetime rule above).
 */
const char *ks_ident__service(struct ks_ident *id, const struct ks_hdr *h);

/* ks_ident__service() with what it was derived from, into @out. */
void ks_ident__describe(struct ks_ident *id, const struct ks_hdr *h, struct ks_service *out);

/* The service of cgroup @cgid alone (its container or systemd service unit), for a record
 * about no task (a socket's cgroup); NULL while unknown (a resolution is then queued) or
 * when the cgroup names none. Lifetime as ks_ident__service(). */
const char *ks_ident__cgroup_service(struct ks_ident *id, uint64_t cgid);

/* The path of cgroup @cgid below the cgroup2 mount ("/system.slice/x.service"), or NULL
 * while it is unknown (a resolution is then queued) or gone. */
const char *ks_ident__cgroup_path(struct ks_ident *id, uint64_t cgid);

/* The counters so far and the sizes now, into @out (cannot fail): for the metrics. */
void ks_ident__stats(const struct ks_ident *id, struct ks_ident_stats *out);
/* Processes cached now. */
size_t ks_ident__count(const struct ks_ident *id);

#endif
