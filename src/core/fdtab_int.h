/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fd table's insides, shared by fdtab.c (entries and the rules for changes),
 * fdtab_proc.c (processes, departures, the worker's scans and probes) and fdinfo.c (what
 * an fd refers to). Only the reader's thread touches struct ks_fdtab; the worker's jobs
 * touch struct fdtab_io (socket tables) and their own results only.
 */
#ifndef KSIGHT_FDTAB_INT_H
#define KSIGHT_FDTAB_INT_H

#include "core/fdtab.h"
#include "core/worker.h"

#define FD_RETRY_NS 1000000000ULL	/* unknown fds, unbound sockets: look again after 1 s */
#define FD_NET_AGE 100000000ULL		/* a scan uses socket tables at most 100 ms old */
#define FD_NET_KEEP 60000000000ULL	/* a namespace's table unused for 60 s is dropped */
#define FD_PROC_BUCKETS 1024

struct fdent {
	uint32_t pid;
	int32_t fd;
	struct ks_fdinfo *cur;	/* NULL: closed, or not known */
	struct ks_fdinfo *prev;	/* the incarnation before, or NULL */
	uint64_t since;		/* a call entering before this used prev */
	uint64_t made;		/* return of the call that made cur, or of the close; 0:
				 * from /proc, older than any record */
	uint64_t retry;		/* next probe of a missing or unbound fd */
	uint32_t gen;		/* changes so far: a probe's answer is for one of them */
	bool probing;		/* a probe is queued */
	struct fdent *next;	/* hash chain */
	struct fdent *pnext;	/* the process's entries */
};

enum { SCAN_NONE, SCAN_QUEUED, SCAN_DONE };

struct fdproc {
	uint32_t pid;
	uint8_t scan;		/* SCAN_* */
	bool departed;
	uint64_t serial;	/* this process (a pid is reused): what a scan was for */
	char *cwd;
	uint64_t cwd_ts;	/* record time of the chdir that set cwd; 0: from /proc */
	uint64_t netns;		/* inode of its network namespace; 0 unknown */
	uint64_t scan_retry;	/* a refused scan is asked again from this time */
	uint64_t gone_ts;	/* departed: when */
	int32_t cr_lo, cr_hi;	/* the last close_range before the scan was published */
	uint64_t cr_ts;		/* ... and when; 0 none */
	size_t nents;
	struct fdent *ents;
	struct fdproc *next;	/* hash chain (live or departed) */
	struct fdproc *dnext;	/* departed, oldest first */
};

/* One network namespace's sockets, as the worker last read them. */
struct fdnet {
	uint64_t netns;
	uint64_t at;		/* when it was read (monotonic ns) */
	struct ks_socktab tab;
	struct fdnet *next;
};

/* The worker's side: only jobs touch it (serially, on the worker's thread). */
struct fdtab_io {
	char root[128];
	struct fdnet *nets;
};

struct ks_fdtab {
	struct fdtab_io io;
	struct ks_worker *w;
	size_t max, count, mask;
	struct fdent **tab;
	struct fdproc *procs[FD_PROC_BUCKETS];	/* live */
	struct fdproc *dprocs[FD_PROC_BUCKETS];	/* departed */
	struct fdproc *dhead, *dtail;	/* departed, oldest first */
	size_t ndeparted;	/* fds the departed hold */
	size_t ndprocs;		/* departed processes */
	uint64_t serial;
	struct fdent *last;	/* the previous lookup's entry: loops hit the same fd */
	struct ks_fdinfo *unknown;
	struct ks_fdtab_stats st;
};

/* fdinfo.c */
/* A new info (refs 1) from @s; NULL on allocation failure. */
struct ks_fdinfo *ks_fdinfo_new(const struct ks_fdspec *s);
/* The same info with @file set (a new one: infos do not change), or NULL. */
struct ks_fdinfo *ks_fdinfo_with_file(const struct ks_fdinfo *i, uint64_t file);
static inline struct ks_fdinfo *ks_fdinfo_get(struct ks_fdinfo *i)
{
	i->refs++;
	return i;
}
void ks_fdinfo_put(struct ks_fdinfo *i);
/*
 * An info from what readlink gives for /proc/PID/fd/N ("socket:[123]", "pipe:[9]",
 * "anon_inode:[eventfd]", "/path"), with @mode from stat (0 if unknown) and the sockets of
 * the process's namespace @netns in @net (may be NULL). NULL on allocation failure.
 */
struct ks_fdinfo *ks_fdinfo_from_link(const char *link, uint32_t mode,
				      const struct ks_socktab *net, uint64_t netns);
/* Whether @s describes the object @i names: same kind, and same path (and struct file
 * where both know it), else same struct file, else same inode. */
bool ks_fdinfo_same(const struct ks_fdinfo *i, const struct ks_fdspec *s);

/* fdtab.c */
struct fdent *fdent_find(const struct ks_fdtab *t, uint32_t pid, int32_t fd);
/* A new incarnation of @fd of @p (takes the reference to @info, which may be NULL). */
void fdent_set(struct ks_fdtab *t, struct fdproc *p, int32_t fd, struct ks_fdinfo *info,
	       uint64_t since, uint64_t made);
/* Unlink @e from the hash (the caller owns it and its process list). */
void fdent_unhash(struct ks_fdtab *t, struct fdent *e);
void fdent_free(struct fdent *e);

/* fdtab_proc.c */
struct fdproc *fdproc_find(const struct ks_fdtab *t, uint32_t pid);
/* The latest departed process of @pid, or NULL. */
struct fdproc *fdproc_departed(const struct ks_fdtab *t, uint32_t pid);
/* The live process @pid, made if new; its scan queued when @scan and not yet done.
 * NULL on allocation failure. */
struct fdproc *fdproc_get(struct ks_fdtab *t, uint32_t pid, uint64_t now, bool scan);
void fdproc_free_all(struct ks_fdtab *t);
/* fdtab_scan.c: queue the scan of @p (refused: asked again after a second). */
void fdtab_queue_scan(struct ks_fdtab *t, struct fdproc *p, uint64_t now);
/* Queue a probe of @e (missing, unbound, or a dup named by its last component @base).
 * Paced by e->retry. */
void fdtab_probe(struct ks_fdtab *t, struct fdproc *p, struct fdent *e, uint64_t now,
		 const char *base);
/* fdtab_proc.c: the path of an open-family change made absolute (relative to the cwd or
 * dfd) and clean; malloc'd, NULL on allocation failure. */
char *fdtab_resolve(struct ks_fdtab *t, struct fdproc *p, const struct ks_fdchange *c);
/* chdir (relative to the old cwd) or fchdir (to what the fd names). */
void fdtab_change_cwd(struct ks_fdtab *t, struct fdproc *p, const struct ks_fdchange *c);
void fdtab_io_free(struct fdtab_io *io);

#endif
