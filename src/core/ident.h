/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The identity cache: pid -> process (comm, exe, argv, ppid, uid, start) and
 * cgroup id -> cgroup path and service name. Seeded from /proc, kept fresh by the core's
 * exec and exit records, bounded in memory (exited processes go first, then the least
 * recently used).
 */
#ifndef KSIGHT_IDENT_H
#define KSIGHT_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_IDENT_ARGS_MAX 512	/* bytes of argv kept per process */

struct ks_proc {
	uint32_t pid, ppid, uid;
	bool exited;
	bool args_cut;		/* argv longer than what is kept */
	uint64_t start_ns;	/* monotonic (boot-based from /proc) */
	uint64_t cgroup;	/* cgroup id the service below was derived for */
	char comm[16];
	char *exe;		/* full path of the executable, or NULL */
	char *args;		/* NUL-separated argv */
	uint32_t args_len;
	char *service;		/* cached service name */
	uint64_t used;		/* lookup clock, for eviction */
	struct ks_proc *next;	/* hash chain */
};

struct ks_ident;

/* A cache holding at most @max processes. @proc_root is "/proc" except in tests.
 * Returns NULL with errno set. */
struct ks_ident *ks_ident__new(size_t max, const char *proc_root);
void ks_ident__free(struct ks_ident *id);

/* Load every process of /proc. Returns how many were added. */
int ks_ident__seed(struct ks_ident *id);

/* The process, read from /proc on a miss; NULL if it is unknown and gone. The entry may be
 * evicted by the next call that adds one: do not keep the pointer across calls. */
const struct ks_proc *ks_ident__get(struct ks_ident *id, uint32_t pid);

/* An exec seen by the kernel: replaces what was known of @pid. @args is NUL-separated. */
void ks_ident__exec(struct ks_ident *id, uint32_t pid, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns, const char *comm, const char *exe, const char *args,
		    size_t args_len, bool args_cut);
/* The process ended; its entry stays (late records) until space is needed. */
void ks_ident__exit(struct ks_ident *id, uint32_t pid);

/* Service of a task: its cgroup's unit or container, else its executable's name, else
 * @comm. Never NULL; valid until the next call into the cache. */
const char *ks_ident__service(struct ks_ident *id, uint32_t pid, uint64_t cgroup,
			      const char *comm);

/* Path of cgroup @cgid below the cgroup2 mount ("/system.slice/x.service"), or NULL. */
const char *ks_ident__cgroup_path(struct ks_ident *id, uint64_t cgid);

size_t ks_ident__count(const struct ks_ident *id);

#endif
