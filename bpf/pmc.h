/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmc module: hardware and software perf counters per process, thread or cgroup, read at
 * every context switch and summed in the kernel.
 */
#ifndef KSIGHT_PMC_H
#define KSIGHT_PMC_H

#include "common.h"

#define PMC_EV_ROWS KS_EV(KS_MOD_pmc, 0)	/* aggregated: switch-outs counted; loss
						 * slot: a row the full table could not take */

#define PMC_ROWS 10240
#define PMC_MAX 12		/* counters at once: one perf event array each */

struct pmc_key {
	__u32 pid;		/* thread group id (0 with --per-cgroup) */
	__u32 tid;		/* the thread with -L, else 0 */
	__u64 cgroup;		/* cgroup v2 id with --per-cgroup, else 0 */
};

/* What one counter read gives: the count, and how long the event was enabled and how long
 * it really counted (less when hardware counters are multiplexed). */
struct pmc_read {
	__u64 count;
	__u64 enabled;
	__u64 running;
};

struct pmc_val {
	struct pmc_read c[PMC_MAX];	/* summed changes over the row's on-CPU stretches */
	__u64 stretches;	/* switch-in to switch-out stretches summed */
	__u64 switch_outs;	/* every switch-out (the kernel's nvcsw + nivcsw) */
	__u64 unseen;		/* switch-outs whose switch-in was not seen on that CPU
				 * (running before the start): their stretch is not counted */
	__u64 cgroup;		/* cgroup v2 id when the row was made */
	char comm[TASK_COMM_LEN];	/* the thread that made the row */
};

/* Per CPU: the counters when the running task was switched in. */
struct pmc_start {
	struct pmc_read c[PMC_MAX];
	__u32 tid;		/* that task */
	__u32 valid;		/* bit i: counter i was read */
};

#endif
