/* SPDX-License-Identifier: GPL-2.0 */
/* The fd cache's insides, shared by rw_fdcache.c (the table) and rw_fdscan.c (/proc). */
#ifndef KSIGHT_RW_FDCACHE_INT_H
#define KSIGHT_RW_FDCACHE_INT_H

#include "modules/rw_fdcache.h"

#define RW_RETRY_NS 1000000000ULL	/* unknown fds, unbound sockets: look again after 1 s */
#define RW_SCAN_NET_AGE 100000000ULL	/* a scan uses socket tables at most 100 ms old */
#define RW_PROC_BUCKETS 1024

struct rw_fdent {
	uint32_t pid;
	int32_t fd;
	struct rw_fdinfo *cur;	/* NULL: closed, or not known */
	struct rw_fdinfo *prev;	/* the incarnation before, or NULL */
	uint64_t since;		/* a call entering before this used prev */
	uint64_t made;		/* return of the call that made cur; 0: from /proc */
	uint64_t retry;		/* next /proc look for a missing or unbound fd */
	struct rw_fdent *next;	/* hash chain */
	struct rw_fdent *pnext;	/* the process's entries (or the departed list) */
};

struct rw_proc {
	uint32_t pid;
	bool scanned;
	char *cwd;
	uint64_t netns;		/* inode of its network namespace; 0 unknown */
	struct rw_fdent *ents;
	struct rw_proc *next;
};

/* Socket tables per network namespace: processes of one namespace share them. */
struct rw_netns {
	uint64_t id;		/* 0: a process whose namespace could not be read */
	uint32_t pid;		/* the process the table was read through */
	uint64_t at;		/* when it was loaded (record clock); 0 never */
	struct rw_socktab tab;
	struct rw_netns *next;
};

struct rw_fdcache {
	char root[128];
	size_t max, count, mask;
	struct rw_fdent **tab;
	struct rw_proc *procs[RW_PROC_BUCKETS];
	struct rw_netns *netns;
	struct rw_fdent *departed;	/* entries of exited processes kept for names */
	struct rw_fdent *last;	/* the previous lookup's entry: loops hit the same fd */
	struct rw_fdinfo *unknown;
};

/* rw_fdcache.c */
struct rw_fdent *rw_fdent_find(struct rw_fdcache *c, uint32_t pid, int32_t fd);
/* A new incarnation of @fd of @p (takes the reference to @info, which may be NULL). */
void rw_fdent_set(struct rw_fdcache *c, struct rw_proc *p, int32_t fd, struct rw_fdinfo *info,
		  uint64_t since, uint64_t made);

/* rw_fdscan.c */
struct rw_proc *rw_proc_find(struct rw_fdcache *c, uint32_t pid);
/* The process, scanned if it was not yet; NULL on allocation failure. */
struct rw_proc *rw_proc_get(struct rw_fdcache *c, uint32_t pid, uint64_t now);
void rw_proc_free(struct rw_proc *p);
void rw_netns_free_all(struct rw_fdcache *c);
/* What /proc says @fd is now, socket tables at most @max_age old; NULL if not open. */
struct rw_fdinfo *rw_probe_fd(struct rw_fdcache *c, struct rw_proc *p, int32_t fd, uint64_t now,
			      uint64_t max_age);
/* An open-family path of @e made absolute (relative to the cwd or directory fd). */
char *rw_resolve(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		 const char *path);
/* chdir (relative to the old cwd) or fchdir (to what the fd names). */
void rw_change_cwd(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		   size_t size);

#endif
