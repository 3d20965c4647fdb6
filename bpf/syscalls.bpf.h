/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared syscall dispatcher's per-thread state (sys_enter -> sys_exit), and the helpers
 * modules use to build a struct ks_sys_call from saved user registers (the dispatcher at
 * sys_exit, and fexit programs on the syscall functions).
 * The entry is kept only for the syscalls some module needs the entry time of (or, with
 * classic tracepoints, the arguments of); the core's exit program drops a finished
 * thread's entry.
 */
#ifndef KSIGHT_SYSCALLS_BPF_H
#define KSIGHT_SYSCALLS_BPF_H

#include "common.bpf.h"
#include "sysnr.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tid */
	__type(value, struct ks_sys_enter);
} ks_sys_inflight SEC(".maps") __weak;

/* The same, per task, for tp_btf programs on kernels with task storage for tracing (5.11+) */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ks_sys_enter);
} ks_sys_task SEC(".maps") __weak;

extern const volatile bool ks_sys_track_enter __weak;	/* any syscall records its entry */
extern const volatile bool ks_sys_enter_task __weak;	/* tp_btf keeps entries in ks_sys_task */

static __always_inline void ks_regs_to_args(struct ks_sys_call *c, const struct pt_regs *r)
{
	/* x86_64 syscall convention: di, si, dx, r10, r8, r9 */
	c->args[0] = r->di;
	c->args[1] = r->si;
	c->args[2] = r->dx;
	c->args[3] = r->r10;
	c->args[4] = r->r8;
	c->args[5] = r->r9;
}

/*
 * The syscall's saved user registers in an fexit program on __x64_sys_<sys>, whatever the
 * kernel's BTF says of its argument: 5.10's BTF types it, for about half of the syscalls
 * (execveat among them), as a pointer to a forward declaration of struct pt_regs, and the
 * verifier then refuses any load of the argument ("arg0 type FWD is not a struct"). So the
 * pointer is copied out of the trampoline's argument array and the registers are copied
 * with one probe read. Returns 0, or -1 when a read failed.
 */
static __always_inline int ks_fexit_sys_args(struct ks_sys_call *c, void *ctx)
{
	const struct pt_regs *regs;
	struct pt_regs r;

	if (bpf_probe_read_kernel(&regs, sizeof(regs), ctx) ||
	    bpf_probe_read_kernel(&r, sizeof(r), regs))
		return -1;
	ks_regs_to_args(c, &r);
	return 0;
}

/*
 * Define an fexit program on the syscall function __x64_sys_<sys> that hands the call to
 * <mod>_sys_exit() exactly as the dispatcher would: the fentry-family alternative of a
 * module that otherwise uses the dispatcher. No syscall tracepoint, no slow path.
 * ctx[0] is the pt_regs pointer (read by ks_fexit_sys_args), ctx[1] the return value.
 */
#define KS_SYS_FEXIT(mod, sys)                                                   \
	SEC("fexit/__x64_sys_" #sys)                                             \
	int mod##__##sys##_fexit(unsigned long long *ctx)                        \
	{                                                                        \
		__u64 pid_tgid = bpf_get_current_pid_tgid();                     \
		struct ks_sys_call c = { .id = __NR_##sys };                     \
                                                                                 \
		if (ks_want(pid_tgid) && !ks_fexit_sys_args(&c, ctx))            \
			mod##_sys_exit(ctx, &c, (long)ctx[1], pid_tgid);         \
		return 0;                                                        \
	}

#endif
