// SPDX-License-Identifier: GPL-2.0
/*
 * open module. Its handler (open.sys.bpf.h) runs from the shared syscall dispatcher, or,
 * where BPF trampolines work, from these fexit programs on the syscall functions, which
 * leave the syscall tracepoints (and every other thread's fast path) alone.
 */
#include "open.sys.bpf.h"

const volatile bool open_failed_only = false;
const volatile bool open_count = false;
const volatile __u32 open_name_len = 0;
const volatile char open_name[TASK_COMM_LEN] = {};

KS_SYS_FEXIT(open, open)
KS_SYS_FEXIT(open, openat)
KS_SYS_FEXIT(open, openat2)
KS_SYS_FEXIT(open, creat)

char LICENSE[] SEC("license") = "GPL";
