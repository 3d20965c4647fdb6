// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's named types by essential name (libbpf's CO-RE rule: "task_struct___old"
 * names task_struct), hashed once per process, so each relocated name is one lookup
 * instead of libbpf's walk of every type per name and object.
 */
#include "core/btfmin_int.h"

#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	const struct btf *btf;	/* the parse the index was made from */
	__u32 *head;		/* bucket -> first type id + 1 (0: empty) */
	__u32 *next;		/* type id -> next id + 1 in its bucket */
	__u32 mask;
	struct btf **mods;	/* the loaded modules' BTF, read on a first miss */
	char (*mod_names)[64];
	int nmods;
	bool mods_read;
	pthread_mutex_t lock;
} ix = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A flavor is the last "X___Y" with X and Y not underscores: the name ends at X. */
static void free_modules(void);

size_t ks_btfmin_essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n >= 5 ? n - 4 : 0; i-- > 0;)
		if (name[i] != '_' && !strncmp(name + i + 1, "___", 3) && name[i + 4] != '_')
			return i + 1;
	return n;
}

static __u32 hash(const char *s, size_t n)
{
	__u32 h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The kinds a CO-RE relocation can name (functions, variables and sections never). */
static bool relocatable(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
		return true;
	default:
		return false;
	}
}

int ks_btfmin_names_build(const struct btf *btf)
{
	__u32 n = btf__type_cnt(btf), buckets = 1;
	int err = 0;

	pthread_mutex_lock(&ix.lock);
	if (ix.btf == btf)
		goto out;
	free(ix.head);
	free(ix.next);
	free_modules();		/* split on the parse before */
	ix.btf = NULL;
	while (buckets < n / 2)
		buckets <<= 1;
	ix.head = calloc(buckets, sizeof(*ix.head));
	ix.next = calloc(n, sizeof(*ix.next));
	if (!ix.head || !ix.next) {
		err = -ENOMEM;
		goto out;
	}
	ix.mask = buckets - 1;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;
		__u32 b;

		if (!t->name_off || !relocatable(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		b = hash(name, ks_btfmin_essential_len(name)) & ix.mask;
		ix.next[id] = ix.head[b];
		ix.head[b] = id + 1;
	}
	ix.btf = btf;
out:
	pthread_mutex_unlock(&ix.lock);
	return err;
}

int ks_btfmin_names_find(const char *name, size_t len, __u32 *ids, int max)
{
	int n = 0;

	for (__u32 e = ix.head[hash(name, len) & ix.mask]; e; e = ix.next[e - 1]) {
		const char *other = btf__name_by_offset(ix.btf, btf__type_by_id(ix.btf, e - 1)->name_off);

		if (ks_btfmin_essential_len(other) != len || strncmp(other, name, len))
			continue;
		if (n == max)
			return -E2BIG;
		ids[n++] = e - 1;
	}
	return n;
}

/* Every loaded module's BTF, split on the kernel's (the files libbpf's search reads
 * through the bpf syscall). Returns 0 or -errno. */
static int read_modules(void)
{
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *de;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;	/* no module BTF: nothing to look at */
	while (!err && (de = readdir(d))) {
		char path[320];
		struct btf *b, **mods;
		char(*names)[64] = NULL;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		b = btf__parse_split(path, (struct btf *)ix.btf);
		if (!b) {
			err = -errno;
			break;
		}
		mods = realloc(ix.mods, (ix.nmods + 1) * sizeof(*mods));
		if (mods) {
			ix.mods = mods;
			names = realloc(ix.mod_names, (ix.nmods + 1) * sizeof(*names));
		}
		if (!names) {
			btf__free(b);
			err = -ENOMEM;
			break;
		}
		ix.mod_names = names;
		ix.mods[ix.nmods] = b;
		snprintf(ix.mod_names[ix.nmods++], sizeof(*ix.mod_names), "%.63s", de->d_name);
	}
	closedir(d);
	return err;
}

int ks_btfmin_in_module(const char *name, size_t len, const char **module)
{
	int err = 0;

	pthread_mutex_lock(&ix.lock);
	if (!ix.mods_read) {
		err = read_modules();
		ix.mods_read = !err;
	}
	for (int m = 0; m < ix.nmods && !err; m++) {
		__u32 n = btf__type_cnt(ix.mods[m]);

		for (__u32 id = btf__type_cnt(ix.btf); id < n; id++) {
			const struct btf_type *t = btf__type_by_id(ix.mods[m], id);
			const char *other = btf__name_by_offset(ix.mods[m], t->name_off);

			if (relocatable(t) && other && ks_btfmin_essential_len(other) == len &&
			    !strncmp(other, name, len)) {
				*module = ix.mod_names[m];
				err = 1;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ix.lock);
	return err;
}

static void free_modules(void)
{
	for (int m = 0; m < ix.nmods; m++)
		btf__free(ix.mods[m]);
	free(ix.mods);
	free(ix.mod_names);
	ix.mods = NULL;
	ix.mod_names = NULL;
	ix.nmods = 0;
	ix.mods_read = false;
}

void ks_btfmin_free(void)
{
	pthread_mutex_lock(&ix.lock);
	free(ix.head);
	free(ix.next);
	ix.head = ix.next = NULL;
	free_modules();
	ix.btf = NULL;
	pthread_mutex_unlock(&ix.lock);
}
