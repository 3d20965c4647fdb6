/* SPDX-License-Identifier: GPL-2.0 */
/*
 * profile module: CPU samples (cpu-clock, per CPU) counted in the kernel per process image
 * and (user stack, kernel stack); the stacks themselves live in a stack-trace map.
 */
#ifndef KSIGHT_PROFILE_H
#define KSIGHT_PROFILE_H

#include "common.h"

#define PROFILE_EV_SAMPLE KS_EV(KS_MOD_profile, 0)	/* aggregated: samples counted; loss
							 * slot: a row the full table refused */
#define PROFILE_EV_FIRST KS_EV(KS_MOD_profile, 1)	/* streamed: the first sample of a
							 * process image (its maps are read then) */

#define PROFILE_EV_WALL KS_EV(KS_MOD_profile, 2)	/* --wall, aggregated: intervals off
							 * the CPU counted (offcpu_sched.bpf.h);
							 * loss slot: a row the full table refused */
#define PROFILE_EV_WALL_START KS_EV(KS_MOD_profile, 3)	/* --wall, loss slot: a switch-out
							 * the full table of sleepers refused */

#define PROFILE_ROWS 16384
#define PROFILE_SEEN 16384
#define PROFILE_DEPTH 127	/* frames per stack, the kernel's PERF_MAX_STACK_DEPTH */

/* Stack ids that are no id: the sample had no such stack (user mode for the kernel's,
 * a kernel thread for the user's, or not asked for), or it was lost (a collision in the
 * stack map, or another error: profile_stats says which). */
#define PROFILE_NO_STACK (-1)
#define PROFILE_LOST_STACK (-2)

struct profile_key {
	__u32 pid;		/* thread group id */
	__u32 exec_id;		/* the task's self_exec_id: which image of the process */
	__s32 ustack;		/* user stack id in profile_stacks, or PROFILE_NO_STACK or
				 * PROFILE_LOST_STACK */
	__s32 kstack;		/* kernel stack id, the same */
};

struct profile_val {
	__u64 count;		/* samples */
	__u64 cgroup;		/* cgroup v2 id when the row was made */
	char comm[TASK_COMM_LEN];	/* the thread that made the row */
};

/* Per-CPU counters of profile_stats, by index. */
enum profile_stat {
	PROFILE_ST_SAMPLES,	/* samples of wanted tasks */
	PROFILE_ST_IDLE,	/* samples of the idle task (not counted in rows) */
	PROFILE_ST_UNONE,	/* no user stack: kernel thread, or not asked (-K) */
	PROFILE_ST_ULOST,	/* user stack lost: the stack map's bucket held another (EEXIST) */
	PROFILE_ST_UERR,	/* user stack not taken (EFAULT: unreadable; ENOMEM) */
	PROFILE_ST_KNONE,	/* no kernel stack: the sample was in user mode, or -U */
	PROFILE_ST_KLOST,	/* kernel stack lost to a collision (EEXIST) */
	PROFILE_ST_KERR,	/* kernel stack not taken (other errors) */
	PROFILE_ST_SEEN_FULL,	/* a new image the seen table refused (maps not read) */
	PROFILE_ST_N,
};

/* The first sample of a process image: user space reads /proc/PID/maps now. */
struct profile_first {
	struct ks_hdr hdr;
	__u32 exec_id;
	__u32 __pad;
};

#endif
