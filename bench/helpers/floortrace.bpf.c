// SPDX-License-Identifier: GPL-2.0
/*
 * floortrace: the least a tracer on the syscall, scheduler or socket-state hooks can do on
 * this kernel, to measure ksight against in the same run (bench/helpers/floortrace.c).
 * Not part of ksight.
 *   attach:  an empty program on sys_exit: what attaching any syscall tracepoint costs
 *   stream:  sys_exit, task filter, a 48-byte record per read/write-family call, no wakeups
 *   latency: stream, plus sys_enter keeping the entry time in task storage
 *   sums:    the agent's syscall job at its least, system-wide: every syscall counted by
 *            number in a per-CPU array, each read/write-family call's bytes added to its
 *            (process, fd) row of a per-CPU hash; plain adds, no filter, nothing streamed
 *   switch, sched, sockstate: empty programs on the hooks a scheduler or connection tool
 *            cannot do without (cpudist: sched_switch; runqlat: sched_switch and both
 *            wakeups; tcplife: sock:inet_sock_set_state), machine-wide
 *   runqmin: the least a runqlat can measure with on those hooks: the wakeup stamps the
 *            woken task (task storage), the switch stamps a preempted task and, for the
 *            task switched in, adds its wait to a per-CPU log2 histogram (microseconds);
 *            tp_btf only
 * Programs are picked by the loader; the one tp_btf flavour (the cheapest family here),
 * but the empty ones have raw_tp twins for a kernel that refuses tp_btf on those hooks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 targ_tgid = 0;	/* 0: filter on the cgroup instead */
const volatile __u64 targ_cgroup = 0;
const volatile __u8 calls[512] = {};	/* syscall numbers streamed */
const volatile bool timed = false;	/* latency mode: sys_enter keeps the entry time */

struct floor_rec {
	__u64 ts;
	__u64 pid_tgid;
	__u64 lat_ns;
	__s64 ret;
	__u64 fd;
	__u64 req;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} entry SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct fd_key {
	__u32 tgid;
	__s32 fd;
};

struct fd_sum {
	__u64 calls;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} sys_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fd_key);
	__type(value, struct fd_sum);
} fd_sums SEC(".maps");

static __always_inline bool wanted(__u64 id, __u64 *pid_tgid)
{
	if (id >= 512 || !calls[id & 511])
		return false;
	*pid_tgid = bpf_get_current_pid_tgid();
	if (targ_tgid)
		return *pid_tgid >> 32 == targ_tgid;
	return bpf_get_current_cgroup_id() == targ_cgroup;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_attach, struct pt_regs *regs, long ret)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid, *slot;

	if (!wanted(id, &pid_tgid))
		return 0;
	slot = bpf_task_storage_get(&entry, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid, *slot;
	struct floor_rec *r;
	__u32 zero = 0;

	if (!wanted(regs->orig_ax, &pid_tgid))
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);

		if (n)
			(*n)++;
		return 0;
	}
	r->ts = bpf_ktime_get_ns();
	r->pid_tgid = pid_tgid;
	r->lat_ns = 0;
	if (timed) {
		slot = bpf_task_storage_get(&entry, bpf_get_current_task_btf(), 0, 0);
		if (slot && *slot)
			r->lat_ns = r->ts - *slot;
	}
	r->ret = ret;
	r->fd = regs->di;
	r->req = regs->dx;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sums, struct pt_regs *regs, long ret)
{
	__u64 id = regs->orig_ax, *n;
	struct fd_key k;
	struct fd_sum *v;
	__u32 key = id;

	if (id >= 512)
		return 0;
	n = bpf_map_lookup_elem(&sys_counts, &key);
	if (n)
		*n += 1;
	if (!calls[id & 511])
		return 0;
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.fd = regs->di;
	v = bpf_map_lookup_elem(&fd_sums, &k);
	if (!v) {
		struct fd_sum zero = {};

		bpf_map_update_elem(&fd_sums, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&fd_sums, &k);
		if (!v)
			return 0;
	}
	v->calls++;
	if (ret > 0)
		v->bytes += ret;
	return 0;
}

SEC("tp_btf/sched_switch")
int floor_switch(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_wakeup")
int floor_wakeup(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int floor_wakeup_n(void *ctx)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int floor_sockstate(void *ctx)
{
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);	/* ns when the task became runnable; 0: not waiting */
} rq_stamp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);	/* waits by log2 of their microseconds */
} rq_hist SEC(".maps");

static __always_inline void rq_stamp_task(struct task_struct *p)
{
	__u64 *ts = bpf_task_storage_get(&rq_stamp, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	return r + (v >> 1);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(floor_rq_wakeup, struct task_struct *p)
{
	rq_stamp_task(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(floor_rq_wakeup_n, struct task_struct *p)
{
	rq_stamp_task(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_rq_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 *ts, *c;
	__u32 slot;

	if (prev->__state == 0)	/* TASK_RUNNING: preempted, waits from now */
		rq_stamp_task(prev);
	ts = bpf_task_storage_get(&rq_stamp, next, 0, 0);
	if (!ts || !*ts)
		return 0;
	slot = log2_u64((bpf_ktime_get_ns() - *ts) / 1000) & 63;
	*ts = 0;
	c = bpf_map_lookup_elem(&rq_hist, &slot);
	if (c)
		(*c)++;
	return 0;
}

SEC("raw_tp/sched_switch")
int floor_switch_r(void *ctx)
{
	return 0;
}

SEC("raw_tp/sched_wakeup")
int floor_wakeup_r(void *ctx)
{
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int floor_wakeupn_r(void *ctx)
{
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int floor_sockst_r(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
