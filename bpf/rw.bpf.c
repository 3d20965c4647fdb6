// SPDX-License-Identifier: GPL-2.0
/*
 * rw module. Its handler (rw.sys.bpf.h) runs from the shared syscall dispatcher, or, where
 * BPF trampolines work, from the fentry/fexit programs below on the syscall functions,
 * which leave the syscall tracepoints (and every other thread's fast path) alone.
 *
 * Latency needs the entry time. The dispatcher keeps it per thread; here a fentry program
 * keeps it in a per-task slot (task storage, 5.11+: a pointer away from the task), or, on
 * kernels with trampolines but no task storage for tracing (5.5 - 5.10), in a hash by tid.
 */
#include "rw.sys.bpf.h"
#include "rw_uring.bpf.h"

KS_SYS_MODULE(rw)

const volatile bool rw_entry_task = true;	/* set from a probe before load */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} rw_task_entry SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} rw_tid_entry SEC(".maps");

static __always_inline void rw_enter(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ts;
	__u32 tid = pid_tgid;

	if (!ks_want(pid_tgid))
		return;
	ts = bpf_ktime_get_ns();
	if (rw_entry_task) {
		__u64 *slot = bpf_task_storage_get(&rw_task_entry, bpf_get_current_task_btf(), 0,
						   BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (slot)
			*slot = ts;
		return;
	}
	bpf_map_update_elem(&rw_tid_entry, &tid, &ts, BPF_ANY);
}

/* The entry time rw_enter() kept for this task, consumed; 0 if none. */
static __always_inline __u64 rw_entry_take(__u64 pid_tgid)
{
	__u32 tid = pid_tgid;
	__u64 *slot, ts;

	if (rw_entry_task)
		slot = bpf_task_storage_get(&rw_task_entry, bpf_get_current_task_btf(), 0, 0);
	else
		slot = bpf_map_lookup_elem(&rw_tid_entry, &tid);
	if (!slot)
		return 0;
	ts = *slot;
	*slot = 0;
	if (!rw_entry_task)
		bpf_map_delete_elem(&rw_tid_entry, &tid);
	return ts;
}

/*
 * A timed call: fentry keeps the entry time, fexit hands the call to rw_sys_exit(). The
 * registers are read as KS_SYS_FEXIT does (ks_fexit_sys_args), never through the
 * argument's BTF type, which 5.10 leaves a forward declaration for many of these.
 */
#define RW_TIMED(name, nr, fn)                                                    \
	SEC("fentry/" #fn)                                                        \
	int rw__##name##_fentry(void *ctx)                                        \
	{                                                                         \
		rw_enter();                                                       \
		return 0;                                                         \
	}                                                                         \
	SEC("fexit/" #fn)                                                         \
	int rw__##name##_fexit(unsigned long long *ctx)                           \
	{                                                                         \
		__u64 pid_tgid = bpf_get_current_pid_tgid();                      \
		struct ks_sys_call c = { .id = nr };                              \
                                                                                  \
		if (ks_want(pid_tgid) && !ks_fexit_sys_args(&c, ctx)) {           \
			c.enter_ts = rw_timed ? rw_entry_take(pid_tgid) : 0;      \
			rw_sys_exit(ctx, &c, (long)ctx[1], pid_tgid);             \
		}                                                                 \
		return 0;                                                         \
	}

RW_TIMED(read, __NR_read, __x64_sys_read)
RW_TIMED(write, __NR_write, __x64_sys_write)
RW_TIMED(pread64, __NR_pread64, __x64_sys_pread64)
RW_TIMED(pwrite64, __NR_pwrite64, __x64_sys_pwrite64)
RW_TIMED(readv, __NR_readv, __x64_sys_readv)
RW_TIMED(writev, __NR_writev, __x64_sys_writev)
RW_TIMED(preadv, __NR_preadv, __x64_sys_preadv)
RW_TIMED(pwritev, __NR_pwritev, __x64_sys_pwritev)
RW_TIMED(preadv2, __NR_preadv2, __x64_sys_preadv2)
RW_TIMED(pwritev2, __NR_pwritev2, __x64_sys_pwritev2)
RW_TIMED(sendfile, __NR_sendfile, __x64_sys_sendfile64)
RW_TIMED(recvfrom, __NR_recvfrom, __x64_sys_recvfrom)
RW_TIMED(sendto, __NR_sendto, __x64_sys_sendto)
RW_TIMED(recvmsg, __NR_recvmsg, __x64_sys_recvmsg)
RW_TIMED(sendmsg, __NR_sendmsg, __x64_sys_sendmsg)
RW_TIMED(splice, __NR_splice, __x64_sys_splice)
RW_TIMED(tee, __NR_tee, __x64_sys_tee)
RW_TIMED(copy_file_range, __NR_copy_file_range, __x64_sys_copy_file_range)
RW_TIMED(sendmmsg, __NR_sendmmsg, __x64_sys_sendmmsg)
RW_TIMED(recvmmsg, __NR_recvmmsg, __x64_sys_recvmmsg)

/* fd changes need no entry time: a close that races a reopen is flagged instead. */
KS_SYS_FEXIT(rw, open)
KS_SYS_FEXIT(rw, openat)
KS_SYS_FEXIT(rw, openat2)
KS_SYS_FEXIT(rw, creat)
KS_SYS_FEXIT(rw, socket)
KS_SYS_FEXIT(rw, socketpair)
KS_SYS_FEXIT(rw, accept)
KS_SYS_FEXIT(rw, accept4)
KS_SYS_FEXIT(rw, connect)
KS_SYS_FEXIT(rw, bind)
KS_SYS_FEXIT(rw, close)
KS_SYS_FEXIT(rw, dup)
KS_SYS_FEXIT(rw, dup2)
KS_SYS_FEXIT(rw, dup3)
KS_SYS_FEXIT(rw, fcntl)
KS_SYS_FEXIT(rw, pipe2)
KS_SYS_FEXIT(rw, pipe)
KS_SYS_FEXIT(rw, close_range)
KS_SYS_FEXIT(rw, eventfd)
KS_SYS_FEXIT(rw, eventfd2)
KS_SYS_FEXIT(rw, epoll_create)
KS_SYS_FEXIT(rw, epoll_create1)
KS_SYS_FEXIT(rw, timerfd_create)
KS_SYS_FEXIT(rw, signalfd)
KS_SYS_FEXIT(rw, signalfd4)
KS_SYS_FEXIT(rw, memfd_create)
KS_SYS_FEXIT(rw, inotify_init)
KS_SYS_FEXIT(rw, inotify_init1)
KS_SYS_FEXIT(rw, pidfd_open)
KS_SYS_FEXIT(rw, chdir)
KS_SYS_FEXIT(rw, fchdir)

char LICENSE[] SEC("license") = "GPL";
