/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exec module records. Successful execs and exits are the core's KS_EV_PROC_* records
 * (bpf/core.h); this module adds the execs that failed, seen at the syscall's return.
 */
#ifndef KSIGHT_EXEC_H
#define KSIGHT_EXEC_H

#include "common.h"
#include "core.h"

#define EXEC_EV_FAIL KS_EV(KS_MOD_exec, 0)

#define EXEC_MAX_ARGS 20	/* arguments kept; more sets args_cut */
#define EXEC_ARG_SLOT 128	/* bytes kept of one argument, NUL included */

/*
 * EXEC_EV_FAIL: execve/execveat returned an error. Each argument has a fixed slot: the
 * verifier checks a loop over constant-size slots in a fraction of the time it needs for
 * packed strings, and failed execs are rare enough for the size not to matter.
 */
struct exec_fail {
	struct ks_hdr hdr;
	__s32 err;		/* negative errno the syscall returned */
	__u32 ppid;
	__u32 uid;
	__u32 nargs;		/* slots used */
	__u32 args_cut;		/* 1 when arguments were dropped or cut */
	__u32 __pad;
	__u16 arg_len[EXEC_MAX_ARGS];	/* bytes in each slot, NUL included */
	char filename[KS_FILENAME_MAX];
	char args[EXEC_MAX_ARGS][EXEC_ARG_SLOT];
};

#endif
