// SPDX-License-Identifier: GPL-2.0
/*
 * syscount module. Everything happens in syscount_sys_exit() (syscount.sys.bpf.h), which the
 * shared syscall dispatcher runs for every syscall routed to this module (all of them, or
 * the -s ones); entry times come from the dispatcher when -L or --hist asked for them.
 */
#include "syscount.sys.bpf.h"

const volatile bool syscount_keyed = false;
const volatile bool syscount_per_pid = false;
const volatile bool syscount_errnos = false;
const volatile bool syscount_failed_only = false;
const volatile bool syscount_timed = false;
const volatile bool syscount_hist = false;
const volatile bool syscount_hist_us = false;

char LICENSE[] SEC("license") = "GPL";
