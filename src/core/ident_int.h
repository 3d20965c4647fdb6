/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The identity cache's insides, shared by ident.c (processes), ident_cg.c (cgroups) and
 * ident_load.c (what the worker reads from /proc). Only the reader's thread touches
 * struct ks_ident; jobs on the worker see the read-only struct ks_ident_env and their own
 * results.
 */
#ifndef KSIGHT_IDENT_INT_H
#define KSIGHT_IDENT_INT_H

#include "core/cgroup.h"
#include "core/ident.h"
#include "core/worker.h"

#define KS_IDENT_RETRY_NS 1000000000ULL	/* a refused load is asked again after 1 s */
#define KS_IDENT_WALK_MAX 16384		/* cgroups a fallback walk visits at most */

/* An intrusive circular list with a sentinel: O(1) unlink and move. */
struct ks_dlist {
	struct ks_dlist *prev, *next;
};

static inline void ks_dlist_init(struct ks_dlist *l)
{
	l->prev = l->next = l;
}

static inline void ks_dlist_del(struct ks_dlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

/* Append @n at the tail of @head (the most recent end). */
static inline void ks_dlist_add_tail(struct ks_dlist *head, struct ks_dlist *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* Insert @n at the front of @head (the least recent end). */
static inline void ks_dlist_add_head(struct ks_dlist *head, struct ks_dlist *n)
{
	ks_dlist_add_tail(head->next, n);
}

static inline bool ks_dlist_empty(const struct ks_dlist *head)
{
	return head->next == head;
}

/* Read-only once the cache is made: the worker's jobs read it. */
struct ks_ident_env {
	char proc_root[128];
	double tick_ns;		/* ns per clock tick of /proc/PID/stat */
	int64_t boot_ahead;	/* CLOCK_BOOTTIME - CLOCK_MONOTONIC, ns (time suspended) */
	size_t max;		/* processes */
	struct ks_cgfs cgfs;
};

/* What the worker read of one process. */
struct ks_proc_load {
	uint32_t pid;
	bool found;		/* false: /proc/PID was gone */
	bool args_cut;
	uint32_t ppid, uid, args_len;
	uint64_t start_ns;	/* CLOCK_MONOTONIC */
	uint64_t cgroup;	/* id of the v2 cgroup path; 0 unknown */
	char comm[TASK_COMM_LEN];
	char *exe, *args, *cgpath;	/* malloc'd or NULL */
};

struct pent {
	struct ks_proc p;	/* first: what callers see */
	struct pent *hnext;
	struct ks_dlist link;	/* on id->live or id->exited, least recently used first */
	uint64_t serial;	/* this incarnation; a queued load carries it */
	uint64_t exit_ts;	/* record time of the exit */
	uint64_t retry_ts;	/* a refused load is asked again from this record time */
	bool pending;		/* a load is queued */
	bool want_exe;		/* exec'd by a path that does not name the file (relative,
				 * /proc/self/exe): its load only brings the resolved exe */
	bool exe_read;		/* describe() read /proc/PID/exe itself, once (see there) */
	uint8_t svc_kind;	/* of svc */
	char *exe, *args, *cgpath, *svc;	/* owned; svc: named by cgpath, or NULL */
};

enum cg_state { CG_PENDING, CG_KNOWN, CG_GONE, CG_UNKNOWN };

struct cgent {
	uint64_t id;
	struct cgent *hnext;
	struct ks_dlist link;	/* id->cglru, oldest use first */
	uint8_t state;		/* enum cg_state */
	uint8_t kind;		/* of svc */
	uint64_t retry_ts;	/* CG_UNKNOWN: ask again from this time */
	char *path, *svc;	/* owned */
};

struct ks_ident {
	struct ks_ident_env env;
	struct ks_worker *w;
	struct pent **ptab;
	size_t pmask, count;
	struct ks_dlist live, exited;
	uint64_t serial;
	struct cgent **ctab;
	size_t cmask, ncg;
	struct ks_dlist cglru;
	uint64_t walk_at;	/* when the last fallback walk was queued; 0 never */
	struct ks_ident_stats st;
};

/* ident.c: publish what the worker read (a queued load of incarnation @serial, or a seed
 * entry when @serial is 0). Takes the strings of @l. */
void ident_publish(struct ks_ident *id, uint64_t serial, struct ks_proc_load *l);

/* ident_load.c */
/* Read /proc/@pid into @out (found false when gone). Blocks: the worker's. Returns 0 or
 * -ENOMEM. */
int ks_proc_load(const struct ks_ident_env *env, uint32_t pid, struct ks_proc_load *out);
/* /proc/PID/exe's target (malloc'd), or NULL (gone, a kernel thread; errno ENOMEM: no memory). */
char *ks_proc_exe(const struct ks_ident_env *env, uint32_t pid);
void ks_proc_load_free(struct ks_proc_load *l);
/* Queue a load for @e (its pending flag and the counters follow). Returns 0 or -EAGAIN. */
int ident_queue_load(struct ks_ident *id, struct pent *e);
int ident_queue_seed(struct ks_ident *id);

/* ident_cg.c */
int ident_cg_init(struct ks_ident *id);
void ident_cg_free(struct ks_ident *id);
/* The entry of @cgid, made (and its resolution queued) on a miss; NULL if out of memory.
 * @now: monotonic ns, paces the fallback walk and retries. Counts as a use. */
struct cgent *ident_cg_get(struct ks_ident *id, uint64_t cgid, uint64_t now);
/* A path /proc gave for @cgid: known from now on. */
void ident_cg_learn(struct ks_ident *id, uint64_t cgid, const char *path);

#endif
