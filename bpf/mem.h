/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mem module: page faults per process or thread, memory growth (mmap/munmap bytes, the
 * heap's size, anonymous RSS and its peak), counted in the kernel, and OOM kills.
 */
#ifndef KSIGHT_MEM_H
#define KSIGHT_MEM_H

#include "common.h"

#define MEM_EV_FAULT KS_EV(KS_MOD_mem, 0)	/* aggregated: faults counted; loss slot: a
						 * row the full table could not take */
#define MEM_EV_OOM KS_EV(KS_MOD_mem, 1)		/* streamed: the OOM killer chose a victim */

#define MEM_EV_LEAK KS_EV(KS_MOD_mem, 2)	/* aggregated (--leaks): outstanding blocks;
						 * loss slot: a block the full table could not
						 * take */
#define MEM_EV_LEAK_STACK KS_EV(KS_MOD_mem, 3)	/* loss slot only: a block whose stack
						 * was cut to its first frame (or lost) */

#define MEM_ROWS 10240
#define MEM_LEAK_BLOCKS 262144	/* outstanding blocks followed */
#define MEM_LEAK_STACKS 16384	/* distinct allocating stacks */
#define MEM_LEAK_DEPTH 32	/* frames kept per stack */

#define MEM_STACK_TOP (1 << 30)

/* --leaks: one outstanding block. */
struct mem_block {
	__u64 size;		/* bytes asked for */
	__u64 ts;		/* ns, CLOCK_MONOTONIC, when it was allocated */
	__s32 stack;		/* its user stack in mem_leak_stacks, or with MEM_STACK_TOP
				 * its first frame in mem_leak_tops; < 0: lost */
	__u32 __pad;
};

struct mem_key {
	__u32 pid;		/* thread group id */
	__u32 tid;		/* the thread with -L, else 0 */
};

/* What mem_val.seen says was seen (gauges: 0 until then). */
#define MEM_SEEN_HEAP 1		/* a brk call: heap is valid */
#define MEM_SEEN_RSS 2		/* an anonymous RSS change: rss_anon, anon_peak valid */

struct mem_val {
	__u64 minor;		/* faults served without I/O (the kernel's min_flt) */
	__u64 major;		/* faults that waited for I/O (maj_flt) */
	__u64 cgroup;		/* cgroup v2 id when the row was made */
	__u64 mmap_bytes;	/* successful mmap()s: their lengths in whole pages */
	__u64 munmap_bytes;	/* successful munmap()s: the same */
	__u64 heap;		/* gauge: the program break minus its start, at the last brk() */
	__u64 rss_anon;		/* gauge: anonymous resident bytes at the last change */
	__u64 anon_peak;	/* the most rss_anon was while traced */
	__u32 seen;		/* MEM_SEEN_* */
	__u32 __pad;
	char comm[TASK_COMM_LEN];	/* the thread that made the row */
};

/* kmem:rss_stat's member: which of the mm's counters changed. */
#define MEM_MM_ANONPAGES 1

/* oom:mark_victim. The header is the task that ran the OOM killer (the allocating one). */
struct mem_oom {
	struct ks_hdr hdr;
	__u32 victim;		/* the victim's pid */
	__u32 uid;		/* its uid (6.x kernels), else ~0 */
	__u64 total_vm_kb;	/* its memory when chosen, KiB (6.x kernels, else 0) */
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__s32 oom_score_adj;
	char comm[TASK_COMM_LEN];	/* the victim's name (6.x kernels, else empty) */
	__u32 __pad;
};

#endif
