// SPDX-License-Identifier: GPL-2.0
/* rw (stub: to be written). */
#include "core/module.h"

static const struct ks_slot rw_slots[] = { { 0 } };

const struct ks_module rw_module = {
	.name = "rw",
	.id = KS_MOD_rw,
	.brief = "stream every read/write/send/recv of a process, with fd kind and latency (not yet)",
	.slots = rw_slots,
};
