// SPDX-License-Identifier: GPL-2.0
/*
 * syscount module. Everything happens in syscount_sys_exit() (syscount.sys.bpf.h), which the
 * shared syscall dispatcher runs for every syscall routed to this module (all of them, or
 * the -s ones); entry times come from the dispatcher when -L or --hist asked for them.
 */
#include "syscount.sys.bpf.h"

KS_SYS_MODULE(syscount)

char LICENSE[] SEC("license") = "GPL";
