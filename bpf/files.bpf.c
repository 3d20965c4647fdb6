// SPDX-License-Identifier: GPL-2.0
/* files module (stub: to be written). */
#include "common.bpf.h"
#include "files.h"

char LICENSE[] SEC("license") = "GPL";
