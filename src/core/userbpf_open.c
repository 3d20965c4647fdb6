// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf (userbpf.h): each object checked and opened before anything loads, so
 * that bad input exits 2 with one line: the file, that it is a BPF ELF object with BTF,
 * its manifest.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/opts.h"
#include "core/userbpf.h"
#include "core/userbpf_int.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* Whether @path is a BPF ELF object, and whether it has a .BTF section. 0, or -1 with
 * the problem in @err. */
static int elf_check(const char *path, char *err, size_t len)
{
	bool btf = false;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	Elf *e;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, len, "--bpf %s: %s", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) || eh.e_machine != EM_BPF ||
	    elf_getshdrstrndx(e, &shstrndx)) {
		snprintf(err, len, "--bpf %s: not a BPF object (clang -target bpf -g -O2 -c)", path);
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(name, ".BTF"))
			btf = true;
	}
	if (!btf) {
		snprintf(err, len, "--bpf %s: the object has no BTF (compile it with clang -g)", path);
		goto out;
	}
	rc = 0;
out:
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

/* OBJ or OBJ:MANIFEST: a spec that is an existing file is an object alone. */
static void split(const char *spec, struct ub_obj *o, const char **man)
{
	const char *colon = strrchr(spec, ':');
	struct stat st;

	*man = NULL;
	snprintf(o->path, sizeof(o->path), "%s", spec);
	if (colon && stat(spec, &st)) {
		snprintf(o->path, sizeof(o->path), "%.*s", (int)(colon - spec), spec);
		*man = colon + 1;
	}
}

/* The object's name for labels: its file name without .bpf.o or .o. */
static void stem_of(struct ub_obj *o)
{
	const char *b = strrchr(o->path, '/');
	char *dot;

	snprintf(o->stem, sizeof(o->stem), "%s", b ? b + 1 : o->path);
	if ((dot = strstr(o->stem, ".bpf.o")) || (dot = strrchr(o->stem, '.')))
		*dot = 0;
	snprintf(o->module, sizeof(o->module), "bpf:%s", o->stem);
}

struct ks_userbpf *ks_userbpf__open(const char *const *specs, int n, char *err, size_t len)
{
	struct ks_userbpf *u = calloc(1, sizeof(*u));

	if (!u) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (n > (int)(sizeof(u->objs) / sizeof(u->objs[0]))) {
		snprintf(err, len, "--bpf: at most %zu objects", sizeof(u->objs) / sizeof(u->objs[0]));
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct ub_obj *o = &u->objs[i];
		const char *man;

		u->n = i + 1;
		o->spec = specs[i];
		split(specs[i], o, &man);
		stem_of(o);
		if (elf_check(o->path, err, len))
			goto fail;
		for (int j = 0; j < i; j++)
			if (!strcmp(u->objs[j].stem, o->stem)) {
				snprintf(err, len, "--bpf %s: another object is named %s too", o->path,
					 o->stem);
				goto fail;
			}
		o->obj = bpf_object__open_file(o->path, NULL);
		if (!o->obj) {
			snprintf(err, len, "--bpf %s: libbpf cannot open it: %s (-v says more)",
				 o->path, strerror(errno));
			goto fail;
		}
		if (man) {
			char why[KS_ERR_LEN];

			if (ub_manifest_read(man, &o->man, why, sizeof(why)) ||
			    ub_manifest_check(&o->man, o->obj, why, sizeof(why))) {
				snprintf(err, len, "--bpf %s: %s", o->spec, why);
				goto fail;
			}
		}
	}
	return u;
fail:
	ks_userbpf__free(u);
	return NULL;
}
