/* SPDX-License-Identifier: GPL-2.0 */
/* cswitch module (`ksight sched`): context switches, migrations, wakeups and threads, counted in the kernel. */
#ifndef KSIGHT_CSWITCH_H
#define KSIGHT_CSWITCH_H

#include "common.h"

#define CSWITCH_EV_SWITCH KS_EV(KS_MOD_cswitch, 0)	/* aggregated: switches counted; loss slot:
						 * a row the full table could not take */

#define CSWITCH_ROWS 10240

struct cswitch_key {
	__u32 pid;		/* thread group id */
	__u32 tid;		/* the thread with -L, else 0 */
};

struct cswitch_val {
	__u64 voluntary;	/* switched out while blocking (the kernel's nvcsw) */
	__u64 involuntary;	/* switched out while runnable: preempted, yielded (nivcsw) */
	__u64 migrations;	/* moved to another CPU (se.nr_migrations) */
	__u64 wakeups;		/* woken (sched_wakeup, sched_wakeup_new) */
	__u64 threads_created;	/* threads this process (thread) started */
	__u64 threads_exited;	/* its threads that ended, the last one included */
	__u64 cgroup;		/* cgroup v2 id when the row was made */
	char comm[TASK_COMM_LEN];	/* the thread that made the row */
};

#endif
