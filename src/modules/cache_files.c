// SPDX-License-Identifier: GPL-2.0
/*
 * cache: the per-file table (--files, --file). The kernel names a file by its inode and
 * its file system's device; a file given with --file is shown by its path, others as
 * "dev MAJ:MIN ino N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cache_int.h"

static int fkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cache_fkey));
}

static uint64_t fcount(const struct cache_frow *r)
{
	return r->v.accessed + r->v.added + r->v.dirtied;
}

static bool fsub(void *row, const void *prev)
{
	struct cache_frow *d = row;
	const struct cache_frow *o = prev;

	if (o) {
		d->v.accessed -= o->v.accessed;
		d->v.added -= o->v.added;
		d->v.dirtied -= o->v.dirtied;
	}
	return fcount(d);
}

static int by_busy(const void *a, const void *b)
{
	const struct cache_frow *x = a, *y = b;

	if (fcount(x) != fcount(y))
		return fcount(x) > fcount(y) ? -1 : 1;
	return fkey_cmp(a, b);
}

static const char *fname(const struct cache_state *st, const struct cache_fkey *k, char *buf,
			 size_t len)
{
	for (size_t i = 0; i < st->nfp; i++)
		if (st->fp[i].kdev == k->dev && st->fp[i].ino == k->ino)
			return st->fp[i].path;
	snprintf(buf, len, "dev %u:%u ino %llu", k->dev >> 20, k->dev & 0xfffff,
		 (unsigned long long)k->ino);
	return buf;
}

static bool named(const struct cache_state *st, const struct cache_fkey *k)
{
	for (size_t i = 0; i < st->nfp; i++)
		if (st->fp[i].kdev == k->dev && st->fp[i].ino == k->ino)
			return true;
	return false;
}

static void emit_file(struct ks_ctx *ctx, const struct cache_state *st, const struct cache_frow *p)
{
	uint64_t hits, misses;
	char buf[80];
	const char *name = fname(st, &p->k, buf, sizeof(buf));
	double ratio;
	struct ks_rec r;

	cache_hits_misses(p->v.accessed, p->v.added, p->v.dirtied, &hits, &misses);
	ratio = cache_ratio(hits, misses);
	ks_rec_init(&r, "cache_file", NULL);
	ks_rec_uint(&r, "dev_major", NULL, 0, p->k.dev >> 20);
	ks_rec_uint(&r, "dev_minor", NULL, 0, p->k.dev & 0xfffff);
	ks_rec_uint(&r, "ino", NULL, 0, p->k.ino);
	ks_rec_add(&r, "hits", "HITS", 10, KS_V_COUNT)->u = hits;
	ks_rec_add(&r, "misses", "MISSES", 10, KS_V_COUNT)->u = misses;
	ks_rec_add(&r, "dirties", "DIRTIES", 10, KS_V_COUNT)->u = p->v.dirtied;
	if (ratio >= 0)
		ks_rec_add(&r, "hit_pct", "HIT%", 7, KS_V_DOUBLE)->d = ratio;
	else
		ks_rec_str(&r, NULL, "HIT%", 7, "-", 1);
	ks_rec_uint(&r, "accessed", NULL, 0, p->v.accessed);
	ks_rec_uint(&r, "added", NULL, 0, p->v.added);
	ks_rec_str(&r, "file", "FILE", 0, name, strlen(name));
	ks_emit(ctx, &r);
}

void cache_report_files(struct ks_ctx *ctx, struct cache_state *st, struct bpf_map *map)
{
	struct cache_frow *cur, *d;
	uint64_t total = 0;
	size_t n, m, shown = 0;

	n = KS_MAP_ROWS(map, struct cache_frow, fkey_cmp, &cur);
	if (!cur)
		return;
	m = ks_rows_deltas(cur, n, st->fprev, st->nfprev, sizeof(*cur), fkey_cmp, fsub,
			   (void **)&d);
	if (!d) {
		free(cur);
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += fcount(&cur[i]);
	ks_ctx_aggregated(ctx, CACHE_EV_FILE, total);
	free(st->fprev);
	st->fprev = cur;
	st->nfprev = n;
	qsort(d, m, sizeof(*d), by_busy);
	/* --files: the busiest; --file alone: only the files named */
	for (size_t i = 0; i < m && (!st->top || shown < st->top); i++) {
		if (!st->files && !named(st, &d[i].k))
			continue;
		emit_file(ctx, st, &d[i]);
		shown++;
	}
	free(d);
}
