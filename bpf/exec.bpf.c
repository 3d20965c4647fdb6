// SPDX-License-Identifier: GPL-2.0
/*
 * exec module, fentry family: fexit on the execve syscall functions sees failed execs without
 * the syscall tracepoints. Successful execs and exits come from the core (core.bpf.c); on
 * kernels without BPF trampolines the dispatcher calls exec_sys_exit() instead.
 */
#include "exec.sys.bpf.h"

KS_SYS_MODULE(exec)

KS_SYS_FEXIT(exec, execve)
KS_SYS_FEXIT(exec, execveat)

char LICENSE[] SEC("license") = "GPL";
