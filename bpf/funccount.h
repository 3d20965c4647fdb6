/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funccount module: calls of user functions counted in the kernel by one uprobe program
 * attached to every matching function, each attachment's cookie being the function's
 * index in user space's list; calls of kernel functions by one kprobe program attached to
 * every matching function, keyed by the instruction pointer. Tracepoints are counted by perf counters, with no BPF.
 * Shared by bpf/funccount.bpf.c and src/modules/funccount*.c.
 */
#ifndef KSIGHT_FUNCCOUNT_H
#define KSIGHT_FUNCCOUNT_H

#include "common.h"

#define FUNCCOUNT_EV_CALL KS_EV(KS_MOD_funccount, 0)	/* counted in funccount_calls
							 * (loss: table full) */

#define FUNCCOUNT_ROWS 65536	/* (function, process) rows at once */
#define FUNCCOUNT_FUNCS 1024	/* user functions one run attaches to at most */
#define FUNCCOUNT_KFUNCS 1000	/* kernel functions one run attaches to at most */

/* The immediate funccount__fentry counts under, replaced in each function's copy by the
 * function's address (an ld_imm64 of its own: no other constant of the program is it) */
#define FUNCCOUNT_FENTRY_MARK 0x6b73666e74727921ULL

/* funccount_calls' key: one function; with -P, of one process (else pid 0). */
struct funccount_key {
	__u64 func;		/* a user function: its index in user space's list (the
				 * attachment's cookie, < FUNCCOUNT_FUNCS); a kernel function:
				 * the instruction pointer the kprobe saw (inside the function,
				 * named by user space through /proc/kallsyms) */
	__u32 pid;		/* thread group id, or 0 */
	__u32 pad;
};

struct funccount_val {
	__u64 calls;		/* calls since the row was made */
	char comm[TASK_COMM_LEN];	/* of the thread that made the row */
};

#endif
