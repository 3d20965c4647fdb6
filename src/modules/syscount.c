// SPDX-License-Identifier: GPL-2.0
/* syscount (stub: to be written). */
#include "core/module.h"

static const struct ks_slot syscount_slots[] = { { 0 } };

const struct ks_module syscount_module = {
	.name = "syscount",
	.id = KS_MOD_syscount,
	.brief = "count system calls in the kernel, by name, process, errno and latency (not yet)",
	.slots = syscount_slots,
};
