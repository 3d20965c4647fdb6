/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Core process-lifecycle records. They feed the identity cache first; the exec module (and
 * later proc) print them. Variable size: fixed part, then the strings in data[].
 */
#ifndef KSIGHT_CORE_H
#define KSIGHT_CORE_H

#include "common.h"

#define KS_FILENAME_MAX 512	/* bytes of the exec'd filename kept, NUL included */
#define KS_ARGS_MAX 2048	/* bytes of the argv area kept */
/* literal masks of twice those sizes, for ks_mask() */
#define KS_FILENAME_MASK 1023
#define KS_ARGS_MASK 4095

/* KS_EV_PROC_EXEC: a successful exec, seen from the new image. */
struct ks_proc_exec {
	struct ks_hdr hdr;
	__u64 start_ns;		/* task start, ns CLOCK_MONOTONIC */
	__u64 parent_cgroup;	/* cgroup v2 id of the real parent at the exec */
	__u32 ppid;		/* tgid of the real parent */
	__u32 uid;
	__u32 old_tid;		/* tid that called exec (differs when a thread execs) */
	__u32 filename_len;	/* bytes at data[0], NUL included */
	__u32 args_len;		/* bytes of argv copied after the filename */
	__u32 args_total;	/* bytes of the whole argv area; > args_len means cut */
	__u8 data[];		/* filename, NUL, argv strings each NUL terminated */
};

/*
 * KS_EV_PROC_EXIT: the last thread of a process exited.
 * KS_EV_PROC_TEXIT (only while ks_cfg.emit_thread_exit is set): any other thread exited;
 * start_ns and cpu_ns are then the thread's own.
 */
struct ks_proc_exit {
	struct ks_hdr hdr;
	__u64 start_ns;		/* process (TEXIT: thread) start, ns CLOCK_MONOTONIC */
	__u64 cpu_ns;		/* user + system time of the process (TEXIT: thread), ns */
	__u32 ppid;
	__u32 exit_code;	/* wait status: code << 8 | signal */
	__u32 uid;
	__u32 __pad;
};

#endif
