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
