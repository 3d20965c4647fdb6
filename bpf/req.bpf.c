// SPDX-License-Identifier: GPL-2.0
/*
 * req module. Requests are seen where their bytes move and their owner is exact: at the
 * return of read/write and the socket calls (req.sys.bpf.h), from the shared syscall
 * dispatcher, or, where BPF trampolines work (not on this machine's kernel: 5.10, 6.1,
 * 6.12 under qemu), from fexit programs on the syscall functions, which leave the syscall
 * tracepoints and every other thread's fast path alone.
 */
#include "req.sys.bpf.h"

KS_SYS_MODULE(req)

KS_SYS_FEXIT(req, read)
KS_SYS_FEXIT(req, write)
KS_SYS_FEXIT(req, readv)
KS_SYS_FEXIT(req, writev)
KS_SYS_FEXIT(req, sendto)
KS_SYS_FEXIT(req, recvfrom)
KS_SYS_FEXIT(req, sendmsg)
KS_SYS_FEXIT(req, recvmsg)

char LICENSE[] SEC("license") = "GPL";
