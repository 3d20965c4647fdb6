/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A symbolizer fed with the maps of each process image as soon as the kernel announces
 * it, read on a worker thread (core/worker.h): a process that exits before the report
 * keeps its names, and the ring buffer's reader never waits on a process's mmap lock.
 * Shared by the modules that symbolize user stacks (profile, offcpu).
 */
#ifndef KSIGHT_SYMMAPS_H
#define KSIGHT_SYMMAPS_H

#include <stdint.h>

#include "core/symbolize.h"

struct ks_worker;

struct ks_symmaps {
	struct ks_symbolizer *sym;	/* what the worker's reads went into */
	struct ks_worker *worker;
	uint64_t failed;		/* announced images whose maps could not be read */
};

/* The symbolizer and its worker. Returns 0 or -errno. */
int ks_symmaps_start(struct ks_symmaps *m);
/* Queue a read of image @exec_id of @pid (a refusal counts in m->failed). */
void ks_symmaps_want(struct ks_symmaps *m, uint32_t pid, uint32_t exec_id);
/* Wait for the reads queued so far (before symbolizing a report). */
void ks_symmaps_sync(struct ks_symmaps *m);
/* Free both; accepts one never started. */
void ks_symmaps_stop(struct ks_symmaps *m);

#endif
