/* SPDX-License-Identifier: GPL-2.0 */
/* What the cswitch module's files share (its command is `ksight sched`). */
#ifndef KSIGHT_CSWITCH_INT_H
#define KSIGHT_CSWITCH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/pidset.h"
#include "cswitch.h"

struct cswitch_row {
	struct cswitch_key k;
	struct cswitch_val v;
};

struct cswitch_state {
	bool per_thread;	/* -L */
	uint64_t top;		/* --top: rows per report, 0: all */
	/* the totals the last report saw, sorted by key */
	struct cswitch_row *prev;
	size_t nprev;
	struct ks_pidset gone;		/* processes that exited since the last report */
	uint64_t gone_switches;		/* switches of rows deleted since */
};

#endif
