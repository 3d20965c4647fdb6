// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu module: where threads block and who wakes them, summed in the kernel. The maps
 * and the hooks' bodies are in offcpu_sched.bpf.h (profile --wall loads them too); here,
 * the module's programs.
 */
#include "offcpu_sched.bpf.h"

OFFCPU_SCHED_PROGS(offcpu)

char LICENSE[] SEC("license") = "GPL";
