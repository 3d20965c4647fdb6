/* SPDX-License-Identifier: GPL-2.0 */
/* runq module (`ksight runqlat`, `ksight cpudist`): scheduler latency histograms, in the kernel. */
#ifndef KSIGHT_RUNQ_H
#define KSIGHT_RUNQ_H

#include "common.h"

#define RUNQ_EV_START KS_EV(KS_MOD_runq, 0)	/* loss slot: start table full */
#define RUNQ_EV_HIST KS_EV(KS_MOD_runq, 1)	/* aggregated: intervals measured; loss slot:
						 * histogram table full */

#define RUNQ_SLOTS 32
#define RUNQ_HISTS 10240
#define RUNQ_STARTS 65536	/* threads waiting or running at once */

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
	__u64 count;			/* intervals measured */
	__u64 sum;			/* their total, ns */
	char comm[TASK_COMM_LEN];	/* the thread that made the histogram */
};

#endif
