/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The files module's user-side table (pure: tested without the kernel).
 *
 * files_topd: the --summary totals of the previous report, so each interval shows its own
 * reads and writes. The kernel's counters only grow; nothing is read and then deleted
 * while the kernel may still add to it, so no update falls between two reports.
 * (The paths of files being written, for their close, are in the session's fd table.)
 */
#ifndef KSIGHT_FILES_TAB_H
#define KSIGHT_FILES_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "files.h"

/* One --summary row: a kernel entry, or after files_topd__delta() its growth. */
struct files_top_row {
	struct files_top_key k;
	struct files_top_val v;
};

enum files_sort {
	FILES_SORT_ALL,		/* bytes read + written, then calls */
	FILES_SORT_READS,
	FILES_SORT_WRITES,
	FILES_SORT_RBYTES,
	FILES_SORT_WBYTES,
};

struct files_topd;

/* Returns NULL with errno set. */
struct files_topd *files_topd__new(void);
void files_topd__free(struct files_topd *d);

/*
 * Turn the totals in @rows[0..n) into their growth since the previous call and keep the
 * totals for the next one (keys absent now are forgotten); then add what retired entries
 * grew by after the previous call, to the row of the same key or as rows appended (up to
 * @cap rows in all). A total below the previous one (an entry deleted and made again)
 * counts in full. Returns the number of rows, or -ENOMEM (then the rows are left as
 * totals and the previous totals kept).
 */
int files_topd__delta(struct files_topd *d, struct files_top_row *rows, size_t n, size_t cap);

/*
 * The kernel's entry @k was deleted, its last totals being @final: forget @k, and keep
 * what it grew by since the previous files_topd__delta() for the next one. Returns 0 or
 * -ENOMEM.
 */
int files_topd__retire(struct files_topd *d, const struct files_top_key *k,
		       const struct files_top_val *final);

/* Sort @rows, the largest first by @by; ties by pid, then path. */
void files_top_sort(struct files_top_row *rows, size_t n, enum files_sort by);

#endif
