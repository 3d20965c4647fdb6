/* SPDX-License-Identifier: GPL-2.0 */
/* What the mem module's files share. */
#ifndef KSIGHT_MEM_INT_H
#define KSIGHT_MEM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/pidset.h"
#include "mem.h"

struct mem_row {
	struct mem_key k;
	struct mem_val v;
};

struct mem_state {
	bool per_thread;	/* -L */
	bool no_faults;		/* --oom-only */
	uint64_t top;		/* --top: rows per report, 0: all */
	/* the totals the last report saw, sorted by key */
	struct mem_row *prev;
	size_t nprev;
	struct ks_pidset gone;		/* processes that exited since the last report */
	uint64_t gone_faults;		/* faults of rows deleted since */
};

#endif
