/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proc module records. Forks and thread creations are this module's; execs, process exits
 * and thread exits are the core's lifecycle records (bpf/core.h), thread exits streamed
 * because this module asks for them (thread_exits in its descriptor).
 */
#ifndef KSIGHT_PROC_H
#define KSIGHT_PROC_H

#include "common.h"
#include "core.h"

#define PROC_EV_FORK KS_EV(KS_MOD_proc, 0)	/* a new process */
#define PROC_EV_THREAD KS_EV(KS_MOD_proc, 1)	/* a new thread of the caller's process */
#define PROC_EV_CLONE KS_EV(KS_MOD_proc, 2)	/* tp family: child task not found */

/*
 * Clone flags, the kernel's values (uapi linux/sched.h). The hooks do not see the clone
 * arguments; these are read back from what the child shares with its parent, so only the
 * flags that leave a trace in the child are known (see docs/proc.md).
 */
#define PROC_CLONE_NEWTIME 0x00000080ULL
#define PROC_CLONE_VM 0x00000100ULL
#define PROC_CLONE_FS 0x00000200ULL
#define PROC_CLONE_FILES 0x00000400ULL
#define PROC_CLONE_SIGHAND 0x00000800ULL
#define PROC_CLONE_VFORK 0x00004000ULL
#define PROC_CLONE_PARENT 0x00008000ULL
#define PROC_CLONE_THREAD 0x00010000ULL
#define PROC_CLONE_NEWNS 0x00020000ULL
#define PROC_CLONE_NEWCGROUP 0x02000000ULL
#define PROC_CLONE_NEWUTS 0x04000000ULL
#define PROC_CLONE_NEWIPC 0x08000000ULL
#define PROC_CLONE_NEWUSER 0x10000000ULL
#define PROC_CLONE_NEWPID 0x20000000ULL
#define PROC_CLONE_NEWNET 0x40000000ULL

/* proc_fork.kind bits */
#define PROC_K_KTHREAD 0x1	/* the child is a kernel thread (PF_KTHREAD) */
#define PROC_K_IO_WORKER 0x2	/* an io_uring / io-wq worker (PF_IO_WORKER) */
#define PROC_K_VFORK_SEEN 0x4	/* the hook can see CLONE_VFORK (fentry family) */

/* PROC_EV_FORK, PROC_EV_THREAD, PROC_EV_CLONE; the header is the parent (the caller). */
struct proc_fork {
	struct ks_hdr hdr;
	__u64 start_ns;		/* child start, ns CLOCK_MONOTONIC */
	__u64 flags;		/* PROC_CLONE_* derived from the child */
	__u32 ppid;		/* tgid of the caller's real parent */
	__u32 child_pid;	/* the child's tgid (PROC_EV_CLONE: 0, unknown) */
	__u32 child_tid;	/* the child's tid */
	__u32 child_ppid;	/* tgid of the child's real parent (CLONE_PARENT: the caller's) */
	__u32 uid;
	__u32 kind;		/* PROC_K_* */
};

#endif
