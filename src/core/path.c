// SPDX-License-Identifier: GPL-2.0
#include "core/path.h"

#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t len, n;		/* capacity, bytes of the full result */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n < o->len) {
		size_t room = o->len - o->n;

		memcpy(o->p + o->n, s, n < room ? n : room);
	}
	o->n += n;
}

/* Append the components of @s[0..n), dropping empty and "." ones. */
static void components(struct out *o, const char *s, size_t n, bool *first)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != '/')
			j++;
		if (j > i && !(j - i == 1 && s[i] == '.')) {
			if (!*first)
				put(o, "/", 1);
			put(o, s + i, j - i);
			*first = false;
		}
		i = j + 1;
	}
}

size_t ks_path_join(const char *base, size_t blen, bool base_cut, const char *arg, size_t alen,
		    char *out, size_t len, bool *cut)
{
	struct out o = { out, len, 0 };
	bool first = false, abs_arg, have_base;

	alen = arg ? strnlen(arg, alen) : 0;
	blen = base ? strnlen(base, blen) : 0;
	abs_arg = alen && arg[0] == '/';
	have_base = blen && !abs_arg;
	if (have_base && base_cut)
		put(&o, "...", 3);
	if (abs_arg || (have_base && base[0] == '/')) {
		put(&o, "/", 1);
		first = true;
	} else if (!have_base) {
		first = true;	/* relative, unresolved: no leading slash */
	}
	if (have_base)
		components(&o, base, blen, &first);
	components(&o, arg, alen, &first);
	if (first && !o.n)
		put(&o, ".", 1);	/* an empty relative path */
	if (len) {
		size_t end = o.n < len ? o.n : len - 1;

		out[end] = 0;
	}
	if (cut)
		*cut = o.n >= len;
	return o.n;
}

char *ks_path_join_dup(const char *base, const char *arg)
{
	size_t blen = base ? strlen(base) : 0, alen = arg ? strlen(arg) : 0;
	size_t n = ks_path_join(base, blen, false, arg, alen, NULL, 0, NULL);
	char *s = malloc(n + 1);

	if (s)
		ks_path_join(base, blen, false, arg, alen, s, n + 1, NULL);
	return s;
}
