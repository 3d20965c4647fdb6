// SPDX-License-Identifier: GPL-2.0
/* proc (stub: to be written). */
#include "core/module.h"

static const struct ks_slot proc_slots[] = { { 0 } };

const struct ks_module proc_module = {
	.name = "proc",
	.id = KS_MOD_proc,
	.brief = "process and thread lifecycle: fork vs thread, exec, exit, CPU time, tree (not yet)",
	.slots = proc_slots,
};
