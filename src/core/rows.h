/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sorted snapshots of aggregation maps, and the change between two snapshots.
 *
 * A module that counts in a kernel hash map reports each interval the rows that grew: it
 * reads the map into an array of rows ({key, value} structs, the key first), sorted by key,
 * and compares it with the previous interval's array.
 */
#ifndef KSIGHT_ROWS_H
#define KSIGHT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pidset.h"

struct bpf_map;

typedef int (*ks_row_cmp)(const void *a, const void *b);

/*
 * The rows of hash map @map in a new array (*@out), sorted by @cmp: each row @rowsz bytes,
 * the map's key at offset 0 and its value at @voff. Returns the count; *@out is NULL when
 * out of memory (or the layout does not fit the map).
 */
size_t ks_map_rows(struct bpf_map *map, size_t rowsz, size_t voff, ks_row_cmp cmp, void **out);

/* For a row struct with members k (the key, first) and v (the value). */
#define KS_MAP_ROWS(map, type, cmp, out)                                              \
	ks_map_rows((map), sizeof(type), offsetof(type, v), (cmp), (void **)(out))

/* The row of sorted array @rows (@n rows of @rowsz; NULL is empty) with @row's key, or NULL. */
const void *ks_rows_find(const void *row, const void *rows, size_t n, size_t rowsz,
			 ks_row_cmp cmp);

/*
 * The rows of @cur (@n, sorted) that changed since @prev (@nprev, sorted the same way; NULL
 * at the first interval), in a new array (*@out, NULL when out of memory): each row is
 * copied and @sub(copy, its previous row or NULL) makes the copy the change and says
 * whether it is not zero. Returns the count.
 */
size_t ks_rows_deltas(const void *cur, size_t n, const void *prev, size_t nprev, size_t rowsz,
		      ks_row_cmp cmp, bool (*sub)(void *row, const void *prev), void **out);

/*
 * The header of a record made from a row of a per-process table: the row's process (and
 * @tid, or the process when 0), as the kernel saw it when it made the row, at the time of
 * the report. @comm is TASK_COMM_LEN bytes.
 */
struct ks_hdr;
void ks_row_hdr(struct ks_hdr *h, uint32_t pid, uint32_t tid, uint64_t cgroup,
		const char *comm);

/*
 * A kernel table of per-process rows (the key starts with the process's u32 pid), read
 * each interval: the change of every row since the last read, the whole count, and the
 * rows of processes that exited (ks_rows_gone) deleted from the kernel's table once a read
 * has shown their last change. The kernel's table is not cleared otherwise: a plain
 * delete could fall between an update and the read that should have seen it. With @evict
 * (tables whose rows grow with the peers of long-lived processes: a flow or a server
 * endpoint has no close), once a read finds the table three quarters full, the rows it
 * found unchanged since the read before leave it by the kernel's lookup-and-delete, which
 * hands over each one's last value: what it counted between the read and its delete is
 * one more change, nothing is lost, and an update after it makes the row anew, counted
 * from zero. Kernels without lookup-and-delete on hash tables (before 5.14) keep every
 * row (@no_take says so): the table fills and counts its refusals as lost.
 */
struct ks_task_rows {
	size_t rowsz, voff;		/* the row struct: key at 0, value at voff */
	ks_row_cmp cmp;			/* by key */
	bool (*sub)(void *row, const void *prev);	/* as for ks_rows_deltas */
	uint64_t (*count)(const void *row);		/* what a row counts, for the totals */
	/* the reader's state */
	void *prev;			/* the last read's rows, sorted by key */
	size_t nprev;
	struct ks_pidset gone;		/* processes that exited since the last read */
	uint64_t gone_count;		/* counted in rows deleted so far */
	bool evict;			/* idle rows leave a filling table */
	bool no_take;			/* the kernel has no lookup-and-delete here */
	uint64_t evicted;		/* rows taken so far */
};

#define KS_TASK_ROWS(type, cmp_, sub_, count_)                                          \
	{ .rowsz = sizeof(type), .voff = offsetof(type, v), .cmp = (cmp_), .sub = (sub_),   \
	  .count = (count_) }

/* Process @pid exited: its rows go after the next read. */
int ks_task_rows_gone(struct ks_task_rows *t, uint32_t pid);

/*
 * Read @map: the rows that changed since the last read, in a new array (*@out, NULL when
 * out of memory), and their count; *@total is everything the table has counted (rows
 * deleted included), for ks_ctx_aggregated.
 */
size_t ks_task_rows_read(struct ks_task_rows *t, struct bpf_map *map, uint64_t *total,
			 void **out);

void ks_task_rows_free(struct ks_task_rows *t);

#endif
