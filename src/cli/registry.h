/* SPDX-License-Identifier: GPL-2.0 */
/* Every module, from the one list in bpf/modules.h. */
#ifndef KSIGHT_REGISTRY_H
#define KSIGHT_REGISTRY_H

#include "core/module.h"

/* NULL-terminated, in registry order. */
extern const struct ks_module *const ks_modules[];

/* The module whose command is @name, or NULL. A variant's command (struct ks_variant) finds
 * its module, with the variant in *@v (else *@v is NULL). */
const struct ks_module *ks_module_find(const char *name, const struct ks_variant **v);

#endif
