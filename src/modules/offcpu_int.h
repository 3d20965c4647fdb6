/* SPDX-License-Identifier: GPL-2.0 */
/* What the offcpu module's files share. */
#ifndef KSIGHT_OFFCPU_INT_H
#define KSIGHT_OFFCPU_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "core/symbolize.h"
#include "offcpu.h"

struct ks_worker;

struct offcpu_row {
	struct offcpu_key k;
	struct offcpu_val v;
};

struct offcpu_state {
	bool user_only;		/* -U */
	bool kernel_only;	/* -K */
	bool no_waker;		/* --no-waker */
	bool all;		/* --all: preempted switch-outs too */
	bool per_process;	/* -P (the default) */
	bool per_thread;	/* -L */
	bool folded;		/* --folded */
	uint64_t min_us, max_us;	/* --min-us, --max-us (0: no bound) */
	uint64_t top;		/* --top */
	uint64_t stack_storage;	/* --stack-storage */
	struct ks_task_rows rows;
	struct ks_symbolizer *sym;
	unsigned int round;
	uint64_t stats[OFFCPU_ST_N];	/* the kernel's counters at the last report */
	uint64_t maps_failed;	/* announced images whose maps could not be read */
	struct ks_worker *worker;	/* reads the maps (offcpu_maps.c) */
};

/* offcpu_maps.c: the maps of each announced process image, read on a worker thread.
 * Start returns 0 or -errno; want queues a read (a refusal counts in maps_failed); sync
 * waits for the reads queued so far; stop accepts a state never started. */
int offcpu_maps_start(struct offcpu_state *st);
void offcpu_maps_want(struct offcpu_state *st, uint32_t pid, uint32_t exec_id);
void offcpu_maps_sync(struct offcpu_state *st);
void offcpu_maps_stop(struct offcpu_state *st);

void offcpu_report(struct ks_ctx *ctx, void *state, void *vskel);

#endif
