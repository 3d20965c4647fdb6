/* SPDX-License-Identifier: GPL-2.0 */
/* syscount module: every system call counted in the kernel, nothing streamed. */
#ifndef KSIGHT_SYSCOUNT_H
#define KSIGHT_SYSCOUNT_H

#include "common.h"

/* Aggregation slot: calls counted; its losses are calls a full key table refused. */
#define SYSCOUNT_EV_CALL KS_EV(KS_MOD_syscount, 0)

#define SYSCOUNT_SLOTS 40	/* log2 latency buckets: up to 2^40 ns (18 min) */
#define SYSCOUNT_KEYS 16384	/* keys of the -P / -e tables by default (--max-keys) */
#define SYSCOUNT_ERRNO_MAX 4095	/* a return value in [-4095, -1] is an error */

/* -P and -e: the hash table's key. Without them the table is an array by syscall number. */
struct syscount_key {
	__u32 pid;		/* -P: thread group id, else 0 */
	__u16 nr;		/* syscall number */
	__u16 err;		/* -e: errno of a failed call, 0 for success; else 0 */
};

/* Per CPU: each CPU counts its own calls, user space adds the copies. */
struct syscount_val {
	__u64 count;		/* calls */
	__u64 errors;		/* calls that returned -errno */
	__u64 lat_ns;		/* -L/--hist: total time from entry to exit, ns */
	char comm[TASK_COMM_LEN];	/* -P: the thread that made the key's first call
					 * (on the CPU that inserted it; others stay empty) */
};

/* --hist: log2 buckets of latency in ns (us with -m). */
struct syscount_hist {
	__u64 slots[SYSCOUNT_SLOTS];
};

#endif
