// SPDX-License-Identifier: GPL-2.0
#include "core/rows.h"

#include "core/maps.h"

#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

size_t ks_map_rows(struct bpf_map *map, size_t rowsz, size_t voff, ks_row_cmp cmp, void **out)
{
	size_t cap = bpf_map__max_entries(map), n = 0;
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	char *keys = NULL, *vals = NULL, *rows = NULL;

	*out = NULL;
	if (ksz > voff || voff + vsz > rowsz)
		return 0;
	keys = calloc(cap, ksz);
	vals = calloc(cap, vsz);
	rows = calloc(cap ? cap : 1, rowsz);
	if (!keys || !vals || !rows) {
		free(rows);
		goto out;
	}
	n = ks_map_dump(map, keys, vals, cap);
	for (size_t i = 0; i < n; i++) {
		memcpy(rows + i * rowsz, keys + i * ksz, ksz);
		memcpy(rows + i * rowsz + voff, vals + i * vsz, vsz);
	}
	qsort(rows, n, rowsz, cmp);
	*out = rows;
out:
	free(keys);
	free(vals);
	return n;
}

const void *ks_rows_find(const void *row, const void *rows, size_t n, size_t rowsz,
			 ks_row_cmp cmp)
{
	return rows ? bsearch(row, rows, n, rowsz, cmp) : NULL;
}

size_t ks_rows_deltas(const void *cur, size_t n, const void *prev, size_t nprev, size_t rowsz,
		      ks_row_cmp cmp, bool (*sub)(void *row, const void *prev), void **out)
{
	char *d = calloc(n ? n : 1, rowsz);
	size_t m = 0;

	*out = d;
	for (size_t i = 0; d && i < n; i++) {
		const char *row = (const char *)cur + i * rowsz;
		const void *p = ks_rows_find(row, prev, nprev, rowsz, cmp);

		memcpy(d + m * rowsz, row, rowsz);
		if (sub(d + m * rowsz, p))
			m++;
	}
	return m;
}
