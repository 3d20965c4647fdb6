// SPDX-License-Identifier: GPL-2.0
/* rw module (stub: to be written). */
#include "common.bpf.h"
#include "rw.h"

char LICENSE[] SEC("license") = "GPL";
