// SPDX-License-Identifier: GPL-2.0
#include "core/pidset.h"

#include <stdlib.h>

int ks_pidset_add(struct ks_pidset *s, uint32_t pid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *p = realloc(s->pid, cap * sizeof(*p));

		if (!p)
			return -1;
		s->pid = p;
		s->cap = cap;
	}
	s->pid[s->n++] = pid;
	s->sorted = false;
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

bool ks_pidset_has(struct ks_pidset *s, uint32_t pid)
{
	if (!s->n)
		return false;
	if (!s->sorted) {
		qsort(s->pid, s->n, sizeof(*s->pid), by_pid);
		s->sorted = true;
	}
	return bsearch(&pid, s->pid, s->n, sizeof(*s->pid), by_pid) != NULL;
}

void ks_pidset_clear(struct ks_pidset *s)
{
	s->n = 0;
	s->sorted = true;
}

void ks_pidset_free(struct ks_pidset *s)
{
	free(s->pid);
	*s = (struct ks_pidset){ 0 };
}
