// SPDX-License-Identifier: GPL-2.0
#include "core/elflist.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAPSDT_TYPE 3

static Elf *elf_open_fd(const char *path, int *fd)
{
	Elf *e;

	*fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(*fd);
		*fd = -1;
		errno = ENOEXEC;
		return NULL;
	}
	return e;
}

void ks_elf_names_free(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

struct names {
	char **v;
	int n, cap;
};

static int names_add(struct names *ns, const char *s, size_t len)
{
	if (ns->n == ns->cap) {
		int c = ns->cap ? ns->cap * 2 : 256;
		char **v = realloc(ns->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = c;
	}
	if (!(ns->v[ns->n] = strndup(s, len)))
		return -ENOMEM;
	ns->n++;
	return 0;
}

/* The matching defined functions of the symbol table of type @type into @ns. */
static int collect(Elf *e, Elf64_Word type, const char *glob, struct names *ns)
{
	Elf_Scn *scn = NULL;
	char name[512];
	int err = 0;

	while (!err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; !err && d && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *sn, *at;
			GElf_Sym s;
			size_t len;

			/* IFUNCs are left out: a uprobe there traces the resolver, run once */
			if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value ||
			    GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			sn = elf_strptr(e, sh.sh_link, s.st_name);
			if (!sn || !*sn)
				continue;
			at = strchr(sn, '@');
			len = at ? (size_t)(at - sn) : strlen(sn);
			if (len >= sizeof(name))
				continue;
			memcpy(name, sn, len);
			name[len] = 0;
			if (!fnmatch(glob, name, 0))
				err = names_add(ns, name, len);
		}
	}
	return err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ks_elf_funcs(const char *path, const char *glob, char ***out)
{
	struct names ns = { 0 };
	int fd, err, k = 0;
	Elf *e = elf_open_fd(path, &fd);

	*out = NULL;
	if (!e)
		return -errno;
	err = collect(e, SHT_SYMTAB, glob, &ns);
	if (!err && !ns.n)
		err = collect(e, SHT_DYNSYM, glob, &ns);
	elf_end(e);
	close(fd);
	if (err) {
		ks_elf_names_free(ns.v, ns.n);
		return err;
	}
	if (ns.n)
		qsort(ns.v, ns.n, sizeof(*ns.v), by_name);
	/* each name once: aliases and local functions of different files share names */
	for (int i = 0; i < ns.n; i++) {
		if (k && !strcmp(ns.v[k - 1], ns.v[i])) {
			free(ns.v[i]);
			continue;
		}
		ns.v[k++] = ns.v[i];
	}
	*out = ns.v;
	return k;
}

static uint64_t addr_at(const unsigned char *p, int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);	/* the notes are in the host's byte order here */
	return v;
}

/* Copy the NUL-terminated string at *@p (before @end) into @dst; advance *@p past it. */
static int take_str(const char **p, const char *end, char *dst, size_t len)
{
	const char *nul = memchr(*p, 0, end - *p);

	if (!nul)
		return -EINVAL;
	snprintf(dst, len, "%s", *p);
	*p = nul + 1;
	return 0;
}

int ks_usdt_parse(const void *desc, size_t len, int addr_size, struct ks_usdt *u)
{
	const char *p = (const char *)desc + 3 * addr_size, *end = (const char *)desc + len;

	memset(u, 0, sizeof(*u));
	if ((addr_size != 4 && addr_size != 8) || len < 3 * (size_t)addr_size)
		return -EINVAL;
	u->pc = addr_at(desc, addr_size);
	u->base = addr_at((const unsigned char *)desc + addr_size, addr_size);
	u->sema = addr_at((const unsigned char *)desc + 2 * addr_size, addr_size);
	if (take_str(&p, end, u->provider, sizeof(u->provider)) ||
	    take_str(&p, end, u->name, sizeof(u->name)))
		return -EINVAL;
	/* the argument string may be missing in probes without arguments */
	if (p < end && take_str(&p, end, u->args, sizeof(u->args)))
		return -EINVAL;
	return 0;
}

int ks_usdt_list(const char *path, struct ks_usdt **out)
{
	struct ks_usdt *v = NULL;
	Elf_Scn *scn = NULL;
	int fd, n = 0, cap = 0, asz;
	Elf *e = elf_open_fd(path, &fd);

	*out = NULL;
	if (!e)
		return -errno;
	asz = gelf_getclass(e) == ELFCLASS32 ? 4 : 8;
	while ((scn = elf_nextscn(e, scn))) {
		size_t off = 0, noff, doff;
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != STAPSDT_TYPE || nh.n_namesz != 8 ||
			    memcmp((char *)d->d_buf + noff, "stapsdt", 8))
				continue;
			if (n == cap) {
				struct ks_usdt *nv = realloc(v, (cap = cap ? cap * 2 : 16) *
							     sizeof(*v));

				if (!nv) {
					free(v);
					elf_end(e);
					close(fd);
					return -ENOMEM;
				}
				v = nv;
			}
			if (!ks_usdt_parse((char *)d->d_buf + doff, nh.n_descsz, asz, &v[n]))
				n++;
		}
	}
	elf_end(e);
	close(fd);
	*out = v;
	return n;
}
