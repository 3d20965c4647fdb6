/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cache module: page-cache accesses, additions (misses) and dirtied pages, counted in the
 * kernel per process (or thread, or cgroup) and, with --files or --file, per file.
 */
#ifndef KSIGHT_CACHE_H
#define KSIGHT_CACHE_H

#include "common.h"

#define CACHE_EV_ROW KS_EV(KS_MOD_cache, 0)	/* aggregated: per task; loss slot: a row the
						 * full table could not take */
#define CACHE_EV_FILE KS_EV(KS_MOD_cache, 1)	/* aggregated: per file; loss: the same */

#define CACHE_ROWS 10240
#define CACHE_FILES 8192
#define CACHE_READERS 4096	/* threads whose last read the tracepoint method remembers */

struct cache_key {
	__u32 pid;		/* thread group id; 0 with --per-cgroup */
	__u32 tid;		/* the thread with -L, else 0 */
	__u64 cgroup;		/* cgroup v2 id with --per-cgroup, else 0 */
};

/*
 * What the kernel counted. Units depend on the method (cache_method in user space):
 * classic (fentry, kprobe): @accessed is calls of mark_page_accessed/folio_mark_accessed,
 * @added calls of add_to_page_cache_lru/filemap_add_folio, @dirtied clean-to-dirty
 * transitions (one per folio); tracepoints: @accessed is pages that reads asked for
 * (filemap:mm_filemap_get_pages, one per file page fault), @added pages added
 * (mm_filemap_add_to_page_cache, 1 << order), @dirtied folios dirtied
 * (writeback:writeback_dirty_folio).
 */
struct cache_val {
	__u64 accessed;
	__u64 added;
	__u64 dirtied;
	__u64 cgroup;		/* cgroup v2 id when the row was made */
	char comm[TASK_COMM_LEN];	/* the thread that made the row */
};

struct cache_fkey {
	__u64 ino;		/* the inode's number */
	__u32 dev;		/* its superblock's kernel dev_t (major << 20 | minor) */
	__u32 __pad;
};

struct cache_fval {
	__u64 accessed;
	__u64 added;
	__u64 dirtied;		/* tracepoints: on a file system named by its backing device */
};

/* The tracepoint method's last read of a thread: filemap_read asks for a batch at a time,
 * each naming the rest of the read, so only a read's first batch counts its pages. */
struct cache_reader {
	__u64 ino;
	__u64 last;		/* index of the read's last page */
	__u64 index;		/* where its last batch started */
	__u32 dev;
	__u32 __pad;
};

/*
 * The pages a read batch [@index, @last] of file (@dev, @ino) adds to what its thread asked
 * for, given @r, the thread's last batch (updated). A batch of the same read names the
 * same last page and starts further on: the read's first batch counted it already.
 */
static inline __u64 cache_read_pages(struct cache_reader *r, __u32 dev, __u64 ino,
				     __u64 index, __u64 last)
{
	int same = r->ino == ino && r->dev == dev && r->last == last && index > r->index;

	r->ino = ino;
	r->dev = dev;
	r->last = last;
	r->index = index;
	if (same || last < index)
		return 0;
	return last - index + 1;
}

#endif
