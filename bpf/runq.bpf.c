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
 * --preemptor (runqlat): each CPU keeps a ring of the last RUNQ_RING stretches it ran (the
 * cgroup of the task, when it began; struct runq_cpu), pushed at each sched_switch from
 * prev, the task that ran (a slice of the cgroup of the newest stretch extends it). A wait ends on the CPU it was switched in on: its time from
 * start to now is cut along that CPU's slices, newest first (the slice ending now is
 * prev's), and each cgroup's share is added to (victim, preemptor); the part older than
 * the ring is RUNQ_PRE_UNKNOWN, the idle task's RUNQ_PRE_IDLE. The parts add up to the
 * wait exactly; a wait that migrated is cut along the timeline of the CPU it ended on.
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
const volatile bool runq_preemptor = false;	/* --preemptor */

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQ_PRES);
	__type(key, struct runq_pre_key);
	__type(value, struct runq_pre);
} runq_pres SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct runq_cpu);
} runq_cpus SEC(".maps");

/*
 * The thread id of @t when the filters want it, else 0 (the idle tasks are never wanted).
 * @btf: the program is tp_btf, whose task pointers the verifier lets it read directly (a
 * load each); raw_tp reads through bpf_probe_read_kernel (a helper call each). @btf is a
 * constant in each program, so the other branch is not compiled in.
 */
static __always_inline __u32 wanted(struct task_struct *t, bool btf)
{
	__u32 tid, tgid;

	if (btf) {
		tid = t->pid;
		tgid = t->tgid;
	} else {
		tid = BPF_CORE_READ(t, pid);
		tgid = BPF_CORE_READ(t, tgid);
	}
	if (!tid || !ks_want_task(t, tgid, tid, runq_cgroup_id))
		return 0;
	return tid;
}

/* The thread's entry stays from one interval to the next (stop zeroes it): written in
 * place when it is there, a lookup being cheaper than an update (a new element, the old
 * one to the free list, the bucket's lock). */
static __always_inline void start(__u32 tid, __u64 now)
{
	__u64 *ts = bpf_map_lookup_elem(&runq_starts, &tid);

	if (ts) {
		*ts = now;
		return;
	}
	if (bpf_map_update_elem(&runq_starts, &tid, &now, BPF_ANY))
		ks_lost(RUNQ_EV_START);
}

/* @btf: a tp_btf program, which walks @t directly (the agent keys by cgroup: four
 * dependent loads at every switch-in, where raw_tp makes four helper calls). */
static __always_inline void key_of(struct task_struct *t, __u32 tid, struct runq_key *k,
				   bool btf)
{
	if (runq_per_process || runq_per_thread)
		k->pid = btf ? t->tgid : BPF_CORE_READ(t, tgid);
	if (runq_per_thread)
		k->tid = tid;
	if (runq_per_cgroup)
		k->cgroup = btf ? t->cgroups->dfl_cgrp->kn->id :
				  BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline struct runq_hist *hist_of(struct task_struct *t, struct runq_key *k)
{
	struct runq_hist *h;

	h = bpf_map_lookup_elem(&runq_hists, k);
	if (h)
		return h;
	{
		struct runq_hist zero = {};

		bpf_probe_read_kernel(zero.comm, sizeof(zero.comm), &t->comm);
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&runq_hists, k, &zero, BPF_NOEXIST);
	}
	h = bpf_map_lookup_elem(&runq_hists, k);
	if (!h)
		ks_lost(RUNQ_EV_HIST);
	return h;
}

/* Add @ns of a wait of @victim, in @slices stretches, to what @cg cost it. */
static __always_inline void credit(const struct runq_key *victim, __u64 cg, __u64 ns,
				   __u64 slices)
{
	struct runq_pre_key k = { .victim = *victim, .preemptor = cg };
	struct runq_pre *p;

	if (!ns)
		return;
	p = bpf_map_lookup_elem(&runq_pres, &k);
	if (!p) {
		struct runq_pre zero = {};

		bpf_map_update_elem(&runq_pres, &k, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&runq_pres, &k);
		if (!p) {
			ks_lost(RUNQ_EV_PRE);
			return;
		}
	}
	__sync_fetch_and_add(&p->ns, ns);
	__sync_fetch_and_add(&p->slices, slices);
}

/*
 * The wait of @victim from @t0 to @now ended on this CPU (@c), whose current slice (from
 * c->since) ran @pcg: cut it along the CPU's slices, newest first, and credit each
 * cgroup; consecutive slices of one cgroup are one credit. The credits add up to
 * @now - @t0 exactly: each slice gives its overlap with the wait, and what is older than
 * the ring (or was never pushed: start 0, cgroup 0) goes to RUNQ_PRE_UNKNOWN.
 */
static __always_inline void attribute(const struct runq_key *victim, __u64 t0, __u64 now,
				      const struct runq_cpu *c, __u64 pcg)
{
	__u64 end = now, start = c->since, cg = pcg, run_cg = pcg, run_ns = 0, runs = 0;
	__u64 head = c->head;

	for (int i = 0; i <= RUNQ_RING; i++) {
		__u64 from;

		if (i == RUNQ_RING) {
			cg = RUNQ_PRE_UNKNOWN;
			start = 0;
		} else if (i > 0) {
			__u32 idx = (head - i) & (RUNQ_RING - 1);

			cg = c->cg[idx];
			start = c->start[idx];
		}
		from = start > t0 ? start : t0;
		if (end > from) {
			if (cg != run_cg) {
				credit(victim, run_cg, run_ns, runs);
				run_cg = cg;
				run_ns = 0;
				runs = 0;
			}
			run_ns += end - from;
			runs = 1;
		}
		if (start <= t0)
			break;
		end = start;
	}
	credit(victim, run_cg, run_ns, runs);
}

/*
 * Thread @tid of task @t ends the interval it started at its start entry, if it has one;
 * with @c (--preemptor) its wait is also cut along this CPU's slices (@pcg runs now).
 */
static __always_inline void stop(struct task_struct *t, __u32 tid, __u64 now,
				 const struct runq_cpu *c, __u64 pcg, bool btf)
{
	struct runq_key k = {};
	struct runq_hist *h;
	__u64 *ts, t0, delta;

	ts = bpf_map_lookup_elem(&runq_starts, &tid);
	if (!ts || !*ts)
		return;		/* started before ksight */
	t0 = *ts;
	delta = now - t0;
	/* ended: 0 in place, not a delete (no bucket lock, no free list); the entry goes
	 * at the thread's last switch-out */
	*ts = 0;
	if ((__s64)delta < 0)
		delta = 0;
	key_of(t, tid, &k, btf);
	if (c)
		attribute(&k, t0, now, c, pcg);
	h = hist_of(t, &k);
	if (!h)
		return;
	ks_log2_count(h->slots, delta / 1000);
	__sync_fetch_and_add(&h->sum, delta);
}

/*
 * --preemptor at a switch on this CPU: @next (@ntid when wanted) ends its wait, cut along
 * the CPU's slices; then prev's slice, from c->since to @now, joins the ring. prev is the
 * current task here (the tracepoint fires before the switch), so its cgroup is the
 * current one; pid 0 is the idle task.
 */
static __always_inline void switch_preemptor(struct task_struct *prev, struct task_struct *next,
					     __u32 ntid, __u64 now, bool btf)
{
	__u32 zero = 0, idx;
	struct runq_cpu *c;
	__u64 pcg;

	c = bpf_map_lookup_elem(&runq_cpus, &zero);
	if (!c)
		return;		/* cannot be: one entry per CPU */
	pcg = BPF_CORE_READ(prev, pid) ? bpf_get_current_cgroup_id() : RUNQ_PRE_IDLE;
	if (ntid)
		stop(next, ntid, now, c, pcg, btf);
	/* a slice of the cgroup that ran the one before extends it: the ring then spans
	 * stretches of one cgroup, not switches (a cgroup's threads taking turns is one) */
	idx = (c->head - 1) & (RUNQ_RING - 1);
	if (!c->head || c->cg[idx] != pcg) {
		idx = c->head & (RUNQ_RING - 1);
		c->cg[idx] = pcg;
		c->start[idx] = c->since;
		c->head++;
	}
	c->since = now;
}

/* TASK_DEAD, the state of a thread's last switch-out, the same bit since 2.6 */
#define RUNQ_TASK_DEAD 0x80

/*
 * @prev leaves the CPU to @next, still runnable or not (@runnable), in @state. runqlat: a
 * blocking thread is woken before it is switched in again, and sched_wakeup always follows
 * the switch-out it ends, so its wakeup writes its start afresh. An interval's end zeroes
 * its start (stop), and a thread's last switch-out deletes its entry, so the table holds
 * threads alive: waiting (runqlat), running (cpudist) or sleeping (-O).
 */
static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next,
				      bool runnable, long state, bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 ptid = wanted(prev, btf), ntid = wanted(next, btf);

	switch (runq_mode) {
	case RUNQ_MODE_LAT:
		/* a thread that blocks keeps a start it may have (woken while it still ran):
		 * its next wakeup overwrites it before it can be switched in, so only the
		 * last switch-out deletes (one hash delete less on most switches) */
		if (ptid && runnable)
			start(ptid, now);
		if (runq_preemptor)
			switch_preemptor(prev, next, ntid, now, btf);
		else if (ntid)
			stop(next, ntid, now, NULL, 0, btf);
		break;
	case RUNQ_MODE_ON:
		if (ptid)
			stop(prev, ptid, now, NULL, 0, btf);
		if (ntid)
			start(ntid, now);
		break;
	default:
		if (ptid && !(state & RUNQ_TASK_DEAD))
			start(ptid, now);
		if (ntid)
			stop(next, ntid, now, NULL, 0, btf);
	}
	/* a thread's last switch-out: its entry goes */
	if (ptid && (state & RUNQ_TASK_DEAD))
		bpf_map_delete_elem(&runq_starts, &ptid);
}

static __always_inline void on_wakeup(struct task_struct *p, bool btf)
{
	__u32 tid;

	if (runq_mode != RUNQ_MODE_LAT)
		return;
	tid = wanted(p, btf);
	if (tid)
		start(tid, bpf_ktime_get_ns());
}

SEC("tp_btf/sched_switch")
int BPF_PROG(runq__switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = ks_task_state_btf(prev);

	on_switch(prev, next, preempt || !state, state, true);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(runq__switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = ks_task_state(prev);

	on_switch(prev, next, preempt || !state, state, false);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(runq__wakeup_btf, struct task_struct *p)
{
	on_wakeup(p, true);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(runq__wakeup_new_btf, struct task_struct *p)
{
	on_wakeup(p, true);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(runq__wakeup_raw, struct task_struct *p)
{
	on_wakeup(p, false);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(runq__wakeup_new_raw, struct task_struct *p)
{
	on_wakeup(p, false);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
