// SPDX-License-Identifier: GPL-2.0
/* proc module (stub: to be written). */
#include "common.bpf.h"
#include "proc.h"

char LICENSE[] SEC("license") = "GPL";
