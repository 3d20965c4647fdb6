/* SPDX-License-Identifier: GPL-2.0 */
/* guard's enforcement, user side (guard_deny.c): deny rules' keys, hook names, the probe. */
#ifndef KSIGHT_MODULES_GUARD_DENY_H
#define KSIGHT_MODULES_GUARD_DENY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/guard_rules.h"

/* The deny bits of @rs's enabled deny rules into @f's keys; *@dkinds the acts (1 << enum
 * guard_dk) some deny rule names. Returns 0, or -1 (too many keys) with @err. */
int guard_deny_keys(const struct guard_rules *rs, struct guard_filter *f, uint32_t *dkinds,
		    char *err, size_t len);
/* Whether some enabled rule of @rs has action: deny. */
bool guard_has_deny(const struct guard_rules *rs);
/* The LSM hook of a denied record's sys (enum guard_hook). */
const char *guard_hook_name(uint32_t hook);
/* Whether every hook --enforce needs loads, attaches and runs here (bpf an active LSM).
 * Returns 0, or -1 with one line naming the missing feature in @err. */
int guard_lsm_probe(char *err, size_t len);

#endif
