// SPDX-License-Identifier: GPL-2.0
/*
 * DWARF lookups for the symbolizer (core/symdwarf.h). The address ranges of every unit
 * are read once at open into a sorted table (libdw's own lookup needs .debug_aranges,
 * which current compilers no longer emit); an address then costs a binary search, the
 * unit's scopes at it (dwarf_getscopes, then the scopes around the innermost function
 * found, which name the calls it was inlined into), and is kept for the next sample at it.
 */
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/symdwarf.h"

#define MEMO_BUCKETS 4096

struct cu_range {
	uint64_t lo, hi;	/* [lo, hi) */
	Dwarf_Off die;		/* the unit's DIE */
};

struct memo {
	struct memo *next;
	uint64_t vaddr;
	struct ks_src src;	/* ninl == ~0u: looked up, nothing found */
};

struct ks_dwarf {
	int fd;
	Dwarf *dw;
	struct cu_range *cus;
	size_t ncus, cap;
	struct memo *memo[MEMO_BUCKETS];
};

static int add_range(struct ks_dwarf *d, uint64_t lo, uint64_t hi, Dwarf_Off die)
{
	if (d->ncus == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct cu_range *n = realloc(d->cus, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->cus = n;
		d->cap = cap;
	}
	d->cus[d->ncus++] = (struct cu_range){ lo, hi, die };
	return 0;
}

static int by_lo(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int read_units(struct ks_dwarf *d)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;

	while (dwarf_get_units(d->dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;

		while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0)
			if (hi > lo && add_range(d, lo, hi, dwarf_dieoffset(&cudie)))
				return -ENOMEM;
	}
	qsort(d->cus, d->ncus, sizeof(*d->cus), by_lo);
	return 0;
}

struct ks_dwarf *ks_dwarf_open(const char *path)
{
	struct ks_dwarf *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0)
		goto fail;
	d->dw = dwarf_begin(d->fd, DWARF_C_READ);
	if (!d->dw) {
		errno = ENODATA;
		goto fail;
	}
	if (read_units(d))
		goto fail;
	if (!d->ncus) {
		errno = ENODATA;
		goto fail;
	}
	return d;
fail:
	ks_dwarf_free(d);
	return NULL;
}

void ks_dwarf_free(struct ks_dwarf *d)
{
	int err = errno;

	if (!d)
		return;
	for (int i = 0; i < MEMO_BUCKETS; i++)
		while (d->memo[i]) {
			struct memo *m = d->memo[i];

			d->memo[i] = m->next;
			free(m);
		}
	free(d->cus);
	if (d->dw)
		dwarf_end(d->dw);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	errno = err;
}

/* The unit covering @vaddr: the last range starting at or below it that holds it. Ranges
 * of different units do not overlap, so the one starting last is the only candidate. */
static const struct cu_range *unit_of(const struct ks_dwarf *d, uint64_t vaddr)
{
	size_t lo = 0, hi = d->ncus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->cus[mid].lo <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && vaddr < d->cus[lo - 1].hi ? &d->cus[lo - 1] : NULL;
}

/* Name and definition of @die, through its abstract origin (an inlined or out-of-line
 * instance names none of it itself). */
static void describe(Dwarf_Die *die, struct ks_srcfn *out, bool named)
{
	Dwarf_Attribute a;
	int line = 0;

	if (named)
		out->name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	out->file = dwarf_decl_file(die);
	if (!dwarf_decl_line(die, &line) && line > 0)
		out->line = line;
}

/* The innermost function scope (inlined or not) of @n @scopes, or -1. */
static int innermost_fn(Dwarf_Die *scopes, int n)
{
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram)
			return i;
	}
	return -1;
}

/* Fill @src from the scopes at @vaddr in unit @r. Returns 0, or -ENOENT. */
static int lookup(struct ks_dwarf *d, const struct cu_range *r, uint64_t vaddr,
		  struct ks_src *src)
{
	Dwarf_Die cudie, *scopes = NULL, *chain = NULL, *inl[64];
	int n, i, ninl = 0, fn = -1, ret = -ENOENT;

	if (!dwarf_offdie(d->dw, r->die, &cudie))
		return -ENOENT;
	n = dwarf_getscopes(&cudie, vaddr, &scopes);
	if ((i = innermost_fn(scopes, n)) < 0)
		goto out;
	/* past an inlined call, getscopes goes on with the inlined function's abstract
	 * scopes; the calls around it and the function holding them are the scopes of the
	 * call's own DIE, innermost first */
	n = dwarf_getscopes_die(&scopes[i], &chain);
	for (i = 0; i < n && fn < 0; i++) {
		int tag = dwarf_tag(&chain[i]);

		if (tag == DW_TAG_inlined_subroutine && ninl < (int)(sizeof(inl) / sizeof(*inl)))
			inl[ninl++] = &chain[i];
		else if (tag == DW_TAG_subprogram)
			fn = i;
	}
	if (fn < 0)
		goto out;
	describe(&chain[fn], &src->fn, false);
	/* outermost first; the deepest ones past KS_INL_MAX are counted, not named */
	for (i = ninl - 1; i >= 0; i--) {
		if (src->ninl == KS_INL_MAX) {
			src->inl_cut++;
			continue;
		}
		describe(inl[i], &src->inl[src->ninl++], true);
	}
	ret = 0;
out:
	free(scopes);
	free(chain);
	return ret;
}

const struct ks_src *ks_dwarf_lookup(struct ks_dwarf *d, uint64_t vaddr)
{
	struct memo **b = &d->memo[(vaddr * 0x9e3779b97f4a7c15ULL) >> 52];
	const struct cu_range *r;
	struct memo *m;

	for (m = *b; m; m = m->next)
		if (m->vaddr == vaddr)
			return m->src.ninl == ~0u ? NULL : &m->src;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->vaddr = vaddr;
	if (!(r = unit_of(d, vaddr)) || lookup(d, r, vaddr, &m->src)) {
		memset(&m->src, 0, sizeof(m->src));
		m->src.ninl = ~0u;
	}
	m->next = *b;
	*b = m;
	return m->src.ninl == ~0u ? NULL : &m->src;
}
