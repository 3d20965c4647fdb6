// SPDX-License-Identifier: GPL-2.0
/* files (stub: to be written). */
#include "core/module.h"

static const struct ks_slot files_slots[] = { { 0 } };

const struct ks_module files_module = {
	.name = "files",
	.id = KS_MOD_files,
	.brief = "file lifecycle: create, unlink, rename, link, mkdir, chmod, truncate, writes (not yet)",
	.slots = files_slots,
};
