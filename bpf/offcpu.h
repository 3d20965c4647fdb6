/* SPDX-License-Identifier: GPL-2.0 */
/*
 * offcpu module: time blocked (switch-out to switch-in), summed in the kernel by the
 * sleeper's process and stacks and by its waker's process and stacks; the stacks live in
 * a stack-trace map. Nothing is streamed.
 */
#ifndef KSIGHT_OFFCPU_H
#define KSIGHT_OFFCPU_H

#include "common.h"

#define OFFCPU_EV_BLOCK KS_EV(KS_MOD_offcpu, 0)	/* aggregated: blocked intervals counted;
						 * loss slot: a row the full table refused */
#define OFFCPU_EV_START KS_EV(KS_MOD_offcpu, 1)	/* loss slot: a switch-out the full
						 * table of sleepers refused */

#define OFFCPU_EV_FIRST KS_EV(KS_MOD_offcpu, 2)	/* streamed: the first stack of a process
						 * image (its maps are read then) */

#define OFFCPU_ROWS 16384
#define OFFCPU_SEEN 16384
#define OFFCPU_STARTS 32768	/* threads asleep at once */
#define OFFCPU_DEPTH 127	/* frames per stack, the kernel's PERF_MAX_STACK_DEPTH */
/* Stack ids that are no id: no such stack (a kernel thread's user stack, or not asked
 * for), or lost (a collision in the stack map, or another error: offcpu_stats says which). */
#define OFFCPU_NO_STACK (-1)
#define OFFCPU_LOST_STACK (-2)

struct offcpu_key {
	__u32 pid;		/* the sleeper's thread group id */
	__u32 tid;		/* its thread id with -L, else 0 */
	__u32 exec_id;		/* its self_exec_id (which image, for user symbols) */
	__s32 ustack;		/* its user stack id at switch-out, or OFFCPU_NO_STACK */
	__s32 kstack;		/* its kernel stack id */
	__u32 waker_pid;	/* the waker's thread group id (0: none seen, or --no-waker) */
	__u32 waker_tid;	/* the waker's thread id with -L, else 0 */
	__u32 waker_exec_id;
	__s32 waker_ustack;
	__s32 waker_kstack;
	char comm[TASK_COMM_LEN];	/* the sleeper's thread name */
	char waker_comm[TASK_COMM_LEN];	/* the waker's ("" when none) */
	__u64 cgroup;		/* the sleeper's cgroup v2 id with --per-cgroup, else 0 */
};

struct offcpu_val {
	__u64 total_ns;		/* time blocked */
	__u64 count;		/* blocked intervals */
	__u64 cgroup;		/* the sleeper's cgroup v2 id when the row was made */
	__u64 rq_ns;		/* of total_ns, the time runnable in the run queue (only
				 * with offcpu_rq_split: profile --wall) */
};

/* What a thread switched out blocked left for its switch-in (and its waker). */
struct offcpu_start {
	__u64 ts;		/* switch-out, ns */
	__u64 wake_ts;		/* runnable again (sched_waking, or ts if preempted), ns;
				 * 0 while blocked (kept only with offcpu_rq_split) */
	__u32 exec_id;
	__s32 ustack, kstack;
	__u32 waker_pid, waker_tid, waker_exec_id;
	__s32 waker_ustack, waker_kstack;
	char waker_comm[TASK_COMM_LEN];
};

/* Per-CPU counters of offcpu_stats, by index. */
enum offcpu_stat {
	OFFCPU_ST_OUT,		/* switch-outs of wanted threads recorded */
	OFFCPU_ST_PREEMPTED,	/* switch-outs still runnable, not recorded (no --all) */
	OFFCPU_ST_UNONE,	/* no user stack: kernel thread, or -K */
	OFFCPU_ST_ULOST,	/* user stack lost to a collision in the stack map (EEXIST) */
	OFFCPU_ST_UERR,		/* user stack not taken (EFAULT, ENOMEM) */
	OFFCPU_ST_KNONE,	/* no kernel stack: -U */
	OFFCPU_ST_KLOST,
	OFFCPU_ST_KERR,
	OFFCPU_ST_WAKES,	/* wakeups of recorded sleepers seen (waker taken) */
	OFFCPU_ST_NOWAKER,	/* intervals ended with no waker seen */
	OFFCPU_ST_RANGE,	/* intervals outside --min-us/--max-us, not counted */
	OFFCPU_ST_SEEN_FULL,	/* a new image the seen table refused (maps not read) */
	OFFCPU_ST_N,
};

/* The first user stack of a process image: user space reads /proc/PID/maps now. */
struct offcpu_first {
	struct ks_hdr hdr;
	__u32 exec_id;
	__u32 __pad;
};

#endif
