/* SPDX-License-Identifier: GPL-2.0 */
/* files: syscall handler run by the dispatcher (stub: to be written). */
#ifndef KSIGHT_FILES_SYS_BPF_H
#define KSIGHT_FILES_SYS_BPF_H

#include "syscalls.bpf.h"
#include "files.h"

static __always_inline void files_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					  __u64 pid_tgid)
{
}

#endif
