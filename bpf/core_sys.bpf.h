/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one syscall dispatcher, part of the core object. Attaching any syscall tracepoint
 * moves every thread of the machine onto the slow syscall path, so ksight attaches once, to
 * the raw sys_enter and sys_exit, and routes by syscall number (ks_sys_route, filled by user
 * space once the modules have loaded) to the modules' handler programs, by tail calls
 * (syscalls.bpf.h). A syscall nobody asked for costs one array read. A module that only
 * counts calls per syscall (syscount's default and -L) or sums reads and writes per fd
 * (the agent's rw) needs no handler for them: the dispatcher adds to ks_sys_counts or
 * ks_fd_io itself, which saves a tail call on every such syscall of the machine.
 *
 * At sys_exit the arguments are read back from the saved user registers (tp_btf, raw_tp),
 * so sys_enter only records anything for the syscalls whose entry time a module needs,
 * or, with classic tracepoints (which have no registers), whose arguments.
 */
#ifndef KSIGHT_CORE_SYS_BPF_H
#define KSIGHT_CORE_SYS_BPF_H

#include "syscalls.bpf.h"

/* The routing of syscall @id (< KS_SYS_MAX), or NULL. */
static __always_inline struct ks_sys_route *ks_sys_route_get(__u64 id)
{
	__u32 key = id;

	return bpf_map_lookup_elem(&ks_sys_route, &key);
}

/* Count the call in the dispatcher's own table (@how: KS_SYS_COUNT*; @enter_ts 0 when no
 * entry was recorded): no tail call for a module that only counts. Atomic adds, as in
 * syscount: a faultable tracepoint may be preempted. */
static __always_inline void ks_sys_count(__u64 id, long ret, __u32 how, __u64 enter_ts)
{
	__u32 key = id;
	struct ks_sys_count *v;
	__s64 delta = 0;

	if (how == KS_SYS_COUNT_TIMED) {
		if (!enter_ts)
			return;	/* so that the times always go with their counts */
		delta = bpf_ktime_get_ns() - enter_ts;
	}
	v = bpf_map_lookup_elem(&ks_sys_counts, &key);
	if (!v)
		return;
	__sync_fetch_and_add(&v->count, 1);
	if (ret < 0 && ret >= -KS_ERRNO_MAX)
		__sync_fetch_and_add(&v->errors, 1);
	if (delta > 0)
		__sync_fetch_and_add(&v->lat_ns, delta);
}

/* The fd a KS_SYS_IO_* route sums on, from the saved user registers. */
static __always_inline __s32 ks_io_fd(struct pt_regs *regs, __u16 io, bool btf)
{
	if (io & KS_SYS_IO_FD_ARG2)
		return btf ? regs->dx : BPF_CORE_READ(regs, dx);
	if (io & KS_SYS_IO_FD_ARG1)
		return btf ? regs->si : BPF_CORE_READ(regs, si);
	return btf ? regs->di : BPF_CORE_READ(regs, di);
}

/* Where this thread's entry lives: a per-task slot (task storage, a pointer away from the
 * task) for tp_btf where the kernel has it, else the hash by tid. */
static __always_inline struct ks_sys_enter *ks_sys_slot(__u32 tid, bool btf, bool create)
{
	if (btf && ks_cfg.sys_enter_task)
		return bpf_task_storage_get(&ks_sys_task, bpf_get_current_task_btf(), 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	return bpf_map_lookup_elem(&ks_sys_inflight, &tid);
}

/* Record the entry; @args is NULL when sys_exit can read them back itself. */
static __always_inline void ks_sys_enter(__u64 id, const unsigned long *args, bool btf)
{
	struct ks_sys_route *route;
	struct ks_sys_enter *rec;
	__u64 pid_tgid;
	__u32 tid;

	if (id >= KS_SYS_MAX)
		return;
	route = ks_sys_route_get(id);
	if (!route || !route->enter)
		return;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!ks_want(pid_tgid))
		return;
	tid = (__u32)pid_tgid;
	rec = ks_sys_slot(tid, btf, true);
	if (!rec && !(btf && ks_cfg.sys_enter_task)) {
		struct ks_sys_enter zero = {};

		/* first syscall of this thread: the entry lives until the thread exits */
		if (bpf_map_update_elem(&ks_sys_inflight, &tid, &zero, BPF_NOEXIST)) {
			ks_lost(KS_EV_SYS_INFLIGHT);
			return;
		}
		rec = bpf_map_lookup_elem(&ks_sys_inflight, &tid);
	}
	if (!rec)
		return;
	rec->id = id + 1;
	rec->ts = bpf_ktime_get_ns();
	/* a copy, not loads: the verifier refuses loads through a moved ctx pointer */
	if (args)
		bpf_probe_read_kernel(rec->args, sizeof(rec->args), args);
}

/* Match the entry recorded for this thread, if any. Returns it (consumed) or NULL. */
static __always_inline struct ks_sys_enter *ks_sys_entry(__u64 id, __u64 pid_tgid, bool btf)
{
	__u32 tid = (__u32)pid_tgid;
	struct ks_sys_enter *rec;

	rec = ks_sys_slot(tid, btf, false);
	if (!rec || rec->id != id + 1)
		return NULL;
	rec->id = 0;
	return rec;
}

/* sys_exit for the families that have the registers (tp_btf, raw_tp). */
static __always_inline int ks_sys_exit_regs(void *ctx, __u64 id, const struct pt_regs *regs,
					    long ret, bool btf)
{
	struct ks_sys_route *route;
	struct ks_sys_call *c;
	__u64 pid_tgid, enter_ts = 0;

	if (id >= KS_SYS_MAX)
		return 0;
	route = ks_sys_route_get(id);
	if (!route || !(route->exit_mask | route->count | route->io))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!ks_want(pid_tgid))
		return 0;
	if (ks_cfg.sys_track_enter && route->enter) {
		struct ks_sys_enter *rec = ks_sys_entry(id, pid_tgid, btf);

		if (rec)
			enter_ts = rec->ts;
	}
	if (route->count)
		ks_sys_count(id, ret, route->count, enter_ts);
	if (route->io)
		ks_fd_io_add(pid_tgid, ks_io_fd(regs, route->io, btf), ret, route->io);
	if (!route->exit_mask)
		return 0;
	c = ks_sys_cur_get();
	if (!c)
		return 0;
	if (btf) {
		ks_regs_to_args(c, regs);
	} else {
		struct pt_regs r;

		if (bpf_probe_read_kernel(&r, sizeof(r), regs))
			return 0;
		ks_regs_to_args(c, &r);
	}
	c->id = id;
	c->ret = ret;
	c->pid_tgid = pid_tgid;
	c->mask = route->exit_mask;
	c->enter_ts = enter_ts;
	ks_sys_next(ctx, c->mask);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(core__sys_enter_btf, struct pt_regs *regs, long id)
{
	ks_sys_enter(id, NULL, true);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(core__sys_exit_btf, struct pt_regs *regs, long ret)
{
	return ks_sys_exit_regs(ctx, regs->orig_ax, regs, ret, true);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(core__sys_enter_raw, struct pt_regs *regs, long id)
{
	ks_sys_enter(id, NULL, false);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(core__sys_exit_raw, struct pt_regs *regs, long ret)
{
	return ks_sys_exit_regs(ctx, BPF_CORE_READ(regs, orig_ax), regs, ret, false);
}

/* Classic tracepoints carry no registers: the arguments come from the recorded entry. */
SEC("tp/raw_syscalls/sys_enter")
int core__sys_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	ks_sys_enter(ctx->id, ctx->args, false);
	return 0;
}

SEC("tp/raw_syscalls/sys_exit")
int core__sys_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = ctx->id, pid_tgid;
	struct ks_sys_route *route;
	struct ks_sys_enter *rec;
	struct ks_sys_call *c;

	if (id >= KS_SYS_MAX)
		return 0;
	route = ks_sys_route_get(id);
	if (!route || !(route->exit_mask | route->count | route->io))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	rec = route->enter ? ks_sys_entry(id, pid_tgid, false) : NULL;
	/* plain counting needs no entry: it filters here, not at sys_enter */
	if (route->count && (rec || ks_want(pid_tgid)))
		ks_sys_count(id, ctx->ret, route->count, rec ? rec->ts : 0);
	/* the fd comes from the entry, as for the handlers */
	if (route->io && rec)
		ks_fd_io_add(pid_tgid, route->io & KS_SYS_IO_FD_ARG2 ? rec->args[2] :
				       route->io & KS_SYS_IO_FD_ARG1 ? rec->args[1] : rec->args[0],
			     ctx->ret, route->io);
	if (!route->exit_mask)
		return 0;
	if (!rec)
		return 0;	/* entered before ksight attached, or filtered out at entry */
	c = ks_sys_cur_get();
	if (!c)
		return 0;
	__builtin_memcpy(c->args, rec->args, sizeof(c->args));
	c->enter_ts = rec->ts;
	c->id = id;
	c->ret = ctx->ret;
	c->pid_tgid = pid_tgid;
	c->mask = route->exit_mask;
	ks_sys_next(ctx, c->mask);
	return 0;
}

#endif
