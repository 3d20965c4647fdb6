// SPDX-License-Identifier: GPL-2.0
/*
 * pmc module: perf counters per process (thread with -L, cgroup with --per-cgroup),
 * attributed exactly. User space opens each counting event once per CPU (pmc_c0..11,
 * perf event arrays indexed by CPU); at every sched_switch the switching CPU's counters
 * are read (bpf_perf_event_read_value), their change since the switch-in of the task now
 * leaving is added to its row, and the values are kept as the next task's start (the
 * clocks are the time between the two switches, timed here: no counter). Only the
 * task that ran on the CPU between two switches can have made the events counted there,
 * so nothing is sampled or guessed. Context switches are the task's own switch-outs, as
 * the kernel counts them per task (the software event is raised after the tracepoint, in
 * the next task's stretch). A switch-out whose switch-in this CPU did not see (the task ran
 * before ksight started, or the task before it left without a tracepoint: some kernels
 * hide their own service threads from sched_switch) counts its switch but not its stretch,
 * as unseen, never as another task's. The switch hooks run with interrupts off on the CPU
 * they read: the per-CPU start needs no lock; rows are shared by the threads of a process
 * on every CPU: adds are atomic.
 *
 * Software counters alone are read from the tasks instead where the kernel has task
 * storage (5.11+; user space chooses, --read): each is a count the kernel keeps per task
 * (faults, switches, migrations, run time), so an iterator each interval (pmc__tasks) and
 * the exit hook take each task's change (bpf/task_counts.bpf.h) and nothing runs at
 * sched_switch.
 */
#include "common.bpf.h"
#include "pmc.h"
#include "task_counts.bpf.h"
#include "task_want.bpf.h"

const volatile bool pmc_per_thread = false;
const volatile bool pmc_per_cgroup = false;
const volatile __u32 pmc_n = 0;		/* counters chosen, pmc_c0 .. pmc_c<n-1> */
const volatile __u32 pmc_open = 0;	/* bit i: counter i has perf events (not cs,
					 * not the clocks) */
const volatile __u32 pmc_hw = 0;	/* bit i: counter i is hardware (may be multiplexed:
					 * its enabled and running times are summed) */
const volatile __u32 pmc_clock = 0;	/* bit i: counter i is cpu-clock or task-clock, timed
					 * here (no perf event: see on_switch) */
/* Read from the tasks (pmc__tasks, pmc__exit_*): counter i is the sum of the task counters
 * of mask pmc_task_src[i] (task_counts.h); --cgroup's id for tasks other than current. */
const volatile __u32 pmc_task_src[PMC_MAX] = {};
const volatile __u64 pmc_cgroup_id = 0;

#define PMC_ARRAY(i)                                                   \
	struct {                                                       \
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);           \
		__uint(key_size, sizeof(__u32));                       \
		__uint(value_size, sizeof(__u32));                     \
	} pmc_c##i SEC(".maps")

PMC_ARRAY(0);
PMC_ARRAY(1);
PMC_ARRAY(2);
PMC_ARRAY(3);
PMC_ARRAY(4);
PMC_ARRAY(5);
PMC_ARRAY(6);
PMC_ARRAY(7);
PMC_ARRAY(8);
PMC_ARRAY(9);
PMC_ARRAY(10);
PMC_ARRAY(11);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pmc_start);
} pmc_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pmc_val);
} pmc_blank SEC(".maps");	/* a new row's image: too big for the stack */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PMC_ROWS);
	__type(key, struct pmc_key);
	__type(value, struct pmc_val);
} pmc_rows SEC(".maps");

/* Counter @i of this CPU into @r; false when it is not open here. A hardware counter is
 * read with its enabled and running times (multiplexing); a software one needs neither, and
 * the plain read skips the kernel's timekeeping (about half the cost of a read). */
static __always_inline bool read_one(__u32 i, struct pmc_read *r)
{
	struct bpf_perf_event_value v;
	void *map;
	__u64 c;

	switch (i) {
	case 0: map = &pmc_c0; break;
	case 1: map = &pmc_c1; break;
	case 2: map = &pmc_c2; break;
	case 3: map = &pmc_c3; break;
	case 4: map = &pmc_c4; break;
	case 5: map = &pmc_c5; break;
	case 6: map = &pmc_c6; break;
	case 7: map = &pmc_c7; break;
	case 8: map = &pmc_c8; break;
	case 9: map = &pmc_c9; break;
	case 10: map = &pmc_c10; break;
	default: map = &pmc_c11; break;
	}
	if (pmc_hw & (1u << i)) {
		if (bpf_perf_event_read_value(map, BPF_F_CURRENT_CPU, &v, sizeof(v)))
			return false;
		r->count = v.counter;
		r->enabled = v.enabled;
		r->running = v.running;
		return true;
	}
	/* the helper returns a negative errno in its value: no count comes near 2^64 */
	c = bpf_perf_event_read(map, BPF_F_CURRENT_CPU);
	if ((__s64)c < 0 && (__s64)c >= -4095)
		return false;
	r->count = c;
	r->enabled = r->running = 0;
	return true;
}

/* The row of @k, made with task @t's name and cgroup if new (the current task's when @t is
 * NULL); NULL when the table is full (counted lost). */
static __always_inline struct pmc_val *row_of(struct pmc_key *k, struct task_struct *t)
{
	struct pmc_val *v = bpf_map_lookup_elem(&pmc_rows, k);
	__u32 zero = 0;
	struct pmc_val *blank;

	if (v)
		return v;
	blank = bpf_map_lookup_elem(&pmc_blank, &zero);
	if (!blank)
		return NULL;
	__builtin_memset(blank, 0, sizeof(*blank));
	if (t) {
		bpf_probe_read_kernel(blank->comm, sizeof(blank->comm), &t->comm);
		blank->cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	} else {
		bpf_get_current_comm(blank->comm, sizeof(blank->comm));
		blank->cgroup = bpf_get_current_cgroup_id();
	}
	/* another CPU may have made it meanwhile: EEXIST is fine */
	bpf_map_update_elem(&pmc_rows, k, blank, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&pmc_rows, k);
	if (!v)
		ks_lost(PMC_EV_ROWS);
	return v;
}

/* The row of the task now leaving (the current one). */
static __always_inline struct pmc_val *row(__u64 pid_tgid)
{
	struct pmc_key k = {};

	if (pmc_per_cgroup) {
		k.cgroup = bpf_get_current_cgroup_id();
	} else {
		k.pid = pid_tgid >> 32;
		k.tid = pmc_per_thread ? (__u32)pid_tgid : 0;
	}
	return row_of(&k, NULL);
}

/* CPU's counters now: the stretch of the task leaving (@pid_tgid, the current one) ends,
 * the next one's (@next_tid) starts. */
static __always_inline void on_switch(__u64 pid_tgid, __u32 next_tid)
{
	__u32 zero = 0, tid = (__u32)pid_tgid, valid = 0;
	struct pmc_start *st = bpf_map_lookup_elem(&pmc_starts, &zero);
	struct pmc_val *v = NULL;
	__u64 now = 0;
	bool seen;

	if (!st)
		return;
	seen = st->tid == tid && st->valid;
	/* the idle task is no one's */
	if (tid && ks_want(pid_tgid)) {
		v = row(pid_tgid);
		if (v) {
			__sync_fetch_and_add(&v->switch_outs, 1);
			__sync_fetch_and_add(seen ? &v->stretches : &v->unseen, 1);
			if (!seen)
				v = NULL;
		}
	}
	/* cpu-clock and task-clock, counted per CPU, advance by the time between two reads:
	 * between two switches, the stretch's length. One clock read here gives both for a
	 * fraction of two counter reads. */
	if (pmc_clock)
		now = bpf_ktime_get_ns();
#pragma unroll
	for (__u32 i = 0; i < PMC_MAX; i++) {
		struct pmc_read r;

		if (i >= pmc_n)
			break;
		if (pmc_clock & (1u << i)) {
			r.count = now;
			r.enabled = r.running = 0;
		} else if (!(pmc_open & (1u << i)) || !read_one(i, &r)) {
			continue;
		}
		if (v && (st->valid & (1u << i))) {
			__sync_fetch_and_add(&v->c[i].count, r.count - st->c[i].count);
			if (pmc_hw & (1u << i)) {
				__sync_fetch_and_add(&v->c[i].enabled,
						     r.enabled - st->c[i].enabled);
				__sync_fetch_and_add(&v->c[i].running,
						     r.running - st->c[i].running);
			}
		}
		st->c[i] = r;
		valid |= 1u << i;
	}
	st->tid = next_tid;
	st->valid = valid | 1u << 31;	/* a stretch starts even with no counter read */
}

SEC("tp_btf/sched_switch")
int BPF_PROG(pmc__switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(bpf_get_current_pid_tgid(), BPF_CORE_READ(next, pid));
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(pmc__switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(bpf_get_current_pid_tgid(), BPF_CORE_READ(next, pid));
	return 0;
}

SEC("tp/sched/sched_switch")
int pmc__switch_tp(struct trace_event_raw_sched_switch *ctx)
{
	on_switch(bpf_get_current_pid_tgid(), ctx->next_pid);
	return 0;
}

/*
 * Read from the tasks (user space chose it: every counter is one the kernel keeps per task,
 * bpf/task_counts.bpf.h): task @t's changes since it was last read go to its row. Its
 * switches are its stretches, all of them counted (none unseen).
 */
static __always_inline void take_task(struct task_struct *t, bool exiting)
{
	__u32 tgid = t->tgid, tid = t->pid;
	__u64 d[KS_TC_N], add[PMC_MAX], any = 0, cs;
	struct pmc_key k = {};
	struct pmc_val *v;

	if (!ks_want_task(t, tgid, tid, pmc_cgroup_id) || !ks_tc_take(t, d, PMC_EV_ROWS, exiting))
		return;
	cs = d[KS_TC_NVCSW] + d[KS_TC_NIVCSW];
#pragma unroll
	for (__u32 i = 0; i < PMC_MAX; i++) {
		add[i] = i < pmc_n ? ks_tc_sum(d, pmc_task_src[i]) : 0;
		any |= add[i];
	}
	if (!any && !cs)
		return;
	if (pmc_per_cgroup) {
		k.cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	} else {
		k.pid = tgid;
		k.tid = pmc_per_thread ? tid : 0;
	}
	v = row_of(&k, t);
	if (!v)
		return;
	__sync_fetch_and_add(&v->switch_outs, cs);
	__sync_fetch_and_add(&v->stretches, cs);
#pragma unroll
	for (__u32 i = 0; i < PMC_MAX; i++)
		if (add[i])
			__sync_fetch_and_add(&v->c[i].count, add[i]);
}

KS_TC_ITER(pmc, take_task)
KS_TC_EXIT_PROGS(pmc, take_task)

char LICENSE[] SEC("license") = "GPL";
