// SPDX-License-Identifier: GPL-2.0
#include "core/objects.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/btfmin.h"
#include "core/clock.h"
#include "core/session_int.h"

static void close_core_btf(struct ks_bpfobj *o)
{
	if (o->has_core_btf)
		close(o->core_btf);
	o->has_core_btf = false;
}

int ks_bpfobj_open(struct ks_bpfobj *o, const struct ks_bpf_obj *def)
{
	uint64_t t0 = ks_clock_mono_now();
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_program *p;
	char path[32];

	memset(o, 0, sizeof(*o));
	o->def = def;
	/* relocated against a minimal copy of the kernel's BTF when one can be made */
	o->core_btf = ks_btfmin_use(def->name, def->elf, &opts, path, sizeof(path),
				    &o->core_btf_types);
	o->has_core_btf = o->core_btf >= 0;
	o->skel = def->open(&opts, &o->obj);
	if (!o->skel) {
		int err = -(errno ?: EINVAL);

		close_core_btf(o);
		return err;
	}
	bpf_object__for_each_program(p, o->obj)
		bpf_program__set_autoload(p, false);
	o->load_ms = (ks_clock_mono_now() - t0) / 1e6;
	return 0;
}

int ks_bpfobj_enable(struct ks_bpfobj *o, const char *name, const char *label)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, name);

	if (!p) {
		fprintf(stderr, "ksight %s: internal error: no program %s in object %s\n", label,
			name, o->def->name);
		return -ENOENT;
	}
	return bpf_program__set_autoload(p, true);
}

int ks_bpfobj_set_config(struct ks_bpfobj *o, const struct ks_config *cfg)
{
	const struct btf *btf = bpf_object__btf(o->obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	struct bpf_map *map;
	size_t size;
	char *data;
	int id;

	/* ks_cfg's place in .rodata, from the object's own BTF */
	map = bpf_object__find_map_by_name(o->obj, ".rodata");
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (!map || id < 0)
		return -ENOENT;
	data = (char *)bpf_map__initial_value(map, &size);
	sec = btf__type_by_id(btf, id);
	v = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "ks_cfg"))
			continue;
		if (!data || v->size != sizeof(*cfg) || v->offset + v->size > size)
			return -EINVAL;
		memcpy(data + v->offset, cfg, sizeof(*cfg));
		return 0;
	}
	return -ENOENT;
}

int ks_bpfobj_share_maps(struct ks_bpfobj *o, const struct ks_bpfobj *core)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, o->obj) {
		const char *name = bpf_map__name(map);
		struct bpf_map *theirs;
		int fd, err;

		if (strncmp(name, "ks_", 3))
			continue;
		theirs = bpf_object__find_map_by_name(core->obj, name);
		fd = theirs ? bpf_map__fd(theirs) : -1;
		err = fd >= 0 ? bpf_map__reuse_fd(map, fd) : bpf_map__set_autocreate(map, false);
		if (err)
			return err;
	}
	return 0;
}

int ks_bpfobj_load(struct ks_bpfobj *o)
{
	uint64_t t0 = ks_clock_mono_now();
	struct bpf_program *p;
	int err = o->def->load(o->skel);

	close_core_btf(o);	/* libbpf has read it */
	o->load_ms += (ks_clock_mono_now() - t0) / 1e6;
	if (err)
		return err < 0 ? err : -EINVAL;
	bpf_object__for_each_program(p, o->obj)
		o->nprogs += bpf_program__autoload(p);
	return 0;
}

void ks_bpfobj_close(struct ks_bpfobj *o)
{
	close_core_btf(o);
	for (int i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]);
	free(o->links);
	o->links = NULL;
	o->nlinks = o->caplinks = 0;
	if (o->skel)
		o->def->destroy(o->skel);
	o->skel = NULL;
	o->obj = NULL;
}

void ks_release_elf(const void *(*elf)(size_t *size))
{
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)elf(&size), first, end;

	first = (start + page - 1) & ~(page - 1);
	end = (start + size) & ~(page - 1);
	if (end > first)
		madvise((void *)first, end - first, MADV_DONTNEED);
}

/*
 * libbpf reads all of an embedded image while opening it, and it would otherwise stay
 * resident for nothing; pages read again later simply fault back in from the binary.
 */
void ks_bpfobj_release_pages(const struct ks_bpfobj *o)
{
	if (o->def)
		ks_release_elf(o->def->elf);
}
