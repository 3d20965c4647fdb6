/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel's syscall names, read once on demand (src/core/sysnames_kernel.c).
 * With CONFIG_FTRACE_SYSCALLS every SYSCALL_DEFINE leaves a struct syscall_metadata
 * ("sys_read", and the number the kernel itself found for it at boot) behind the trace
 * event sys_enter_<name>. The pointers to the metadata lie in init memory, freed after
 * boot, so they are reached through the event instead: user space opens the event's
 * tracefs "enable" file, whose inode leads to the trace_event_file, its trace_event_call
 * and the metadata; a task_file iterator over ksight's own files reads them.
 */
#ifndef KSIGHT_SYSNAMES_META_H
#define KSIGHT_SYSNAMES_META_H

#include "common.h"

#define SYSNAMES_FDS 4096	/* entries: one per file descriptor number */
#define SYSNAMES_LEN 64		/* bytes of a name kept, NUL included */

/* What the metadata behind file descriptor <key> says. */
struct sysnames_ent {
	__s32 nr;		/* syscall number; -1: none, or not a syscall event */
	__u32 seen;		/* 1: the iterator visited this descriptor */
	char name[SYSNAMES_LEN];	/* "sys_read" */
};

#endif
