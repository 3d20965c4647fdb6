/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counts per short text key (a process name, a path) for "top" lists in summaries.
 * Bounded: once full, new keys are counted under "other" so totals stay exact.
 */
#ifndef KSIGHT_TOPN_H
#define KSIGHT_TOPN_H

#include <stddef.h>
#include <stdint.h>

#define KS_TOPN_KEY 48

struct ks_topn_item {
	char key[KS_TOPN_KEY];
	uint64_t count;
};

struct ks_topn;

/* A counter for up to @cap distinct keys. Returns NULL with errno set. */
struct ks_topn *ks_topn__new(size_t cap);
void ks_topn__free(struct ks_topn *t);

/* Add @n to @key (cut to KS_TOPN_KEY - 1 bytes). */
void ks_topn__add(struct ks_topn *t, const char *key, size_t keylen, uint64_t n);

/* The @k largest counts, largest first (ties by key), into @out. Returns how many. */
size_t ks_topn__top(const struct ks_topn *t, size_t k, struct ks_topn_item *out);

uint64_t ks_topn__total(const struct ks_topn *t);

/* "key count, key count" of the @k largest into @buf (empty when nothing was counted).
 * Keys are copied as they are: show the result as a kernel string (escaped). */
void ks_topn__format(const struct ks_topn *t, size_t k, char *buf, size_t len);
void ks_topn__reset(struct ks_topn *t);

#endif
