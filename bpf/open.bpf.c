// SPDX-License-Identifier: GPL-2.0
/*
 * open module. Its handler (open.sys.bpf.h) runs from the shared syscall dispatcher, or,
 * where BPF trampolines work, from these fexit programs on the syscall functions, which
 * leave the syscall tracepoints (and every other thread's fast path) alone.
 */
#include "open.sys.bpf.h"

KS_SYS_MODULE(open)

KS_SYS_FEXIT(open, open)
KS_SYS_FEXIT(open, openat)
KS_SYS_FEXIT(open, openat2)
KS_SYS_FEXIT(open, creat)

char LICENSE[] SEC("license") = "GPL";
