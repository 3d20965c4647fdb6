/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by every BPF program and by user space: the event header every
 * streamed record starts with, the per-CPU loss counters, limits.
 * Layout rules: fixed-width fields, no pointers, explicit padding, 8-byte multiples.
 */
#ifndef KSIGHT_COMMON_H
#define KSIGHT_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "modules.h"

#define TASK_COMM_LEN 16

/* Event types: module id in the high bits, up to 8 types per module. */
#define KS_EV(mod, k) ((((mod) & 63) << 3) | ((k) & 7))
#define KS_EV_MAX 512
#define KS_EV_MODULE(type) ((type) >> 3)

/* Core (module 0) event types: process lifecycle, consumed by the identity cache first. */
#define KS_EV_PROC_EXEC KS_EV(KS_MOD_core, 0)
#define KS_EV_PROC_EXIT KS_EV(KS_MOD_core, 1)
#define KS_EV_SYS_INFLIGHT KS_EV(KS_MOD_core, 2) /* loss slot only: enter table full */
#define KS_EV_PROC_TEXIT KS_EV(KS_MOD_core, 3)	/* a thread exited, not the last */

/* Syscall numbers the dispatcher can route (x86_64 numbers are below 512). */
#define KS_SYS_MAX 512		/* a power of two: BPF code masks with 511 */

/* Every streamed record begins with this header. 56 bytes. */
struct ks_hdr {
	__u16 type;		/* KS_EV_* */
	__u16 size;		/* whole record including this header, bytes */
	__u32 cpu;		/* CPU whose sequence numbers this record belongs to */
	__u64 seq;		/* per-CPU sequence; failed reservations consume one too */
	__u64 ts;		/* ns, CLOCK_MONOTONIC */
	__u64 cgroup;		/* cgroup v2 id of the task */
	__u32 pid;		/* thread group id */
	__u32 tid;		/* thread id */
	char comm[TASK_COMM_LEN];
};

/*
 * Per-CPU accounting (value of the ks_stats per-CPU array, key 0).
 * seq counts every streamed record this CPU tried to produce; lost[type] counts the ones
 * that could not be reserved, and for aggregating modules the updates a full map refused.
 */
struct ks_cpu_stats {
	__u64 seq;
	__u64 lost[KS_EV_MAX];
};

/* The syscall dispatcher passes this to module handlers at sys_exit. */
struct ks_sys_call {
	__u64 args[6];		/* syscall arguments as the thread passed them */
	__u64 enter_ts;		/* ns, CLOCK_MONOTONIC at sys_enter; 0 when not recorded */
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
