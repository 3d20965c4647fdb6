// SPDX-License-Identifier: GPL-2.0
#include "core/kfuncs.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elflist.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***v, int *n, int *cap, const char *s)
{
	if (*n == *cap) {
		int c = *cap ? *cap * 2 : 1024;
		char **nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Sort @v and keep each name once; returns the new count. */
static int uniq(char **v, int n)
{
	int k = 0;

	if (n)
		qsort(v, n, sizeof(*v), by_name);
	for (int i = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

/* available_filter_functions' names matching @glob ("name [module]" lines), sorted. */
static int traceable_names(const char *tracefs, const char *glob, char ***out)
{
	char path[256], line[512];
	int n = 0, cap = 0, err = 0;
	char **v = NULL;
	FILE *f;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/available_filter_functions", tracefs);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\n")] = 0;
		if (line[0] && !fnmatch(glob, line, 0))
			err = push(&v, &n, &cap, line);
	}
	fclose(f);
	if (err) {
		ks_elf_names_free(v, n);
		return err;
	}
	*out = v;
	return uniq(v, n);
}

int ks_kfuncs(const struct btf *btf, const char *tracefs, const char *glob, char ***out,
	      bool *traceable)
{
	int n = 0, cap = 0, err = 0, nt = -ENOENT, k = 0;
	char **v = NULL, **t = NULL;

	*out = NULL;
	*traceable = false;
	for (__u32 id = 1; !err && id < btf__type_cnt(btf); id++) {
		const struct btf_type *bt = btf__type_by_id(btf, id);
		const char *name;

		if (!btf_is_func(bt))
			continue;
		name = btf__name_by_offset(btf, bt->name_off);
		if (name && *name && !fnmatch(glob, name, 0))
			err = push(&v, &n, &cap, name);
	}
	if (err) {
		ks_elf_names_free(v, n);
		return err;
	}
	n = uniq(v, n);
	if (tracefs)
		nt = traceable_names(tracefs, glob, &t);
	if (nt >= 0) {
		*traceable = true;
		for (int i = 0; i < n; i++) {
			if (bsearch(&v[i], t, nt, sizeof(*t), by_name))
				v[k++] = v[i];
			else
				free(v[i]);
		}
		n = k;
		ks_elf_names_free(t, nt);
	}
	*out = v;
	return n;
}
