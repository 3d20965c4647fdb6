/* SPDX-License-Identifier: GPL-2.0 */
/*
 * offcpu's kernel side, shared: the maps and hook bodies of the offcpu module, included by
 * bpf/offcpu.bpf.c and by bpf/profile.bpf.c (`ksight profile --wall`), each of which wraps
 * them in programs of its own name. An object that includes it may name the record and
 * loss types as its own (OFFCPU_T_FIRST, OFFCPU_T_BLOCK, OFFCPU_T_START) so that the
 * dispatcher routes them to its module.
 *
 * sched_switch, for prev (still the current task, so it can take its own stacks): a
 * wanted thread leaving the CPU blocked (a sleeping state, not preempted; any switch-out
 * with --all) leaves its switch-out time and user and kernel stack ids in offcpu_starts,
 * by thread id. sched_waking, in the waker's context (the kernel guarantees it, unlike
 * sched_wakeup, which a remote wakeup fires on the woken task's CPU): the waker's
 * process, name and stacks go into the sleeper's entry, and the time it became runnable.
 * sched_switch, for next: the interval ends; its length is added to offcpu_rows under
 * (sleeper, its stacks, waker, its stacks). The filters are read at switch-out, where the
 * stacks would cost: the thread switched in later is the same one (ks_want of the
 * current task).
 *
 * With offcpu_rq_split (profile --wall) the interval is cut in two where the thread became
 * runnable: rq_ns of a row is the part spent waiting in the run queue (from sched_waking,
 * or from the switch-out of a preempted thread, to the switch-in), the rest of total_ns
 * the part blocked. The kernel's own run_delay (schedstat) starts at the enqueue, a few
 * hundred nanoseconds after sched_waking.
 *
 * Only tp_btf and raw_tp: the hooks need the tasks themselves (their state, pid, name),
 * and no kernel function is probed. Each hook runs with the runqueue lock held and
 * interrupts off; a row is shared by CPUs, so adds are atomic.
 */
#ifndef KSIGHT_OFFCPU_SCHED_BPF_H
#define KSIGHT_OFFCPU_SCHED_BPF_H

#include "common.bpf.h"
#include "offcpu.h"
#include "task_want.bpf.h"

#ifndef OFFCPU_T_FIRST
#define OFFCPU_T_FIRST OFFCPU_EV_FIRST
#endif
#ifndef OFFCPU_T_BLOCK
#define OFFCPU_T_BLOCK OFFCPU_EV_BLOCK
#endif
#ifndef OFFCPU_T_START
#define OFFCPU_T_START OFFCPU_EV_START
#endif

#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000	/* include/linux/sched.h, stable since 2.6 */
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#define TASK_DEAD 0x80		/* a thread's last switch-out, the same bit since 2.6 */

const volatile bool offcpu_user = true;		/* user stacks (not -K) */
const volatile bool offcpu_kernel = true;	/* kernel stacks (not -U) */
const volatile bool offcpu_waker = true;	/* not --no-waker */
const volatile bool offcpu_all = false;		/* --all: preempted switch-outs too */
const volatile bool offcpu_per_thread = false;	/* -L */
const volatile bool offcpu_per_cgroup = false;	/* --per-cgroup: the cgroup in the key */
const volatile bool offcpu_rq_split = false;	/* profile --wall: preempted switch-outs
						 * too, and the run-queue part apart */
const volatile __u64 offcpu_min_ns = 0;		/* --min-us */
const volatile __u64 offcpu_max_ns = ~0ULL;	/* --max-us */

/* its size is set before load (--stack-storage) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, OFFCPU_DEPTH * sizeof(__u64));
} offcpu_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_STARTS);
	__type(key, __u32);
	__type(value, struct offcpu_start);
} offcpu_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_ROWS);
	__type(key, struct offcpu_key);
	__type(value, struct offcpu_val);
} offcpu_rows SEC(".maps");

/* pid -> the image last announced (exec_id, the leader's start time): a new one is
 * announced so that its maps are read while it lives */
struct offcpu_image {
	__u64 start;
	__u32 exec_id;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OFFCPU_SEEN);
	__type(key, __u32);
	__type(value, struct offcpu_image);
} offcpu_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OFFCPU_ST_N);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_stats SEC(".maps");

/* the entry being filled (too large for the stack next to the key) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_key);
} offcpu_scratch SEC(".maps");

static __always_inline void offcpu_stat_add(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&offcpu_stats, &i);

	if (v)
		(*v)++;
}

/* The current task's stack id, or OFFCPU_LOST_STACK with the reason counted at @none + 1
 * (collision) or @none + 2 (other errors). */
static __always_inline __s32 offcpu_stack_id(void *ctx, __u64 flags, __u32 none)
{
	long id = bpf_get_stackid(ctx, &offcpu_stacks, flags);

	if (id >= 0)
		return id;
	offcpu_stat_add(id == -EEXIST ? none + 1 : none + 2);
	return OFFCPU_LOST_STACK;
}

/* The current task @t (@pid_tgid) took a user stack of image @exec_id: announce the
 * image the first time. */
static __always_inline void offcpu_announce(struct task_struct *t, __u64 pid_tgid, __u32 exec_id)
{
	struct offcpu_image img = { .exec_id = exec_id }, *seen;
	__u32 pid = pid_tgid >> 32;
	struct offcpu_first *e;

	img.start = BPF_CORE_READ(t, group_leader, start_time);
	seen = bpf_map_lookup_elem(&offcpu_seen, &pid);
	if (seen && seen->exec_id == exec_id && seen->start == img.start)
		return;
	if (bpf_map_update_elem(&offcpu_seen, &pid, &img, BPF_ANY)) {
		offcpu_stat_add(OFFCPU_ST_SEEN_FULL);
		return;
	}
	e = ks_reserve(OFFCPU_T_FIRST, sizeof(*e), pid_tgid);
	if (!e)
		return;
	e->exec_id = exec_id;
	e->__pad = 0;
	ks_submit(e);
}

/* The current task's (@t) user and kernel stack ids. */
static __always_inline void offcpu_stacks_of(void *ctx, struct task_struct *t, __s32 *u, __s32 *k)
{
	bool kthread;

	*u = *k = OFFCPU_NO_STACK;
	if (!offcpu_user && !offcpu_kernel)
		return;		/* the agent: none asked for, none to count as missing */
	kthread = (BPF_CORE_READ(t, flags) & PF_KTHREAD) || !BPF_CORE_READ(t, mm);
	if (offcpu_user && !kthread) {
		*u = offcpu_stack_id(ctx, BPF_F_USER_STACK, OFFCPU_ST_UNONE);
		if (*u >= 0)
			offcpu_announce(t, bpf_get_current_pid_tgid(),
				 (__u32)BPF_CORE_READ(t, self_exec_id));
	} else
		offcpu_stat_add(OFFCPU_ST_UNONE);
	if (offcpu_kernel)
		*k = offcpu_stack_id(ctx, 0, OFFCPU_ST_KNONE);
	else
		offcpu_stat_add(OFFCPU_ST_KNONE);
}

/*
 * A thread's entry in offcpu_starts stays from one block to the next, ts 0 between them
 * (its switch-in consumed it), and goes at its last switch-out: written in place when it
 * is there, as runq.bpf.c's are, a lookup being cheaper than an update (a new element,
 * the old one to the free list, the bucket's lock) and a delete at every switch-in.
 * ts is written last: a sched_waking on another CPU, which may run while the thread is
 * still switching out, sees a block's entry whole (ts set) or none (ts 0).
 */
static __always_inline void offcpu_start_put(__u32 tid, const struct offcpu_start *s)
{
	struct offcpu_start *e = bpf_map_lookup_elem(&offcpu_starts, &tid);

	if (!e) {
		if (bpf_map_update_elem(&offcpu_starts, &tid, s, BPF_ANY))
			ks_lost(OFFCPU_T_START);
		else
			offcpu_stat_add(OFFCPU_ST_OUT);
		return;
	}
	e->ts = 0;
	asm volatile("" ::: "memory");
	e->wake_ts = s->wake_ts;
	e->exec_id = s->exec_id;
	e->ustack = s->ustack;
	e->kstack = s->kstack;
	e->waker_pid = 0;
	e->waker_tid = 0;
	e->waker_exec_id = 0;
	e->waker_ustack = OFFCPU_NO_STACK;
	e->waker_kstack = OFFCPU_NO_STACK;
	__builtin_memset(e->waker_comm, 0, sizeof(e->waker_comm));	/* all of it: keyed */
	asm volatile("" ::: "memory");
	e->ts = s->ts;
	offcpu_stat_add(OFFCPU_ST_OUT);
}

/* @prev, the current task, leaves the CPU. @btf: a tp_btf program, whose task pointers
 * the verifier lets it read directly (a load each, where raw_tp calls a helper); a
 * constant in each program, so the other branch is not compiled in. */
static __always_inline void offcpu_switch_out(void *ctx, struct task_struct *prev, bool runnable,
				       long state, bool btf)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct offcpu_start s = {};
	__u32 tid = (__u32)pid_tgid;

	if (!tid)
		return;
	if (state & TASK_DEAD) {
		bpf_map_delete_elem(&offcpu_starts, &tid);	/* its last switch-out */
		return;
	}
	if (!ks_want(pid_tgid))
		return;
	if (runnable && !offcpu_all && !offcpu_rq_split) {
		offcpu_stat_add(OFFCPU_ST_PREEMPTED);
		return;
	}
	s.exec_id = btf ? (__u32)prev->self_exec_id : (__u32)BPF_CORE_READ(prev, self_exec_id);
	offcpu_stacks_of(ctx, prev, &s.ustack, &s.kstack);
	s.waker_ustack = s.waker_kstack = OFFCPU_NO_STACK;
	s.ts = bpf_ktime_get_ns();
	/* preempted: runnable from the switch-out on */
	s.wake_ts = runnable ? s.ts : 0;
	offcpu_start_put(tid, &s);
}

/* @next comes back on the CPU: the interval its switch-out started ends. */
static __always_inline void offcpu_switch_in(struct task_struct *next, bool btf)
{
	__u32 tid = btf ? next->pid : BPF_CORE_READ(next, pid), zero = 0;
	struct offcpu_start *s;
	struct offcpu_key *k;
	struct offcpu_val *v;
	__u64 delta, now, rq = 0, cgroup;

	if (!tid)
		return;
	s = bpf_map_lookup_elem(&offcpu_starts, &tid);
	if (!s || !s->ts)
		return;		/* not wanted, or asleep since before ksight */
	now = bpf_ktime_get_ns();
	delta = now - s->ts;
	if ((__s64)delta < 0)
		delta = 0;
	if (offcpu_rq_split && s->wake_ts) {
		rq = now - s->wake_ts;
		if ((__s64)rq < 0)
			rq = 0;
		if (rq > delta)
			rq = delta;
	}
	k = bpf_map_lookup_elem(&offcpu_scratch, &zero);
	if (!k)
		goto out;
	if (delta < offcpu_min_ns || delta > offcpu_max_ns) {
		offcpu_stat_add(OFFCPU_ST_RANGE);
		goto out;
	}
	k->pid = btf ? next->tgid : BPF_CORE_READ(next, tgid);
	k->tid = offcpu_per_thread ? tid : 0;
	k->exec_id = s->exec_id;
	k->ustack = s->ustack;
	k->kstack = s->kstack;
	k->waker_pid = s->waker_pid;
	k->waker_tid = s->waker_tid;
	k->waker_exec_id = s->waker_exec_id;
	k->waker_ustack = s->waker_ustack;
	k->waker_kstack = s->waker_kstack;
	__builtin_memcpy(k->waker_comm, s->waker_comm, sizeof(k->waker_comm));
	bpf_probe_read_kernel(k->comm, sizeof(k->comm), &next->comm);
	/* four dependent reads: only where the key has it, else once per new row */
	cgroup = offcpu_per_cgroup ? BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id) : 0;
	k->cgroup = cgroup;
	if (!s->waker_pid && !s->waker_comm[0] && offcpu_waker)
		offcpu_stat_add(OFFCPU_ST_NOWAKER);
	v = bpf_map_lookup_elem(&offcpu_rows, k);
	if (!v) {
		struct offcpu_val nv = {};

		nv.cgroup = offcpu_per_cgroup ? cgroup : BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id);
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&offcpu_rows, k, &nv, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&offcpu_rows, k);
		if (!v) {
			ks_lost(OFFCPU_T_BLOCK);
			goto out;
		}
	}
	__sync_fetch_and_add(&v->total_ns, delta);
	__sync_fetch_and_add(&v->count, 1);
	if (rq)
		__sync_fetch_and_add(&v->rq_ns, rq);
out:
	s->ts = 0;	/* consumed: the entry waits for the thread's next block */
}

static __always_inline void offcpu_on_switch(void *ctx, bool preempt, struct task_struct *prev,
				      struct task_struct *next, bool btf)
{
	long state = btf ? ks_task_state_btf(prev) : ks_task_state(prev);

	offcpu_switch_out(ctx, prev, preempt || !state, state, btf);
	offcpu_switch_in(next, btf);
}

/* @p is being woken by the current task (or an interrupt on its CPU). */
static __always_inline void offcpu_on_waking(void *ctx, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = (void *)bpf_get_current_task();
	struct offcpu_start *s;

	if (!offcpu_waker && !offcpu_rq_split)
		return;
	s = bpf_map_lookup_elem(&offcpu_starts, &tid);
	if (!s || !*(volatile __u64 *)&s->ts)
		return;		/* not blocked since ksight, or still switching out */
	asm volatile("" ::: "memory");
	if (offcpu_rq_split && !s->wake_ts)
		s->wake_ts = bpf_ktime_get_ns();
	if (!offcpu_waker)
		return;
	s->waker_pid = pid_tgid >> 32;
	s->waker_tid = offcpu_per_thread ? (__u32)pid_tgid : 0;
	s->waker_exec_id = (__u32)BPF_CORE_READ(t, self_exec_id);
	bpf_get_current_comm(s->waker_comm, sizeof(s->waker_comm));
	if ((__u32)pid_tgid) {
		offcpu_stacks_of(ctx, t, &s->waker_ustack, &s->waker_kstack);
	} else {
		/* the idle task (an interrupt woke it): its kernel stack only */
		s->waker_ustack = OFFCPU_NO_STACK;
		s->waker_kstack = offcpu_kernel ? offcpu_stack_id(ctx, 0, OFFCPU_ST_KNONE)
						: OFFCPU_NO_STACK;
	}
	offcpu_stat_add(OFFCPU_ST_WAKES);
}

/* The programs of a module loading these hooks, named MOD__switch_btf, MOD__switch_raw,
 * MOD__waking_btf and MOD__waking_raw (its slots choose tp_btf or raw_tp). */
#define OFFCPU_SCHED_PROGS(mod)                                                          \
	SEC("tp_btf/sched_switch")                                                        \
	int BPF_PROG(mod##__switch_btf, bool preempt, struct task_struct *prev,           \
		     struct task_struct *next)                                            \
	{                                                                                 \
		offcpu_on_switch(ctx, preempt, prev, next, true);                         \
		return 0;                                                                 \
	}                                                                                 \
	SEC("raw_tp/sched_switch")                                                        \
	int BPF_PROG(mod##__switch_raw, bool preempt, struct task_struct *prev,           \
		     struct task_struct *next)                                            \
	{                                                                                 \
		offcpu_on_switch(ctx, preempt, prev, next, false);                        \
		return 0;                                                                 \
	}                                                                                 \
	SEC("tp_btf/sched_waking")                                                        \
	int BPF_PROG(mod##__waking_btf, struct task_struct *p)                            \
	{                                                                                 \
		offcpu_on_waking(ctx, p);                                                 \
		return 0;                                                                 \
	}                                                                                 \
	SEC("raw_tp/sched_waking")                                                        \
	int BPF_PROG(mod##__waking_raw, struct task_struct *p)                            \
	{                                                                                 \
		offcpu_on_waking(ctx, p);                                                 \
		return 0;                                                                 \
	}

#endif
