// SPDX-License-Identifier: GPL-2.0
#include "analyze/topn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_topn {
	size_t cap, used, nslots;
	uint64_t total;
	struct ks_topn_item other;
	struct ks_topn_item *slots;	/* open addressing, nslots = 2 * cap rounded to 2^k */
};

struct ks_topn *ks_topn__new(size_t cap)
{
	struct ks_topn *t = calloc(1, sizeof(*t));
	size_t n = 16;

	if (!t)
		return NULL;
	while (n < 2 * cap)
		n *= 2;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->cap = cap;
	t->nslots = n;
	strcpy(t->other.key, "other");
	return t;
}

void ks_topn__free(struct ks_topn *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

void ks_topn__add(struct ks_topn *t, const char *key, size_t keylen, uint64_t n)
{
	size_t len = strnlen(key, keylen), i;

	if (!n)
		return;	/* a zero count marks a free place: it must not take one */
	if (len > KS_TOPN_KEY - 1)
		len = KS_TOPN_KEY - 1;
	t->total += n;
	for (i = hash(key, len) & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		struct ks_topn_item *it = &t->slots[i];

		if (!it->count) {
			if (t->used >= t->cap) {
				t->other.count += n;
				return;
			}
			memcpy(it->key, key, len);
			it->key[len] = 0;
			it->count = n;
			t->used++;
			return;
		}
		if (!strncmp(it->key, key, len) && !it->key[len]) {
			it->count += n;
			return;
		}
	}
}

static int cmp(const void *a, const void *b)
{
	const struct ks_topn_item *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

size_t ks_topn__top(const struct ks_topn *t, size_t k, struct ks_topn_item *out)
{
	size_t n = 0;

	/* simple: collect, sort; summaries run once per interval */
	struct ks_topn_item *all = malloc((t->used + 1) * sizeof(*all));

	if (!all)
		return 0;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].count)
			all[n++] = t->slots[i];
	if (t->other.count)
		all[n++] = t->other;
	qsort(all, n, sizeof(*all), cmp);
	if (n > k)
		n = k;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

uint64_t ks_topn__total(const struct ks_topn *t)
{
	return t->total;
}

void ks_topn__reset(struct ks_topn *t)
{
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->used = 0;
	t->total = 0;
	t->other.count = 0;
}

void ks_topn__format(const struct ks_topn *t, size_t k, char *buf, size_t len)
{
	struct ks_topn_item items[16];
	size_t n = ks_topn__top(t, k < 16 ? k : 16, items), off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s %llu", i ? ", " : "", items[i].key,
				(unsigned long long)items[i].count);
}
