/* SPDX-License-Identifier: GPL-2.0 */
/* rw: syscall handler run by the dispatcher (stub: to be written). */
#ifndef KSIGHT_RW_SYS_BPF_H
#define KSIGHT_RW_SYS_BPF_H

#include "syscalls.bpf.h"
#include "rw.h"

static __always_inline void rw_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					  __u64 pid_tgid)
{
}

#endif
