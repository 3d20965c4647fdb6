/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by every BPF object and by user space: the header every streamed
 * record starts with, the per-CPU loss counters, the configuration every object carries,
 * the syscall dispatcher's call record, limits.
 * Layout rules: fixed-width fields, no pointers, explicit padding, 8-byte multiples; user
 * space checks every size with _Static_assert (src/core/layout.c).
 */
#ifndef KSIGHT_COMMON_H
#define KSIGHT_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "modules.h"

#define TASK_COMM_LEN 16

/* Event types: module id in the high bits, up to 32 types per module. */
#define KS_EV_PER_MODULE 32
#define KS_EV(mod, k) ((((mod) & 63) << 5) | ((k) & 31))
#define KS_EV_MAX 2048		/* 64 modules * 32 types: a power of two, BPF code masks */
#define KS_EV_MODULE(type) ((type) >> 5)

/* Core (module 0) event types: process lifecycle, consumed by the identity cache first. */
#define KS_EV_PROC_EXEC KS_EV(KS_MOD_core, 0)
#define KS_EV_PROC_EXIT KS_EV(KS_MOD_core, 1)
#define KS_EV_SYS_INFLIGHT KS_EV(KS_MOD_core, 2) /* loss slot only: enter table full */
#define KS_EV_PROC_TEXIT KS_EV(KS_MOD_core, 3)	/* a thread exited, not the last */
#define KS_EV_FD_IO KS_EV(KS_MOD_core, 4)	/* loss slot only: ks_fd_io table full */

/* Syscall numbers the dispatcher can route (x86_64 numbers are below 512). */
#define KS_SYS_MAX 512		/* a power of two: BPF code masks with 511 */

/*
 * Producers on one CPU nest: a program in task context can be interrupted by one in
 * softirq, that one by a hardirq, that one by an NMI. Each level has its own scratch
 * buffer and its own sequence of record numbers (see ks_level_enter in common.bpf.h).
 */
#define KS_LEVELS 4

#define KS_HDR_VERSION 1

/* ks_hdr.flags */
#define KS_HDR_F_NOTASK 0x1	/* no task: pid, tid, uid, comm and cgroup are 0, not meaningful */
#define KS_HDR_F_OWNER 0x2	/* the task fields are an owner the producer knew (a socket's
				 * owner, the task that queued an I/O), not the current task */

/* Every streamed record begins with this header. 64 bytes. */
struct ks_hdr {
	__u16 type;		/* KS_EV_* */
	__u16 size;		/* whole record including this header, bytes */
	__u8 version;		/* KS_HDR_VERSION */
	__u8 flags;		/* KS_HDR_F_* */
	__u8 level;		/* nesting level of the producer on its CPU (0: outermost) */
	__u8 __pad;
	__u32 cpu;		/* CPU whose sequence numbers this record belongs to */
	__u32 uid;		/* real uid of the task */
	__u64 seq;		/* sequence of (cpu, level); failed reservations consume one */
	__u64 ts;		/* ns, CLOCK_MONOTONIC */
	__u64 cgroup;		/* cgroup v2 id of the task */
	__u32 pid;		/* thread group id */
	__u32 tid;		/* thread id */
	char comm[TASK_COMM_LEN];
};

/* Who a record is about, when a producer knows better than the current task. */
struct ks_owner {
	__u64 cgroup;
	__u32 pid, tid, uid;
	__u32 __pad;
	char comm[TASK_COMM_LEN];
};

/*
 * Per-CPU accounting (value of the ks_stats per-CPU array, key 0).
 * seq[l] counts every streamed record this CPU tried to produce at nesting level l;
 * lost[type] counts the ones that could not be reserved, and for aggregating modules the
 * updates a full map refused. unleveled counts records that found every level taken (each
 * is also in lost[]) and so consumed no sequence number.
 */
struct ks_cpu_stats {
	__u64 seq[KS_LEVELS];
	__u32 depth;		/* producers running on this CPU now (see ks_level_enter) */
	__u32 __pad;
	__u64 unleveled;
	__u64 lost[KS_EV_MAX];
	/* runs of a backup program that did the work of a program the kernel skipped on this
	 * CPU because it was already running there (ks_backup_ran) */
	__u64 backup_runs;
};

/*
 * What every object is configured with before load, as one read-only global (ks_cfg):
 * the task filters and the ring's wake-up threshold. Branches on it are constants the
 * verifier prunes.
 */
struct ks_config {
	__u32 self_tgid;	/* ksight never traces itself */
	__u32 targ_tgid;	/* -p, 0 = any */
	__u32 targ_tid;		/* -t, 0 = any */
	__u32 targ_uid;		/* -u, when filter_uid */
	__u64 targ_comm[2];	/* -n, exact comm, when filter_comm */
	__u32 wake_shift;	/* wake the reader every 1 << wake_shift bytes */
	__u8 filter_uid;
	__u8 filter_comm;
	__u8 filter_cgroup;	/* --cgroup, subtree of ks_cgroup_filter[0] */
	__u8 task_btf;		/* bpf_get_current_task_btf() exists (5.11+) */
	__u8 sys_track_enter;	/* the dispatcher records entries (ks_sys_route.enter) */
	__u8 sys_enter_task;	/* ... in task storage (tp_btf, 5.11+), else by tid */
	__u8 emit_proc;		/* core: stream exec/exit records */
	__u8 emit_thread_exit;	/* core: also KS_EV_PROC_TEXIT (proc module) */
	__u8 refuse;		/* test-only: load the program the verifier refuses */
	__u8 __pad[3];
};

/* The syscall dispatcher's routing for one syscall number (ks_sys_route). */
struct ks_sys_route {
	__u64 exit_mask;	/* module ids (bits) whose handler runs at sys_exit */
	__u32 enter;		/* nonzero: record the entry (time, and args for classic tp) */
	__u16 count;		/* KS_SYS_COUNT*: count it in ks_sys_counts, in the dispatcher */
	__u16 io;		/* KS_SYS_IO_*: add it to its fd's row of ks_fd_io, likewise */
};

#define KS_SYS_IO_READ 1	/* fd = first argument, bytes = return value */
#define KS_SYS_IO_WRITE 2
#define KS_SYS_IO_KIND 3	/* the bits above */
#define KS_SYS_IO_FD_ARG1 0x4	/* the fd is the second argument instead (tee's out fd) */
#define KS_SYS_IO_FD_ARG2 0x8	/* ... the third (splice, copy_file_range: the out fd) */
#define KS_SYS_IO_KINDS 0x10	/* key the row by the fd's kind too (KS_FD_KEY_KIND_SHIFT) */
#define KS_SYS_IO_ON_SOCK 0x20	/* ... known from the call: it takes sockets only (send, recv) */
#define KS_SYS_IO_ON_FILE 0x40	/* ... or seekable files only (pread, pwrite, copy_file_range) */

#define KS_SYS_COUNT 1		/* calls and failures */
#define KS_SYS_COUNT_TIMED 2	/* ... and time from entry (enter is set too); a call
				 * entered before ksight attached is not counted at all */

/* A return value in [-KS_ERRNO_MAX, -1] is a failed call. */
#define KS_ERRNO_MAX 4095

/*
 * The dispatcher's own counters, per syscall number and per CPU (ks_sys_counts), for a
 * module that only counts calls (syscount without -P/-e/-x/--hist): counting in the
 * dispatcher costs a lookup and a few adds, where a tail call to the module's handler
 * costs an indirect jump and the per-CPU call record (bench/RESULTS.md, section 6).
 */
struct ks_sys_count {
	__u64 count;		/* calls */
	__u64 errors;		/* calls that returned -errno */
	__u64 lat_ns;		/* KS_SYS_COUNT_TIMED: total time from entry to exit */
};

/*
 * The dispatcher's own per-fd I/O totals (ks_fd_io, per CPU), for a module that only sums
 * reads and writes per (process, fd) (rw --summary --no-latency, the agent's rw): the
 * same saving as ks_sys_counts, for the hottest syscalls of all.
 */
#define KS_FD_IO_ENTRIES 8192
/* With KS_SYS_IO_KINDS the row's pid carries the fd's kind at the call (KS_FD_K_*) in the
 * bits above any pid (PID_MAX_LIMIT is 2^22): an fd number reused for another kind of file
 * gets a row of its own, with no fd-change hook and no look-up in user space. */
#define KS_FD_KEY_KIND_SHIFT 28
#define KS_FD_KEY_PID_MASK ((1U << KS_FD_KEY_KIND_SHIFT) - 1)
#define KS_FD_K_NONE 0		/* not asked, or no open file at the fd at the return */
#define KS_FD_K_FILE 1		/* regular files, directories, devices, memfds */
#define KS_FD_K_SOCKET 2
#define KS_FD_K_PIPE 3		/* pipes and FIFOs */
#define KS_FD_K_ANON 4		/* anonymous inodes: eventfd, epoll, timerfd, ... */

struct ks_fd_key {
	__u32 pid;		/* thread group id (| kind << KS_FD_KEY_KIND_SHIFT) */
	__s32 fd;
};

struct ks_fd_io {
	__u64 reads;		/* read-side calls */
	__u64 writes;		/* write-side calls */
	__u64 rbytes;		/* bytes returned by successful reads */
	__u64 wbytes;		/* bytes returned by successful writes */
	__u64 errors;		/* calls that returned an error */
	__u64 cgroup;		/* cgroup v2 id of the thread that made the row's first call:
				 * its service once the process has exited */
	char comm[TASK_COMM_LEN];	/* the thread that made the row's first call */
};

/*
 * The call being dispatched, per CPU (ks_sys_cur): built by the dispatcher at sys_exit
 * and read by each module's handler down the chain of tail calls.
 */
struct ks_sys_call {
	__u64 args[6];		/* syscall arguments as the thread passed them */
	__u64 enter_ts;		/* ns, CLOCK_MONOTONIC at sys_enter; 0 when not recorded */
	__u64 pid_tgid;
	__s64 ret;		/* return value */
	__u64 mask;		/* module ids routed this call (ks_sys_route.exit_mask) */
	__u32 id;		/* syscall number */
	__u32 __pad;
};

/* What the dispatcher keeps between sys_enter and sys_exit, per thread. */
struct ks_sys_enter {
	__u64 args[6];
	__u64 ts;
	__u64 id;
};

#endif
