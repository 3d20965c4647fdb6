// SPDX-License-Identifier: GPL-2.0
/* syscount module (stub: to be written). */
#include "common.bpf.h"
#include "syscount.h"

char LICENSE[] SEC("license") = "GPL";
