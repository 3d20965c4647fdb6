/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rw --summary: the kernel's per-CPU (pid, fd) rows merged, turned into per-interval
 * changes (the map is never cleared, so no update is lost between a read and a delete),
 * and ordered for the filetop-like table. Pure.
 */
#ifndef KSIGHT_RW_SUM_H
#define KSIGHT_RW_SUM_H

#include <stdbool.h>
#include <stddef.h>

#include "rw.h"

struct rw_sum_row {
	struct rw_sum_key k;
	struct rw_sum_val v;
};

enum rw_sort {
	RW_SORT_OPS,		/* reads + writes */
	RW_SORT_BYTES,		/* bytes read + written */
	RW_SORT_LAT,		/* total time in the calls */
};

/* Add @ncpu per-CPU values up into @out (the comm is the first non-empty one). */
void rw_sum_merge(struct rw_sum_val *out, const struct rw_sum_val *percpu, unsigned int ncpu);

/* Sort rows by key (pid, then fd): the order rw_sum_delta expects. */
void rw_sum_sort_keys(struct rw_sum_row *rows, size_t n);

/*
 * Rows in @cur (totals, sorted by key) minus their match in @prev (the previous totals,
 * sorted by key; rows without one count from zero) into @out (room for @n rows); rows that
 * did not change are left out. Returns how many rows were written.
 */
size_t rw_sum_delta(const struct rw_sum_row *prev, size_t nprev, const struct rw_sum_row *cur,
		    size_t n, struct rw_sum_row *out);

/* Largest first by @by; ties by pid then fd. */
void rw_sum_sort(struct rw_sum_row *rows, size_t n, enum rw_sort by);

#endif
