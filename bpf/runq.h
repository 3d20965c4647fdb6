/* SPDX-License-Identifier: GPL-2.0 */
/* runq module (`ksight runqlat`, `ksight cpudist`): scheduler latency histograms, in the kernel. */
#ifndef KSIGHT_RUNQ_H
#define KSIGHT_RUNQ_H

#include "common.h"

#define RUNQ_EV_START KS_EV(KS_MOD_runq, 0)	/* loss slot: start table full */
#define RUNQ_EV_HIST KS_EV(KS_MOD_runq, 1)	/* aggregated: intervals measured; loss slot:
						 * histogram table full */
#define RUNQ_EV_PRE KS_EV(KS_MOD_runq, 2)	/* loss slot: preemptor table full (--preemptor) */

#define RUNQ_SLOTS 32
#define RUNQ_HISTS 10240
#define RUNQ_STARTS 65536	/* threads waiting or running at once */
#define RUNQ_PRES 16384		/* (victim, preemptor) pairs (--preemptor) */
#define RUNQ_RING 16		/* slices each CPU remembers (--preemptor), a power of 2 */

/* Preemptors that are not a cgroup (cgroup v2 ids start at 1). */
#define RUNQ_PRE_UNKNOWN 0		/* before the oldest slice the CPU remembers */
#define RUNQ_PRE_IDLE ((__u64)-1)	/* the CPU was idle */

/* What is measured (runq_mode). */
#define RUNQ_MODE_LAT 0		/* runqlat: runnable (woken or preempted) to switched in */
#define RUNQ_MODE_ON 1		/* cpudist: switched in to switched out */
#define RUNQ_MODE_OFF 2		/* cpudist -O: switched out to switched in */

struct runq_key {
	__u32 pid;		/* thread group id with -P or -L, else 0 */
	__u32 tid;		/* thread id with -L, else 0 */
	__u64 cgroup;		/* cgroup v2 id with --per-cgroup, else 0 */
};

struct runq_hist {
	__u64 slots[RUNQ_SLOTS];	/* log2 buckets of the intervals in us */
	__u64 count;			/* intervals measured: the kernel leaves it 0, user
					 * space sums the buckets */
	__u64 sum;			/* their total, ns */
	char comm[TASK_COMM_LEN];	/* the thread that made the histogram */
};

/* --preemptor: the delay a victim (a histogram's key) waited while @preemptor ran. */
struct runq_pre_key {
	struct runq_key victim;
	__u64 preemptor;	/* cgroup v2 id, or RUNQ_PRE_* */
};

struct runq_pre {
	__u64 ns;		/* the victim's wait that overlapped the preemptor's slices */
	__u64 slices;		/* stretches of them (consecutive slices of one count once) */
};

/*
 * --preemptor: what one CPU ran lately. Slice i ran cgroup cg[i] from start[i] to the
 * start of the next newer one (the newest: to @since); the slice running now began at
 * @since. Written only by that CPU's sched_switch, under its run-queue lock.
 */
struct runq_cpu {
	__u64 since;
	__u64 head;		/* slices pushed so far; the newest is at (head - 1) % RUNQ_RING */
	__u64 cg[RUNQ_RING];
	__u64 start[RUNQ_RING];
};

#endif
