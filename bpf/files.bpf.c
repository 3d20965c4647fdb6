// SPDX-License-Identifier: GPL-2.0
/*
 * files module. Its syscall handler (files.sys.bpf.h) runs from the shared dispatcher or,
 * where BPF trampolines work, from fexit programs on the syscall functions: no syscall
 * tracepoint and no slow path for every other thread. The process exec and exit hooks
 * close the write counts of fds closed implicitly (close-on-exec, exit).
 */
#include "files.sys.bpf.h"

KS_SYS_MODULE(files)

/* names and removals */
KS_SYS_FEXIT(files, creat)
KS_SYS_FEXIT(files, open)
KS_SYS_FEXIT(files, openat)
KS_SYS_FEXIT(files, openat2)
KS_SYS_FEXIT(files, mknod)
KS_SYS_FEXIT(files, mknodat)
KS_SYS_FEXIT(files, unlink)
KS_SYS_FEXIT(files, unlinkat)
KS_SYS_FEXIT(files, rmdir)
KS_SYS_FEXIT(files, mkdir)
KS_SYS_FEXIT(files, mkdirat)
KS_SYS_FEXIT(files, rename)
KS_SYS_FEXIT(files, renameat)
KS_SYS_FEXIT(files, renameat2)
KS_SYS_FEXIT(files, link)
KS_SYS_FEXIT(files, linkat)
KS_SYS_FEXIT(files, symlink)
KS_SYS_FEXIT(files, symlinkat)
/* attributes */
KS_SYS_FEXIT(files, chmod)
KS_SYS_FEXIT(files, fchmod)
KS_SYS_FEXIT(files, fchmodat)
KS_SYS_FEXIT(files, fchmodat2)
KS_SYS_FEXIT(files, chown)
KS_SYS_FEXIT(files, fchown)
KS_SYS_FEXIT(files, lchown)
KS_SYS_FEXIT(files, fchownat)
KS_SYS_FEXIT(files, truncate)
KS_SYS_FEXIT(files, ftruncate)
/* content */
KS_SYS_FEXIT(files, write)
KS_SYS_FEXIT(files, pwrite64)
KS_SYS_FEXIT(files, writev)
KS_SYS_FEXIT(files, pwritev)
KS_SYS_FEXIT(files, pwritev2)
KS_SYS_FEXIT(files, close)
KS_SYS_FEXIT(files, close_range)
KS_SYS_FEXIT(files, dup2)
KS_SYS_FEXIT(files, dup3)
/* --summary reads */
KS_SYS_FEXIT(files, read)
KS_SYS_FEXIT(files, pread64)
KS_SYS_FEXIT(files, readv)
KS_SYS_FEXIT(files, preadv)
KS_SYS_FEXIT(files, preadv2)

#define FILES_SWEEP_FDS 65536	/* fds looked at by a sweep */

struct files_sweep {
	__u64 pid_tgid;
	__u32 tgid;
	__u32 why;
	__u32 top;		/* highest fd to look at */
	__u32 check;		/* only the fds that no longer hold their file */
	__u32 ranged, range_lo, range_hi;	/* the process's last close_range() */
};

static long files_sweep_fd(__u64 i, struct files_sweep *s)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_wr_key k = { .tgid = s->tgid, .fd = i };
	struct files_wr_val *v;
	__u32 why = s->why;

	if (i > s->top)
		return 1;
	v = bpf_map_lookup_elem(&files_wr, &k);
	if (!v)
		return 0;
	if (s->check && (__u64)ks_fd_file(task, i) == v->file)
		return 0;
	if (s->ranged && i >= s->range_lo && i <= s->range_hi)
		why = FILES_CLOSED_RANGE;
	files_untrack(&k, v, why, s->pid_tgid);
	return 0;
}

/*
 * Close the counts of the current process: all of them, or with @check only those whose
 * fd no longer holds the file. Looks up each fd up to the highest one the process wrote
 * through: a few lookups for most processes, nothing for those that wrote to no file.
 * bpf_loop() (5.17) keeps the verifier's work independent of the number of fds.
 */
static __always_inline void files_sweep(__u32 why, bool check)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct files_sweep s = { .pid_tgid = pid_tgid, .tgid = pid_tgid >> 32, .why = why,
				 .check = check };
	struct files_proc *p = bpf_map_lookup_elem(&files_procs, &s.tgid);

	if (!p || p->n <= 0)
		return;
	s.top = p->maxfd < FILES_SWEEP_FDS ? p->maxfd : FILES_SWEEP_FDS - 1;
	s.ranged = p->ranged;
	s.range_lo = p->range_lo;
	s.range_hi = p->range_hi;
	bpf_loop(s.top + 1, files_sweep_fd, &s, 0);
	p->ranged = 0;
}

/* After exec: the close-on-exec fds are closed (begin_new_exec ran before the hook). */
static __always_inline int files_exec(void)
{
	files_sweep(FILES_CLOSED_EXEC, true);
	return 0;
}

/* The last thread of a process exits: whatever it still had open is closed. The hook runs
 * before exit_files(), but nothing is checked: every count left is reported. */
static __always_inline int files_exit(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!bpf_map_lookup_elem(&files_procs, &tgid) ||
	    BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	files_sweep(FILES_CLOSED_EXIT, false);
	bpf_map_delete_elem(&files_procs, &tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(files__exec_btf)
{
	return files_exec();
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(files__exec_raw)
{
	return files_exec();
}

SEC("tp/sched/sched_process_exec")
int files__exec_tp(void *ctx)
{
	return files_exec();
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(files__exit_btf)
{
	return files_exit();
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(files__exit_raw)
{
	return files_exit();
}

SEC("tp/sched/sched_process_exit")
int files__exit_tp(void *ctx)
{
	return files_exit();
}

char LICENSE[] SEC("license") = "GPL";
