/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared syscall dispatcher, as modules see it. The core object (core_sys.bpf.h) is
 * attached once to sys_exit (and sys_enter when entry times are needed) for every module:
 * for a syscall some module wants, it writes the call into this CPU's ks_sys_cur and tail
 * calls the first module's handler program through ks_sys_progs (indexed by module id);
 * each handler then tail calls the next module the call is routed to. So every module's
 * handler is verified in its own object, and a syscall nobody wants costs one array read.
 *
 * A module declares its handler as
 *   static __always_inline void <mod>_sys_exit(void *ctx, const struct ks_sys_call *c,
 *                                              long ret, __u64 pid_tgid)
 * and KS_SYS_MODULE(<mod>) turns it into the chain's programs, one per dispatcher family
 * (the loader loads the one the dispatcher uses: a program array only takes programs of
 * the type of its first). KS_SYS_FEXIT() turns the same handler into an fexit program on a
 * syscall function, where BPF trampolines work: no syscall tracepoint at all.
 */
#ifndef KSIGHT_SYSCALLS_BPF_H
#define KSIGHT_SYSCALLS_BPF_H

#include "common.bpf.h"
#include "sysnr.h"
#include "task_fd.bpf.h"

/* Per thread, between sys_enter and sys_exit (core only; shared so every object agrees). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tid */
	__type(value, struct ks_sys_enter);
} ks_sys_inflight SEC(".maps");

/* The same, per task, for tp_btf programs on kernels with task storage for tracing (5.11+) */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ks_sys_enter);
} ks_sys_task SEC(".maps");

/* Which modules want each syscall; written by user space once every module has loaded. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KS_SYS_MAX);
	__type(key, __u32);
	__type(value, struct ks_sys_route);
} ks_sys_route SEC(".maps");

/* Counted in the dispatcher, by syscall number (routes with .count); sized to 1 when no
 * module counts this way. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_SYS_MAX);
	__type(key, __u32);
	__type(value, struct ks_sys_count);
} ks_sys_counts SEC(".maps");

/* Summed in the dispatcher, by (pid, fd) (routes with .io); sized to 1 when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KS_FD_IO_ENTRIES);
	__type(key, struct ks_fd_key);
	__type(value, struct ks_fd_io);
} ks_fd_io SEC(".maps");

#define KS_S_IFMT 0170000
#define KS_S_IFSOCK 0140000
#define KS_S_IFIFO 0010000
#define KS_ANON_INODE_FS_MAGIC 0x09041934

/* What @fd of the current task is at the call's return (KS_FD_K_*): the same reading as rw's
 * fd records (rw_fd.bpf.h), about nine dependent loads; only for KS_SYS_IO_KINDS calls whose
 * kind the syscall does not tell (read, write, readv, writev, sendfile, splice,
 * tee). */
static __always_inline __u32 ks_fd_kind(__s32 fd)
{
	struct file *f = ks_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	struct inode *inode;
	__u32 mode;

	if (!f)
		return KS_FD_K_NONE;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & KS_S_IFMT;
	if (mode == KS_S_IFSOCK)
		return KS_FD_K_SOCKET;
	if (mode == KS_S_IFIFO)
		return KS_FD_K_PIPE;
	if (BPF_CORE_READ(inode, i_sb, s_magic) == KS_ANON_INODE_FS_MAGIC)
		return KS_FD_K_ANON;
	return KS_FD_K_FILE;
}

/* Add a read or write (@io: KS_SYS_IO_*) to its (process, fd) row of ks_fd_io. Atomic
 * adds on this CPU's copy (a faultable tracepoint may be preempted). The dispatcher's,
 * and rw's handler's for the calls the dispatcher cannot sum (splice, sendmmsg, ...).
 * With KS_SYS_IO_KINDS the row is the (process, fd, kind) one. */
static __always_inline void ks_fd_io_add(__u64 pid_tgid, __s32 fd, long ret, __u16 io)
{
	struct ks_fd_key k = { .pid = pid_tgid >> 32, .fd = fd };
	struct ks_fd_io *v;
	__u32 kind = KS_FD_K_NONE;

	if (io & KS_SYS_IO_ON_SOCK)
		kind = KS_FD_K_SOCKET;
	else if (io & KS_SYS_IO_ON_FILE)
		kind = KS_FD_K_FILE;
	else if (io & KS_SYS_IO_KINDS)
		kind = ks_fd_kind(fd);
	k.pid |= kind << KS_FD_KEY_KIND_SHIFT;
	v = bpf_map_lookup_elem(&ks_fd_io, &k);

	if (!v) {
		struct ks_fd_io zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		zero.cgroup = bpf_get_current_cgroup_id();
		/* another CPU may have made the row meanwhile: EEXIST is fine */
		bpf_map_update_elem(&ks_fd_io, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ks_fd_io, &k);
		if (!v) {
			ks_lost(KS_EV_FD_IO);
			return;
		}
	}
	io &= KS_SYS_IO_KIND;
	if (io == KS_SYS_IO_WRITE)
		__sync_fetch_and_add(&v->writes, 1);
	else
		__sync_fetch_and_add(&v->reads, 1);
	if (ret < 0)
		__sync_fetch_and_add(&v->errors, 1);
	else if (io == KS_SYS_IO_WRITE)
		__sync_fetch_and_add(&v->wbytes, ret);
	else
		__sync_fetch_and_add(&v->rbytes, ret);
}

/* The call being dispatched on this CPU. sys_exit programs never nest on a CPU (syscalls
 * are not made from interrupts, and these programs run with preemption off). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_sys_call);
} ks_sys_cur SEC(".maps");

/* Each module's handler program, at its module id. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, KS_MOD_MAX);
	__type(key, __u32);
	__type(value, __u32);
} ks_sys_progs SEC(".maps");

static __always_inline struct ks_sys_call *ks_sys_cur_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ks_sys_cur, &zero);
}

/*
 * Run the handler of the lowest module id in @rest, which goes on down the chain. Returns
 * only when no tail call happened: nothing left, or (never in practice: user space routes
 * only to modules that loaded) an empty slot, past which the next ones are tried.
 */
static __always_inline void ks_sys_next(void *ctx, __u64 rest)
{
	for (int i = 0; i < 3 && rest; i++) {
		__u64 low = rest & -rest;

		bpf_tail_call(ctx, &ks_sys_progs, ks_log2(low));
		rest &= ~low;
	}
}

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
 * The chain's programs for module @mod: one per dispatcher family, each running
 * @mod_sys_exit() on this CPU's call and then the next module's handler.
 */
#define KS_SYS_MODULE(mod)                                                       \
	static __always_inline int mod##__sys_run(void *ctx)                     \
	{                                                                        \
		struct ks_sys_call *c = ks_sys_cur_get();                        \
                                                                                 \
		if (!c)                                                          \
			return 0;                                                \
		mod##_sys_exit(ctx, c, c->ret, c->pid_tgid);                     \
		ks_sys_next(ctx, c->mask & ~((2ULL << KS_MOD_##mod) - 1));       \
		return 0;                                                        \
	}                                                                        \
	SEC("tp_btf/sys_exit")                                                   \
	int mod##__sys_btf(void *ctx)                                            \
	{                                                                        \
		return mod##__sys_run(ctx);                                      \
	}                                                                        \
	SEC("raw_tp/sys_exit")                                                   \
	int mod##__sys_raw(void *ctx)                                            \
	{                                                                        \
		return mod##__sys_run(ctx);                                      \
	}                                                                        \
	SEC("tp/raw_syscalls/sys_exit")                                          \
	int mod##__sys_tp(void *ctx)                                             \
	{                                                                        \
		return mod##__sys_run(ctx);                                      \
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
