// SPDX-License-Identifier: GPL-2.0
#include "core/rows.h"

#include "common.h"
#include "core/clock.h"
#include "core/maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
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

/* @d (@m rows) and then @d2 (@m2), in *@out (@d grown); both freed, and 0, when either
 * is NULL (out of memory). */
static size_t rows_concat(size_t rowsz, char *d, size_t m, char *d2, size_t m2, void **out)
{
	char *all = d && d2 && m2 ? realloc(d, (m + m2) * rowsz) : d;

	*out = NULL;
	if (!all || !d2) {
		free(all ? all : d);
		free(d2);
		return 0;
	}
	if (m2)
		memcpy(all + m * rowsz, d2, m2 * rowsz);
	free(d2);
	*out = all;
	return m + m2;
}

/*
 * The table filling (t->evict): the rows of @cur (@n, just read) that did not change
 * since the read before (@prev, @nprev) leave the kernel's table by lookup-and-delete,
 * and @cur; what each counted between the read and the delete is one more change, into
 * @d2 (*@m2 rows, room for @n). Returns the rows kept in @cur.
 */
static size_t evict_idle(struct ks_task_rows *t, struct bpf_map *map, char *cur, size_t n,
			 const void *prev, size_t nprev, uint64_t *total, char *d2, size_t *m2)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		char *row = cur + i * t->rowsz, *last = d2 + *m2 * t->rowsz;
		const char *p = t->no_take ? NULL :
				ks_rows_find(row, prev, nprev, t->rowsz, t->cmp);

		if (!p || memcmp(row, p, t->rowsz)) {
			memmove(cur + kept++ * t->rowsz, row, t->rowsz);
			continue;	/* moved in the last interval (or new): not idle */
		}
		memcpy(last, row, t->rowsz);
		if (bpf_map_lookup_and_delete_elem(bpf_map__fd(map), last, last + t->voff)) {
			if (errno != ENOENT) {
				t->no_take = true;	/* before 5.14: none on a hash table */
				memmove(cur + kept++ * t->rowsz, row, t->rowsz);
			}
			continue;
		}
		t->evicted++;
		t->gone_count += t->count(last);
		*total += t->count(last) - t->count(row);
		if (t->sub(last, row))
			(*m2)++;
	}
	return kept;
}

size_t ks_task_rows_read(struct ks_task_rows *t, struct bpf_map *map, uint64_t *total,
			 void **out)
{
	char *cur, *d, *d2 = NULL;
	size_t n, m, m2 = 0, kept = 0;

	*total = t->gone_count;
	*out = NULL;
	n = ks_map_rows(map, t->rowsz, t->voff, t->cmp, (void **)&cur);
	if (!cur)
		return 0;
	m = ks_rows_deltas(cur, n, t->prev, t->nprev, t->rowsz, t->cmp, t->sub, (void **)&d);
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
	if (t->evict && !t->no_take && kept >= bpf_map__max_entries(map) / 4 * 3 &&
	    (d2 = calloc(kept, t->rowsz)))
		kept = evict_idle(t, map, cur, kept, t->prev, t->nprev, total, d2, &m2);
	free(t->prev);
	t->prev = cur;
	t->nprev = kept;
	if (!d2) {
		*out = d;
		return d ? m : 0;
	}
	return rows_concat(t->rowsz, d, m, d2, m2, out);
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
