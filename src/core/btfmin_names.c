// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's named types by essential name (libbpf's CO-RE rule: "task_struct___old"
 * names task_struct), hashed once per process, so each relocated name is one lookup
 * instead of libbpf's walk of every type per name and object.
 */
#include "core/btfmin_int.h"

#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct {
	const struct btf *btf;	/* the parse the index was made from */
	__u32 *head;		/* bucket -> first type id + 1 (0: empty) */
	__u32 *next;		/* type id -> next id + 1 in its bucket */
	__u32 mask;
	pthread_mutex_t lock;
} ix = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A flavor is the last "X___Y" with X and Y not underscores: the name ends at X. */
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

void ks_btfmin_free(void)
{
	pthread_mutex_lock(&ix.lock);
	free(ix.head);
	free(ix.next);
	ix.head = ix.next = NULL;
	ix.btf = NULL;
	pthread_mutex_unlock(&ix.lock);
}
