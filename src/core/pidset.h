/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A set of process ids, for the tables aggregated in the kernel per process: a module
 * notes each process that exits (KS_EV_PROC_EXIT), reports its rows one last time, then
 * deletes the rows of every process in the set so that a long run does not fill the
 * kernel's table, and empties the set.
 *
 * Adding is O(1); the first lookup after adding sorts once, lookups are then a binary
 * search, so a report after a fork storm stays O(rows log exits).
 */
#ifndef KSIGHT_PIDSET_H
#define KSIGHT_PIDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ks_pidset {
	uint32_t *pid;
	size_t n, cap;
	bool sorted;
};

/* Add @pid. Returns 0, or -1 out of memory: then the set does not hold it (the caller's
 * rows stay in a bounded table, whose overflow is counted). */
int ks_pidset_add(struct ks_pidset *s, uint32_t pid);
bool ks_pidset_has(struct ks_pidset *s, uint32_t pid);
/* Empty the set, keeping its memory. */
void ks_pidset_clear(struct ks_pidset *s);
void ks_pidset_free(struct ks_pidset *s);

#endif
