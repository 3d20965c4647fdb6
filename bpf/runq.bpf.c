// SPDX-License-Identifier: GPL-2.0
/*
 * runq: run-queue latency (runqlat) and on/off-CPU time per slice (cpudist) into log2
 * histograms kept in the kernel; nothing is streamed, whatever the switch rate.
 *
 * runqlat: a thread starts waiting when it is woken (sched_wakeup, sched_wakeup_new) or
 * switched out still runnable (preempted, yielded: sched_switch with the preempt flag or a
 * TASK_RUNNING state), and stops when it is switched in. cpudist: a slice runs from a
 * thread's switch-in to its switch-out (off-CPU with -O: from switch-out to switch-in).
 *
 * Only tp_btf and raw_tp are offered: the filters and keys need the woken and switched-in
 * task (its tgid, cgroup, name), which the classic tracepoints give only as a pid. Every
 * hook here runs with the runqueue lock held and interrupts off; a histogram is shared by
 * CPUs, so adds are atomic.
 */
#include "common.bpf.h"
#include "runq.h"
#include "task_want.bpf.h"

const volatile __u32 runq_mode = RUNQ_MODE_LAT;
const volatile bool runq_per_process = false;	/* -P */
const volatile bool runq_per_thread = false;	/* -L */
const volatile bool runq_per_cgroup = false;	/* --per-cgroup */
const volatile __u64 runq_cgroup_id = 0;	/* --cgroup's id */

/* thread id -> when it started waiting (runqlat), running or sleeping (cpudist), ns */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQ_STARTS);
	__type(key, __u32);
	__type(value, __u64);
} runq_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQ_HISTS);
	__type(key, struct runq_key);
	__type(value, struct runq_hist);
} runq_hists SEC(".maps");

/* The thread id of @t when the filters want it, else 0 (the idle tasks are never wanted). */
static __always_inline __u32 wanted(struct task_struct *t)
{
	__u32 tid = BPF_CORE_READ(t, pid);

	if (!tid || !ks_want_task(t, BPF_CORE_READ(t, tgid), tid, runq_cgroup_id))
		return 0;
	return tid;
}

static __always_inline void start(__u32 tid, __u64 now)
{
	if (bpf_map_update_elem(&runq_starts, &tid, &now, BPF_ANY))
		ks_lost(RUNQ_EV_START);
}

static __always_inline struct runq_hist *hist_of(struct task_struct *t, __u32 tid)
{
	struct runq_key k = {};
	struct runq_hist *h;

	if (runq_per_process || runq_per_thread)
		k.pid = BPF_CORE_READ(t, tgid);
	if (runq_per_thread)
		k.tid = tid;
	if (runq_per_cgroup)
		k.cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	h = bpf_map_lookup_elem(&runq_hists, &k);
	if (h)
		return h;
	{
		struct runq_hist zero = {};

		bpf_probe_read_kernel(zero.comm, sizeof(zero.comm), &t->comm);
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&runq_hists, &k, &zero, BPF_NOEXIST);
	}
	h = bpf_map_lookup_elem(&runq_hists, &k);
	if (!h)
		ks_lost(RUNQ_EV_HIST);
	return h;
}

/* Thread @tid of task @t ends the interval it started at its start entry, if it has one. */
static __always_inline void stop(struct task_struct *t, __u32 tid, __u64 now)
{
	struct runq_hist *h;
	__u64 *ts, delta;
	__u32 slot;

	ts = bpf_map_lookup_elem(&runq_starts, &tid);
	if (!ts)
		return;		/* started before ksight */
	delta = now - *ts;
	bpf_map_delete_elem(&runq_starts, &tid);
	if ((__s64)delta < 0)
		delta = 0;
	h = hist_of(t, tid);
	if (!h)
		return;
	slot = ks_log2(delta / 1000);
	if (slot >= RUNQ_SLOTS)
		slot = RUNQ_SLOTS - 1;
	/* the bound again where the verifier sees it (see biolat) */
	_Static_assert(RUNQ_SLOTS == 32, "the mask below is RUNQ_SLOTS - 1");
	slot = ks_mask(slot, 31);
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, delta);
}

/* TASK_DEAD, the state of a thread's last switch-out, the same bit since 2.6 */
#define RUNQ_TASK_DEAD 0x80

/*
 * @prev leaves the CPU to @next, still runnable or not (@runnable), in @state. A start left
 * by a thread that will not come back the way it started is deleted, so the table holds
 * only threads waiting (runqlat: a blocking thread is woken before it is switched in
 * again, and sched_wakeup always follows the switch-out it ends), running (cpudist) or
 * sleeping (cpudist -O, not after the last switch-out).
 */
static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next,
				      bool runnable, long state)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 ptid = wanted(prev), ntid = wanted(next);

	switch (runq_mode) {
	case RUNQ_MODE_LAT:
		if (ptid && runnable)
			start(ptid, now);
		else if (ptid)
			bpf_map_delete_elem(&runq_starts, &ptid);
		if (ntid)
			stop(next, ntid, now);
		break;
	case RUNQ_MODE_ON:
		if (ptid)
			stop(prev, ptid, now);
		if (ntid)
			start(ntid, now);
		break;
	default:
		if (ptid && !(state & RUNQ_TASK_DEAD))
			start(ptid, now);
		if (ntid)
			stop(next, ntid, now);
	}
}

static __always_inline void on_wakeup(struct task_struct *p)
{
	__u32 tid;

	if (runq_mode != RUNQ_MODE_LAT)
		return;
	tid = wanted(p);
	if (tid)
		start(tid, bpf_ktime_get_ns());
}

SEC("tp_btf/sched_switch")
int BPF_PROG(runq__switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = ks_task_state(prev);

	on_switch(prev, next, preempt || !state, state);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(runq__switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = ks_task_state(prev);

	on_switch(prev, next, preempt || !state, state);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(runq__wakeup_btf, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(runq__wakeup_new_btf, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(runq__wakeup_raw, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(runq__wakeup_new_raw, struct task_struct *p)
{
	on_wakeup(p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
