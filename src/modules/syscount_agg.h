/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syscount's rows as user space sees them: the per-CPU copies of the kernel's counters
 * added up, each interval's own numbers taken by subtracting the previous report's totals
 * (the kernel keeps running totals; nothing is read-then-cleared, so nothing is lost in
 * between), ordered for the top N. Pure: tested without the kernel.
 */
#ifndef KSIGHT_SYSCOUNT_AGG_H
#define KSIGHT_SYSCOUNT_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syscount.h"

struct syscount_row {
	struct syscount_key k;
	uint64_t count, errors, lat_ns;
	char comm[TASK_COMM_LEN];	/* -P: empty if no CPU's copy had it */
	__u64 slots[SYSCOUNT_SLOTS];	/* --hist */
};

/* Add one CPU's copy of a value / histogram to @r (comm: the first non-empty one). */
void syscount_row_add(struct syscount_row *r, const struct syscount_val *v);
void syscount_row_add_hist(struct syscount_row *r, const struct syscount_hist *h);

/* Orders keys: pid, then nr, then err. */
int syscount_key_cmp(const struct syscount_key *a, const struct syscount_key *b);

/* The totals of the previous report. Zero-initialise; free with syscount_prev_free. */
struct syscount_prev {
	struct syscount_row *rows;	/* sorted by key */
	size_t n;
};

/*
 * Turn the running totals @rows[0..n) (any order; sorted by key on return) into what
 * happened since the previous call, and remember the totals for the next one.
 * Returns 0, or -ENOMEM (then @rows keep their totals and @p is unchanged).
 */
int syscount_delta(struct syscount_prev *p, struct syscount_row *rows, size_t n);
void syscount_prev_free(struct syscount_prev *p);

/*
 * Drop rows without calls and sort the rest for printing: most calls first, or most total
 * latency first with @by_lat; ties by key. Returns the number of rows kept.
 */
size_t syscount_order(struct syscount_row *rows, size_t n, bool by_lat);

#endif
