// SPDX-License-Identifier: GPL-2.0
/*
 * The core object: it creates the maps every object shares (common.bpf.h, syscalls.bpf.h),
 * holds the syscall dispatcher (core_sys.bpf.h), and the process lifecycle (exec, exit)
 * that keeps user space's identity cache fresh and that the exec module prints.
 * Each hook comes in three families; user space loads the cheapest the kernel allows.
 */
#include "common.bpf.h"
#include "core.h"
#include "core_sys.bpf.h"

/* sched_process_exit gained a group_dead argument (and field) in 6.16; older kernels lack it */
struct trace_event_raw_sched_process_exit___gd {
	bool group_dead;
} __attribute__((preserve_access_index));

static __always_inline __u32 clamp_len(long n, __u32 max)
{
	if (n < 0)
		return 0;
	if (n > max)
		return max;
	return n;
}

static __always_inline int core_exec(const char *kfilename, __u32 old_tid)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct ks_proc_exec *e;
	__u64 arg_start, arg_end;
	struct ks_level lv;
	__u32 flen, alen;

	if (!ks_cfg.emit_proc || !ks_want(pid_tgid))
		return 0;
	e = ks_scratch_begin(&lv, KS_EV_PROC_EXEC);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->hdr.type = KS_EV_PROC_EXEC;
	e->start_ns = BPF_CORE_READ(task, start_time);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	/* where the parent is now (it may have moved since ksight last saw it): the service a
	 * fork's child came from (spawn edges, docs/map.md) */
	e->parent_cgroup = BPF_CORE_READ(task, real_parent, cgroups, dfl_cgrp, kn, id);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->old_tid = old_tid;

	flen = clamp_len(bpf_probe_read_kernel_str(e->data, KS_FILENAME_MAX, kfilename),
			 KS_FILENAME_MAX);
	if (!flen) {
		e->data[0] = 0;
		flen = 1;
	}
	e->filename_len = flen;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	e->args_total = arg_end > arg_start ? arg_end - arg_start : 0;
	alen = clamp_len(e->args_total, KS_ARGS_MAX);
	if (bpf_probe_read_user(e->data + ks_mask(flen, KS_FILENAME_MASK),
				ks_mask(alen, KS_ARGS_MASK), (void *)arg_start))
		alen = 0;
	e->args_len = alen;
	ks_output(&lv, &e->hdr, sizeof(*e) + flen + alen, pid_tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(core__exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return core_exec(BPF_CORE_READ(bprm, filename), old_pid);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(core__exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return core_exec(BPF_CORE_READ(bprm, filename), old_pid);
}

SEC("tp/sched/sched_process_exec")
int core__exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 off = ctx->__data_loc_filename & 0xFFFF;

	return core_exec((const char *)ctx + off, ctx->old_pid);
}

/*
 * @group_dead: 1 or 0 when the tracepoint says whether this is the last thread, -1 when the
 * kernel is too old to say. Then signal->live is read instead, which reaches 0 when the last
 * thread is exiting; but two threads exiting at once can both read 0 (two process exits,
 * no thread exit), which the tracepoint's own answer cannot.
 */
static __always_inline int core_exit(int group_dead)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, type = KS_EV_PROC_EXIT;
	struct task_struct *task;
	struct ks_proc_exit *e;

	if (ks_cfg.sys_track_enter && !ks_cfg.sys_enter_task)	/* task storage goes with it */
		bpf_map_delete_elem(&ks_sys_inflight, &tid);
	if (!ks_cfg.emit_proc || !ks_want(pid_tgid))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (group_dead < 0)
		group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	if (!group_dead) {
		if (!ks_cfg.emit_thread_exit)
			return 0;
		type = KS_EV_PROC_TEXIT;
	}
	e = ks_reserve(type, sizeof(*e), pid_tgid);
	if (!e)
		return 0;
	if (group_dead) {
		e->start_ns = BPF_CORE_READ(task, group_leader, start_time);
		e->cpu_ns = BPF_CORE_READ(task, signal, sum_sched_runtime) +
			    BPF_CORE_READ(task, se.sum_exec_runtime);
	} else {
		e->start_ns = BPF_CORE_READ(task, start_time);
		e->cpu_ns = BPF_CORE_READ(task, se.sum_exec_runtime);
	}
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->__pad = 0;
	ks_submit(e);
	return 0;
}

/* Whether the tracepoint passes group_dead: CO-RE answers, so the older path is dead code
 * the verifier never sees (and the ctx[1] read beyond the old argument list with it). */
static __always_inline bool core_exit_has_group_dead(void)
{
	return bpf_core_field_exists(struct trace_event_raw_sched_process_exit___gd, group_dead);
}

SEC("tp_btf/sched_process_exit")
int core__exit_btf(__u64 *ctx)
{
	if (core_exit_has_group_dead())
		return core_exit(ctx[1] & 1);
	return core_exit(-1);
}

SEC("raw_tp/sched_process_exit")
int core__exit_raw(__u64 *ctx)
{
	if (core_exit_has_group_dead())
		return core_exit(ctx[1] & 1);
	return core_exit(-1);
}

SEC("tp/sched/sched_process_exit")
int core__exit_tp(struct trace_event_raw_sched_process_exit___gd *ctx)
{
	if (core_exit_has_group_dead())
		return core_exit(ctx->group_dead);
	return core_exit(-1);
}

char LICENSE[] SEC("license") = "GPL";
