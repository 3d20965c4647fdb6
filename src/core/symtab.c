// SPDX-License-Identifier: GPL-2.0
#include "core/symtab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_symtab_add(struct ks_symtab *t, uint64_t addr, uint64_t size, const char *name,
		  size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct ks_sym *s = realloc(t->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->syms = s;
		t->cap = cap;
	}
	if (t->pool_len + len + 1 > t->pool_cap) {
		size_t cap = t->pool_cap ? t->pool_cap * 2 : 4096;
		char *p;

		while (cap < t->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX || !(p = realloc(t->pool, cap)))
			return -ENOMEM;
		t->pool = p;
		t->pool_cap = cap;
	}
	memcpy(t->pool + t->pool_len, name, len);
	t->pool[t->pool_len + len] = 0;
	t->syms[t->n++] = (struct ks_sym){ addr, size > UINT32_MAX ? 0 : (uint32_t)size,
					   (uint32_t)t->pool_len };
	t->pool_len += len + 1;
	t->sorted = false;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct ks_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the first added first: a stable order for the duplicates */
	return x->name < y->name ? -1 : x->name > y->name;
}

void ks_symtab_sort(struct ks_symtab *t)
{
	size_t w = 0;

	if (t->n)
		qsort(t->syms, t->n, sizeof(*t->syms), by_addr);
	for (size_t i = 0; i < t->n; i++) {
		if (w && t->syms[w - 1].addr == t->syms[i].addr) {
			/* an alias: keep the first name, the larger size */
			if (t->syms[i].size > t->syms[w - 1].size)
				t->syms[w - 1].size = t->syms[i].size;
			continue;
		}
		t->syms[w++] = t->syms[i];
	}
	t->n = w;
	t->sorted = true;
	/* tables live as long as the cache: give back what doubling left over (a large
	 * block shrinks in place, its pages returned) */
	if (t->n && t->n < t->cap) {
		struct ks_sym *sy = realloc(t->syms, t->n * sizeof(*sy));

		if (sy) {
			t->syms = sy;
			t->cap = t->n;
		}
	}
	if (t->pool_len && t->pool_len < t->pool_cap) {
		char *p = realloc(t->pool, t->pool_len);

		if (p) {
			t->pool = p;
			t->pool_cap = t->pool_len;
		}
	}
}

const char *ks_symtab_find(const struct ks_symtab *t, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = t->n;
	const struct ks_sym *s;

	if (!t->sorted || !t->n)
		return NULL;
	/* the first symbol above @addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &t->syms[lo - 1];
	/* the last symbol, of unknown size, is taken to span at most 64 KiB */
	if (s->size ? addr - s->addr >= s->size : lo == t->n && addr - s->addr >= 65536)
		return NULL;
	if (off)
		*off = addr - s->addr;
	return t->pool + s->name;
}

void ks_symtab_free(struct ks_symtab *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->pool);
	memset(t, 0, sizeof(*t));
}

/* sscanf would measure the whole remaining text on every call (quadratic on 10 MB of
 * kallsyms): fields are cut by hand. */
static const char *field(const char *p, const char *eol, const char **end)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	for (*end = p; *end < eol && **end != ' ' && **end != '\t'; (*end)++)
		;
	return p;
}

int ks_kallsyms_parse(const char *text, struct ks_symtab *t)
{
	const char *p = text;
	bool nonzero = false;
	int n = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *a, *ae, *ty, *te, *name, *end;
		unsigned long long addr;
		char *num_end;

		if (!eol)
			eol = p + strlen(p);
		a = field(p, eol, &ae);
		ty = field(ae, eol, &te);
		name = field(te, eol, &end);
		addr = strtoull(a, &num_end, 16);
		/* "addr type name[\t[module]]": the name alone */
		if (num_end == ae && ae > a && te - ty == 1 && end > name) {
			if (addr)
				nonzero = true;
			if (strchr("tTwW", *ty)) {
				if (ks_symtab_add(t, addr, 0, name, end - name))
					return -ENOMEM;
				n++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	if (!nonzero && n) {
		ks_symtab_free(t);
		return -EPERM;
	}
	ks_symtab_sort(t);
	return n;
}

void ks_mappings_free(struct ks_mapping *m, int n)
{
	for (int i = 0; m && i < n; i++)
		free(m[i].path);
	free(m);
}

static const char DELETED[] = " (deleted)";

int ks_maps_parse(const char *text, struct ks_mapping **out)
{
	struct ks_mapping *m = NULL;
	const char *p = text;
	int n = 0, cap = 0;

	*out = NULL;
	while (*p) {
		const char *eol = strchr(p, '\n');
		unsigned long long start, end, pgoff, inode;
		unsigned int maj, min;
		char perms[8], head[128];
		int used = 0;
		size_t plen;

		if (!eol)
			eol = p + strlen(p);
		/* sscanf on a copy of the line's head: on the whole text it would measure all
		 * of it every time */
		snprintf(head, sizeof(head), "%.*s", (int)(eol - p < 127 ? eol - p : 127), p);
		if (sscanf(head, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &inode, &used) != 7 || !used) {
			ks_mappings_free(m, n);
			return -EINVAL;
		}
		plen = p + used <= eol ? (size_t)(eol - (p + used)) : 0;
		if (perms[2] == 'x' && plen) {
			struct ks_mapping *e;
			const char *path = p + used;

			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				if (!(e = realloc(m, cap * sizeof(*m)))) {
					ks_mappings_free(m, n);
					return -ENOMEM;
				}
				m = e;
			}
			e = &m[n];
			memset(e, 0, sizeof(*e));
			e->start = start;
			e->end = end;
			e->pgoff = pgoff;
			e->inode = inode;
			e->dev = maj << 20 | min;
			if (plen > sizeof(DELETED) - 1 &&
			    !memcmp(path + plen - (sizeof(DELETED) - 1), DELETED, sizeof(DELETED) - 1)) {
				e->deleted = true;
				plen -= sizeof(DELETED) - 1;
			}
			if (!(e->path = strndup(path, plen))) {
				ks_mappings_free(m, n);
				return -ENOMEM;
			}
			n++;
		}
		p = *eol ? eol + 1 : eol;
	}
	*out = m;
	return n;
}

const struct ks_mapping *ks_mapping_find(const struct ks_mapping *m, int n, uint64_t addr)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (addr < m[mid].start)
			hi = mid;
		else if (addr >= m[mid].end)
			lo = mid + 1;
		else
			return &m[mid];
	}
	return NULL;
}

int ks_elf_offset_vaddr(const struct ks_elf_seg *segs, int n, uint64_t off, uint64_t *vaddr)
{
	for (int i = 0; i < n; i++)
		if (off >= segs[i].offset && off - segs[i].offset < segs[i].filesz) {
			*vaddr = off - segs[i].offset + segs[i].vaddr;
			return 0;
		}
	return -ENOENT;
}

int ks_debug_candidate(const char *path, const char *link, const uint8_t *id, size_t idlen,
		       const char *debug_root, int i, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path) : 0, n;

	if (idlen >= 2) {
		if (i == 0) {
			char hex[2 * 64 + 1];
			size_t k;

			for (k = 0; k < idlen && k < 64; k++)
				snprintf(hex + 2 * k, 3, "%02x", id[k]);
			n = snprintf(out, len, "%s/.build-id/%.2s/%s.debug", debug_root, hex, hex + 2);
			return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		}
		i--;
	}
	if (!link || !*link)
		return -ENOENT;
	switch (i) {
	case 0:
		n = snprintf(out, len, "%.*s/%s", dlen, path, link);
		break;
	case 1:
		n = snprintf(out, len, "%.*s/.debug/%s", dlen, path, link);
		break;
	case 2:
		n = snprintf(out, len, "%s%.*s/%s", debug_root, dlen, path, link);
		break;
	default:
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
