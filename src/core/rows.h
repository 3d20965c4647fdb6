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

#endif
