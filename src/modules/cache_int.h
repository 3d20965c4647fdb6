/* SPDX-License-Identifier: GPL-2.0 */
/* What the cache module's files share. */
#ifndef KSIGHT_CACHE_INT_H
#define KSIGHT_CACHE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/module.h"
#include "core/opts.h"
#include "core/rows.h"
#include "cache.h"

struct cache_row {
	struct cache_key k;
	struct cache_val v;
};

struct cache_frow {
	struct cache_fkey k;
	struct cache_fval v;
};

/* A file named by --file: its path and identity, as the kernel's rows name it. */
struct cache_path {
	const char *path;
	uint32_t kdev;		/* the kernel's dev_t of its file system (major << 20 | minor) */
	uint64_t ino;
};

struct cache_state {
	bool per_process;	/* -P: the default, accepted for symmetry */
	bool per_thread;	/* -L */
	bool per_cgroup;	/* --per-cgroup */
	bool files;		/* --files: a table per file too */
	uint64_t top;		/* --top: rows per report, 0: all */
	struct ks_strs paths;	/* --file PATH... */
	struct cache_path *fp;	/* the --file paths, stat'ed at configure */
	size_t nfp;
	const char *method;	/* "classic (fentry)", "classic (kprobe)", "tracepoint" */
	char hooks[200];	/* what it hooks: the chosen programs' sections */
	struct ks_task_rows rows;	/* the kernel's per-task table, as the last report saw it */
	struct cache_frow *fprev;	/* the per-file table as the last report saw it, sorted */
	size_t nfprev;
	uint64_t ftotal;	/* per-file counts so far, for the loss accounting */
	/* the agent's: hits and misses per service */
	struct ks_metric *m_hits, *m_misses, *m_dirties;
};

/* Hits and misses from what the kernel counted (bcc's arithmetic): a page added and dirtied
 * at once is a write extending a file, not a miss; what was accessed and not added is a hit.
 * Both clamp at 0 (the counters race, and each method sees some adds without accesses). */
static inline void cache_hits_misses(uint64_t accessed, uint64_t added, uint64_t dirtied,
				     uint64_t *hits, uint64_t *misses)
{
	*misses = added > dirtied ? added - dirtied : 0;
	*hits = accessed > *misses ? accessed - *misses : 0;
}

/* The hit ratio in percent, hits of hits + misses; -1 when there were none. */
static inline double cache_ratio(uint64_t hits, uint64_t misses)
{
	return hits + misses ? 100.0 * hits / (hits + misses) : -1;
}

/* The kernel's dev_t (MKDEV: major << 20 | minor) of user space's @dev. */
uint32_t cache_kdev(dev_t dev);

/* cache_res.c: resident pages of the file at @path (the cachestat syscall, Linux 6.5+, else
 * mincore over a read-only mapping), its size in pages into *@pages and the way it was
 * read into *@how ("cachestat" or "mincore"). Returns the resident count, or -errno. */
long cache_resident(const char *path, uint64_t *pages, const char **how);
/* The same, by mincore only when @cachestat is false (tests compare the two). */
long cache_resident_by(const char *path, uint64_t *pages, const char **how, bool cachestat);

/* cache_res.c: whether this kernel has the cachestat syscall (else --file uses mincore). */
bool cache_has_cachestat(void);

/* cache_res.c: one "cache_file" residency record per --file path (errors named in it). */
void cache_report_residency(struct ks_ctx *ctx, struct cache_state *st);

/* cache_files.c: the per-file table's changes since the last report, --top of them. */
void cache_report_files(struct ks_ctx *ctx, struct cache_state *st, struct bpf_map *map);

/* cache_agent.c: the agent's metrics (registered at init), the kernel's rows into them each
 * interval, and the summary from their deltas. init returns 0 or -errno. */
int cache_agent_init(struct ks_ctx *ctx, void *state);
void cache_agent_collect(struct ks_ctx *ctx, void *state, void *skel);
void cache_agent_summary(struct ks_ctx *ctx, void *state, double secs);

#endif
