// SPDX-License-Identifier: GPL-2.0
/*
 * The names of a program's row in `ksight status --live` (status_names.h). What a
 * trace instance runs for is read from its object's .rodata map: any process may read a
 * frozen map, and the map's BTF (the object's) places the variable, so that nothing but
 * its name is agreed on with the BPF side.
 */
#include "cli/status_names.h"

#include <bpf/btf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVES_VAR "trace_serves"

void ks_prog_full_name(int fd, const struct bpf_prog_info *info, char *buf, size_t len)
{
	struct bpf_func_info fi[1];
	struct bpf_prog_info again = {
		.nr_func_info = 1,
		.func_info_rec_size = sizeof(fi[0]),
		.func_info = (__u64)(unsigned long)fi,
	};
	__u32 l = sizeof(again);
	const struct btf_type *t;
	struct btf *btf;

	snprintf(buf, len, "%s", info->name);
	if (!info->btf_id || !info->nr_func_info || bpf_obj_get_info_by_fd(fd, &again, &l))
		return;
	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return;
	t = btf__type_by_id(btf, fi[0].type_id);
	if (t)
		snprintf(buf, len, "%s", btf__name_by_offset(btf, t->name_off));
	btf__free(btf);
}

/* Where SERVES_VAR is in the data section @sec of @btf: its offset, or -1. */
static long var_offset(const struct btf *btf, __u32 sec, size_t *size)
{
	const struct btf_type *t = btf__type_by_id(btf, sec);
	const struct btf_var_secinfo *v;

	if (!t || !btf_is_datasec(t))
		return -1;
	v = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (var && !strcmp(btf__name_by_offset(btf, var->name_off), SERVES_VAR)) {
			*size = v->size;
			return v->offset;
		}
	}
	return -1;
}

/* SERVES_VAR of map @id when it is an object's .rodata: 0, else -1. */
static int map_serves(__u32 id, char *buf, size_t len)
{
	struct bpf_map_info mi = {};
	__u32 ml = sizeof(mi), zero = 0;
	int fd = bpf_map_get_fd_by_id(id), rc = -1;
	struct btf *btf = NULL;
	char *val = NULL;
	size_t size = 0;
	long off;

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &mi, &ml) || mi.type != BPF_MAP_TYPE_ARRAY ||
	    !strstr(mi.name, ".rodata") || !mi.btf_id || !mi.btf_value_type_id)
		goto cleanup;
	btf = btf__load_from_kernel_by_id(mi.btf_id);
	if (!btf || (off = var_offset(btf, mi.btf_value_type_id, &size)) < 0 || !size ||
	    off + size > mi.value_size)
		goto cleanup;
	val = calloc(1, mi.value_size);
	if (!val || bpf_map_lookup_elem(fd, &zero, val))
		goto cleanup;
	val[off + size - 1] = 0;
	snprintf(buf, len, "%s", val + off);
	rc = buf[0] ? 0 : -1;
cleanup:
	free(val);
	btf__free(btf);
	close(fd);
	return rc;
}

int ks_prog_serves(int fd, const struct bpf_prog_info *info, char *buf, size_t len)
{
	__u32 ids[64], n = info->nr_map_ids < 64 ? info->nr_map_ids : 64, l;
	struct bpf_prog_info again = { .nr_map_ids = n, .map_ids = (__u64)(unsigned long)ids };

	buf[0] = 0;
	l = sizeof(again);
	if (!n || bpf_obj_get_info_by_fd(fd, &again, &l))
		return -1;
	for (__u32 i = 0; i < n; i++)
		if (!map_serves(ids[i], buf, len))
			return 0;
	buf[0] = 0;
	return -1;
}
