/* SPDX-License-Identifier: GPL-2.0 */
/* guard's hooks (guard_slots.c): the slots, each a way to see one family of events. */
#ifndef KSIGHT_GUARD_SLOTS_H
#define KSIGHT_GUARD_SLOTS_H

#include "core/module.h"

/* the slots guard_want_slot() decides on by name (the first four have no index) */
enum { SL_FDS = 4, SL_PAM, SL_URING_NEW, SL_URING_OLD, SL_LINKS,
       SL_LSM };

extern const struct ks_slot guard_slots[];

#endif
