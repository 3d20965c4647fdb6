/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counters the kernel keeps in every task (what getrusage() and /proc/PID/status,
 * stat and schedstat report), which a module can read from the tasks each interval
 * (bpf/task_counts.bpf.h) instead of counting every event itself. A module names the ones
 * a value sums as a mask of these bits.
 */
#ifndef KSIGHT_TASK_COUNTS_H
#define KSIGHT_TASK_COUNTS_H

enum ks_tc {
	KS_TC_MINFLT,		/* min_flt: faults served without I/O */
	KS_TC_MAJFLT,		/* maj_flt: faults that waited for I/O */
	KS_TC_NVCSW,		/* nvcsw: switched out while blocking */
	KS_TC_NIVCSW,		/* nivcsw: switched out while runnable (preempted) */
	KS_TC_MIGRATIONS,	/* se.nr_migrations: moves to another CPU */
	KS_TC_RUNTIME,		/* se.sum_exec_runtime: on-CPU time, ns */
	KS_TC_RUN_DELAY,	/* sched_info.run_delay: time runnable on a run queue, ns */
	KS_TC_WALL,		/* the time since the task started, ns */
	KS_TC_N,
};

#define KS_TC_BIT(c) (1u << (c))

#endif
