// SPDX-License-Identifier: GPL-2.0
/*
 * cswitch module (`ksight sched`): per process (or per thread, -L) context switches,
 * voluntary and not, migrations, wakeups, threads created and exited, summed in the kernel
 * (cswitch_rows) and read each interval: nothing is streamed, whatever the switch rate.
 *
 * A switch is voluntary when the task blocked (schedule() with a sleeping state, not a
 * preemption), which is when the kernel adds to its nvcsw: the tp_btf and raw_tp programs
 * see the preempt flag and the task's state; the classic tracepoint reports a preemption
 * as an extra state bit (TASK_REPORT_MAX). Every hook here runs with interrupts off
 * (switch, wakeup, migration) or adds atomically (fork, exit), and one row is shared by
 * the threads of a process on every CPU: adds are atomic.
 *
 * Where the kernel has task storage (5.11+; user space chooses, --read) the switches and
 * migrations are read from the tasks instead: the kernel counts both per task (nvcsw,
 * nivcsw, se.nr_migrations), so an iterator each interval (cswitch__tasks) and the exit
 * hook take each task's change (bpf/task_counts.bpf.h), and nothing runs at sched_switch
 * or sched_migrate_task. Wakeups, which no task counts, stay hooked.
 */
#include "common.bpf.h"
#include "cswitch.h"
#include "task_counts.bpf.h"
#include "task_want.bpf.h"

const volatile bool cswitch_per_thread = false;
const volatile bool cswitch_tasks = false;	/* switches and moves read from the tasks */
const volatile __u64 cswitch_cgroup_id = 0;	/* --cgroup's id, for tasks other than current */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CSWITCH_ROWS);
	__type(key, struct cswitch_key);
	__type(value, struct cswitch_val);
} cswitch_rows SEC(".maps");

static __always_inline bool want_task(struct task_struct *t, __u32 tgid, __u32 tid)
{
	return ks_want_task(t, tgid, tid, cswitch_cgroup_id);
}

/* The row of (@tgid, @tid), made with task @t's name and cgroup if new; NULL when the
 * table is full (counted lost). */
static __always_inline struct cswitch_val *row(struct task_struct *t, __u32 tgid, __u32 tid)
{
	struct cswitch_key k = { .pid = tgid, .tid = cswitch_per_thread ? tid : 0 };
	struct cswitch_val *v = bpf_map_lookup_elem(&cswitch_rows, &k);

	if (v)
		return v;
	{
		struct cswitch_val zero = {};

		bpf_probe_read_kernel(zero.comm, sizeof(zero.comm), &t->comm);
		zero.cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&cswitch_rows, &k, &zero, BPF_NOEXIST);
	}
	v = bpf_map_lookup_elem(&cswitch_rows, &k);
	if (!v)
		ks_lost(CSWITCH_EV_SWITCH);
	return v;
}

/* @prev, the current task, switched out; @involuntary: preempted or still runnable. */
static __always_inline void count_switch(struct task_struct *prev, bool involuntary)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cswitch_val *v;

	if (!(__u32)pid_tgid || !ks_want(pid_tgid))	/* the idle task is no one's */
		return;
	v = row(prev, pid_tgid >> 32, (__u32)pid_tgid);
	if (!v)
		return;
	if (involuntary)
		__sync_fetch_and_add(&v->involuntary, 1);
	else
		__sync_fetch_and_add(&v->voluntary, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cswitch__switch_btf, bool preempt, struct task_struct *prev)
{
	count_switch(prev, preempt || !ks_task_state_btf(prev));
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(cswitch__switch_raw, bool preempt, struct task_struct *prev)
{
	count_switch(prev, preempt || !ks_task_state(prev));
	return 0;
}

/* The classic tracepoint's prev_state: 0 runnable, TASK_REPORT_MAX (the bit above every
 * reported state, 0x100 since 4.14) for a preemption, else the state blocked in. */
#define CSWITCH_TP_PREEMPTED 0x100

SEC("tp/sched/sched_switch")
int cswitch__switch_tp(struct trace_event_raw_sched_switch *ctx)
{
	long s = ctx->prev_state;

	count_switch((struct task_struct *)bpf_get_current_task(),
		     !s || (s & CSWITCH_TP_PREEMPTED));
	return 0;
}

/* Task @p (not the current one) was woken (@what 0) or moved to another CPU (1). @btf: a
 * tp_btf program, which reads @p directly (a constant in each program). */
static __always_inline void count_task(struct task_struct *p, int what, bool btf)
{
	__u32 tgid = btf ? p->tgid : BPF_CORE_READ(p, tgid);
	__u32 tid = btf ? p->pid : BPF_CORE_READ(p, pid);
	struct cswitch_val *v;

	if (!tid || !want_task(p, tgid, tid))
		return;
	v = row(p, tgid, tid);
	if (!v)
		return;
	if (what)
		__sync_fetch_and_add(&v->migrations, 1);
	else
		__sync_fetch_and_add(&v->wakeups, 1);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(cswitch__wakeup_btf, struct task_struct *p)
{
	count_task(p, 0, true);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(cswitch__wakeup_new_btf, struct task_struct *p)
{
	count_task(p, 0, true);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(cswitch__migrate_btf, struct task_struct *p)
{
	count_task(p, 1, true);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(cswitch__wakeup_raw, struct task_struct *p)
{
	count_task(p, 0, false);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(cswitch__wakeup_new_raw, struct task_struct *p)
{
	count_task(p, 0, false);
	return 0;
}

SEC("raw_tp/sched_migrate_task")
int BPF_PROG(cswitch__migrate_raw, struct task_struct *p)
{
	count_task(p, 1, false);
	return 0;
}

/* A clone by the current task: a thread when the child joins its group. */
static __always_inline void count_fork(struct task_struct *parent, struct task_struct *child)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cswitch_val *v;

	if (BPF_CORE_READ(child, tgid) != pid_tgid >> 32 || !ks_want(pid_tgid))
		return;
	v = row(parent, pid_tgid >> 32, (__u32)pid_tgid);
	if (v)
		__sync_fetch_and_add(&v->threads_created, 1);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(cswitch__fork_btf, struct task_struct *parent, struct task_struct *child)
{
	count_fork(parent, child);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(cswitch__fork_raw, struct task_struct *parent, struct task_struct *child)
{
	count_fork(parent, child);
	return 0;
}

/* Task @t's switches and moves since they were last taken (bpf/task_counts.bpf.h). */
static __always_inline void take_task(struct task_struct *t, bool exiting)
{
	__u32 tgid = t->tgid, tid = t->pid;
	struct cswitch_val *v;
	__u64 d[KS_TC_N];

	if (!want_task(t, tgid, tid) || !ks_tc_take(t, d, CSWITCH_EV_SWITCH, exiting))
		return;
	if (!(d[KS_TC_NVCSW] | d[KS_TC_NIVCSW] | d[KS_TC_MIGRATIONS]))
		return;
	v = row(t, tgid, tid);
	if (!v)
		return;
	__sync_fetch_and_add(&v->voluntary, d[KS_TC_NVCSW]);
	__sync_fetch_and_add(&v->involuntary, d[KS_TC_NIVCSW]);
	__sync_fetch_and_add(&v->migrations, d[KS_TC_MIGRATIONS]);
}

KS_TC_ITER(cswitch, take_task)

/* The current thread ends (and, read from the tasks, the rest of its counts is taken). */
static __always_inline void count_exit(struct task_struct *t)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cswitch_val *v;

	if (!ks_want(pid_tgid))
		return;
	v = row(t, pid_tgid >> 32, (__u32)pid_tgid);
	if (v)
		__sync_fetch_and_add(&v->threads_exited, 1);
	if (cswitch_tasks)
		take_task(bpf_get_current_task_btf(), true);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(cswitch__exit_btf, struct task_struct *t)
{
	count_exit(t);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(cswitch__exit_raw, struct task_struct *t)
{
	count_exit(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
