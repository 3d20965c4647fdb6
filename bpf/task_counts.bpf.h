/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-task counters read from the tasks rather than counted at every event (the counters
 * of bpf/task_counts.h). The kernel already counts every switch, migration and fault of a
 * task and its time on CPU; an iterator over the tasks (iter/task, run by user space each
 * interval) takes the change of each since it last looked, and the task's exit takes the
 * rest: the module's programs run once per task per interval and once per exit, never on
 * sched_switch, and the sums are the kernel's own, exactly.
 *
 * Where a task was last seen is kept in its task storage (5.11+, freed with the task).
 * A task seen first: one started after the session (ks_tc_t0) counts from zero, an older
 * one from its counts then (what it did before ksight is not counted). A task that is
 * exiting (PF_EXITING, set before the exit tracepoint) is left to its exit hook, so each
 * change is taken once; what the kernel counts after that hook (its last switch-out, the
 * last slice of its run time) is not. (The iterator's look at the flag and its taking are
 * a few instructions, the exit path from the flag to the hook microseconds: only an
 * iterator stalled in between, by an interrupt, could take a change the hook takes too.)
 */
#ifndef KSIGHT_TASK_COUNTS_BPF_H
#define KSIGHT_TASK_COUNTS_BPF_H

#include "common.bpf.h"
#include "task_counts.h"

#define KS_PF_EXITING 0x00000004	/* include/linux/sched.h */

struct ks_tc_last {
	__u64 v[KS_TC_N];
	__s64 owed;	/* off-CPU time taken ahead of the counts (ks_tc_take_off), <= 0 */
};

/* the module's own (a ks_ name would make the loader take it for a map of the core's) */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ks_tc_last);
} tc_seen SEC(".maps");

/* When the session started (CLOCK_MONOTONIC, task->start_time's clock). */
const volatile __u64 ks_tc_t0 = 0;

/* Task @t's counters now, into @v. @t is a trusted pointer (the iterator's task, the
 * current task's BTF pointer): direct loads. */
static __always_inline void ks_tc_read(struct task_struct *t, __u64 *v)
{
	v[KS_TC_MINFLT] = t->min_flt;
	v[KS_TC_MAJFLT] = t->maj_flt;
	v[KS_TC_NVCSW] = t->nvcsw;
	v[KS_TC_NIVCSW] = t->nivcsw;
	v[KS_TC_MIGRATIONS] = t->se.nr_migrations;
	v[KS_TC_RUNTIME] = t->se.sum_exec_runtime;
	/* CONFIG_SCHED_INFO (schedstats or delay accounting: every distribution's) */
	v[KS_TC_RUN_DELAY] = bpf_core_field_exists(t->sched_info) ?
		BPF_CORE_READ(t, sched_info.run_delay) : 0;
	v[KS_TC_WALL] = bpf_ktime_get_ns() - t->start_time;
}

/*
 * ks_tc_take (below), and into @off the time @t spent off the CPU since it was last taken: its
 * wall time less its run time, less its time waiting for a CPU unless @all (then the
 * preempted stretches count too): time blocked. Exact for a task asleep when read (its
 * run time and run-queue wait are brought up to date when it leaves the CPU and when it
 * gets one); a task on a CPU or in a run queue when read has its current stretch not
 * yet in the counts (up to a tick of run time, its wait so far), which would count as
 * off-CPU: what a reading takes above the counts is owed and taken from the next
 * (s->owed), so that every reading is >= 0 and their sum the kernel's figure as of the
 * last. A thread's last taking (its exit hook, on its CPU) may count up to a tick of its
 * last run as off-CPU.
 */
static __always_inline bool ks_tc_take_off(struct task_struct *t, __u64 *d, __u32 lost,
					   bool exiting, bool all, __u64 *off)
{
	struct ks_tc_last *s = bpf_task_storage_get(&tc_seen, t, 0, 0);
	bool old = t->start_time < ks_tc_t0;
	__u64 now[KS_TC_N];
	__s64 b;

	ks_tc_read(t, now);
	if (!s && exiting) {
		__builtin_memcpy(d, now, sizeof(now));
		if (off) {
			b = now[KS_TC_WALL] - now[KS_TC_RUNTIME] - (all ? 0 : now[KS_TC_RUN_DELAY]);
			*off = b > 0 ? b : 0;
		}
		return !old;
	}
	if (!s) {
		s = bpf_task_storage_get(&tc_seen, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!s) {
			ks_lost(lost);
			return false;
		}
		/* a new slot is zeroed: a young task's whole counts are its change */
		if (old) {
			__builtin_memcpy(s->v, now, sizeof(now));
			return false;
		}
	}
#pragma unroll
	for (int i = 0; i < KS_TC_N; i++) {
		d[i] = now[i] - s->v[i];
		s->v[i] = now[i];
	}
	if (off) {
		b = d[KS_TC_WALL] - d[KS_TC_RUNTIME] - (all ? 0 : d[KS_TC_RUN_DELAY]) + s->owed;
		*off = b > 0 ? b : 0;
		s->owed = b > 0 ? 0 : b;
	}
	return true;
}

/*
 * The change of @t's counters since they were last taken, into @d, and taken now. Returns
 * false when there is nothing to count: a task older than the session seen for the first
 * time (its counts become its baseline), or no room for its slot (counted lost as @lost).
 * @exiting: the task's last taking (its exit hook), which makes no slot for a task never
 * read (a short-lived one: its whole counts, or none if it is older than the session).
 */
static __always_inline bool ks_tc_take(struct task_struct *t, __u64 *d, __u32 lost,
				       bool exiting)
{
	return ks_tc_take_off(t, d, lost, exiting, false, NULL);
}

/* Whether @t is exiting: its exit hook takes its counts, not the iterator. */
static __always_inline bool ks_tc_exiting(struct task_struct *t)
{
	return t->flags & KS_PF_EXITING;
}

/* The sum of the changes in @d named by @mask (KS_TC_BIT()s). */
static __always_inline __u64 ks_tc_sum(const __u64 *d, __u32 mask)
{
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < KS_TC_N; i++)
		if (mask & KS_TC_BIT(i))
			s += d[i];
	return s;
}

/* A module's iterator over the tasks, MOD__tasks (run by user space each interval): each
 * task but the exiting ones (their exit hook's) goes to @take(task, false). */
#define KS_TC_ITER(mod, take)                                                          \
	SEC("iter/task")                                                                \
	int mod##__tasks(struct bpf_iter__task *ctx)                                    \
	{                                                                               \
		struct task_struct *t = ctx->task;                                      \
                                                                                        \
		if (t && !ks_tc_exiting(t))                                             \
			take(t, false);                                                 \
		return 0;                                                               \
	}

/* Its exit hook, MOD__exit_btf, MOD__exit_raw and MOD__exit_tp (a slot chooses one): the
 * ending thread's last change to @take(current task, true), by its BTF pointer either way. */
#define KS_TC_EXIT_PROGS(mod, take)                                                    \
	SEC("tp_btf/sched_process_exit")                                                \
	int BPF_PROG(mod##__exit_btf)                                                   \
	{                                                                               \
		take(bpf_get_current_task_btf(), true);                                 \
		return 0;                                                               \
	}                                                                               \
	SEC("raw_tp/sched_process_exit")                                                \
	int BPF_PROG(mod##__exit_raw)                                                   \
	{                                                                               \
		take(bpf_get_current_task_btf(), true);                                 \
		return 0;                                                               \
	}                                                                               \
	SEC("tp/sched/sched_process_exit")                                              \
	int mod##__exit_tp(void *ctx)                                                   \
	{                                                                               \
		take(bpf_get_current_task_btf(), true);                                 \
		return 0;                                                               \
	}

#endif
