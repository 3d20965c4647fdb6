/* SPDX-License-Identifier: GPL-2.0 */
/* What the cswitch module's files share (its command is `ksight sched`). */
#ifndef KSIGHT_CSWITCH_INT_H
#define KSIGHT_CSWITCH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "core/task_counts.h"
#include "cswitch.h"

struct cswitch_row {
	struct cswitch_key k;
	struct cswitch_val v;
};

struct cswitch_state {
	bool per_thread;	/* -L */
	const char *read;	/* --read: "tasks", "switches", or NULL (the cheaper one) */
	bool tasks;		/* chosen: switches and moves read from the tasks */
	struct ks_tc_reader reader;	/* tasks: the iterator over them */
	uint64_t top;		/* --top: rows per report, 0: all */
	struct ks_task_rows rows;	/* the kernel's table, as the last report saw it */
	/* the agent's: per service */
	struct ks_metric *m_vol, *m_invol, *m_migr, *m_wake;
};

#endif
