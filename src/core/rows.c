// SPDX-License-Identifier: GPL-2.0
#include "core/rows.h"

#include "common.h"
#include "core/clock.h"
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

int ks_task_rows_gone(struct ks_task_rows *t, uint32_t pid)
{
	return ks_pidset_add(&t->gone, pid);
}

size_t ks_task_rows_read(struct ks_task_rows *t, struct bpf_map *map, uint64_t *total,
			 void **out)
{
	char *cur;
	size_t n, m, kept = 0;

	*total = t->gone_count;
	*out = NULL;
	n = ks_map_rows(map, t->rowsz, t->voff, t->cmp, (void **)&cur);
	if (!cur)
		return 0;
	m = ks_rows_deltas(cur, n, t->prev, t->nprev, t->rowsz, t->cmp, t->sub, out);
	for (size_t i = 0; i < n; i++) {
		char *row = cur + i * t->rowsz;
		uint32_t pid;

		memcpy(&pid, row, sizeof(pid));
		*total += t->count(row);
		if (ks_pidset_has(&t->gone, pid)) {
			bpf_map__delete_elem(map, row, bpf_map__key_size(map), 0);
			t->gone_count += t->count(row);
			continue;
		}
		memmove(cur + kept++ * t->rowsz, row, t->rowsz);
	}
	ks_pidset_clear(&t->gone);
	free(t->prev);
	t->prev = cur;
	t->nprev = kept;
	return *out ? m : 0;
}

void ks_task_rows_free(struct ks_task_rows *t)
{
	free(t->prev);
	t->prev = NULL;
	t->nprev = 0;
	ks_pidset_free(&t->gone);
}

void ks_row_hdr(struct ks_hdr *h, uint32_t pid, uint32_t tid, uint64_t cgroup,
		const char *comm)
{
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->tid = tid ? tid : pid;
	h->cgroup = cgroup;
	h->flags = KS_HDR_F_OWNER;
	h->ts = ks_clock_mono_now();
	memcpy(h->comm, comm, sizeof(h->comm));
}
