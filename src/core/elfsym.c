// SPDX-License-Identifier: GPL-2.0
#include "core/elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ks_elf_vaddr_offset(const struct ks_elf_seg *segs, int n, uint64_t vaddr, uint64_t *off)
{
	for (int i = 0; i < n; i++)
		if (vaddr >= segs[i].vaddr && vaddr - segs[i].vaddr < segs[i].filesz) {
			*off = vaddr - segs[i].vaddr + segs[i].offset;
			return 0;
		}
	return -ENOENT;
}

static int bind_rank(int bind)
{
	return bind == STB_GLOBAL ? 3 : bind == STB_WEAK ? 2 : bind == STB_LOCAL ? 1 : 0;
}

int ks_elf_pick(const struct ks_elf_cand *c, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (best < 0 || bind_rank(c[i].bind) > bind_rank(c[best].bind))
			best = i;
	if (best < 0)
		return -ENOENT;
	for (int i = 0; i < n; i++)
		if (bind_rank(c[i].bind) == bind_rank(c[best].bind) && c[i].vaddr != c[best].vaddr)
			return -ENOTUNIQ;
	return c[best].ifunc ? -EMEDIUMTYPE : best;
}

int ks_elf_name_match(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(sym, name, n) && (sym[n] == 0 || sym[n] == '@');
}

#define MAX_SEGS 16
#define MAX_CANDS 16

struct elf_file {
	int fd;
	Elf *e;
	struct ks_elf_seg segs[MAX_SEGS];
	int nsegs;
};

static int elf_open(struct elf_file *f, const char *path)
{
	size_t nph;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	f->e = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->e || elf_kind(f->e) != ELF_K_ELF || elf_getphdrnum(f->e, &nph))
		return -ENOEXEC;
	for (size_t i = 0; i < nph && f->nsegs < MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->segs[f->nsegs++] = (struct ks_elf_seg){ ph.p_vaddr, ph.p_filesz, ph.p_offset };
	}
	return 0;
}

static void elf_close(struct elf_file *f)
{
	if (f->e)
		elf_end(f->e);
	if (f->fd >= 0)
		close(f->fd);
}

/* Collect the defined functions named @name from the section of type @type. */
static int collect(struct elf_file *f, Elf64_Word type, const char *name, struct ks_elf_cand *c,
		   int max)
{
	Elf_Scn *scn = NULL;
	int n = 0;

	while ((scn = elf_nextscn(f->e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize && n < max; i++) {
			GElf_Sym s;
			const char *sn;
			int t;

			if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			t = GELF_ST_TYPE(s.st_info);
			if (t != STT_FUNC && t != STT_GNU_IFUNC)
				continue;
			sn = elf_strptr(f->e, sh.sh_link, s.st_name);
			if (!sn || !ks_elf_name_match(sn, name))
				continue;
			c[n++] = (struct ks_elf_cand){ s.st_value, GELF_ST_BIND(s.st_info),
						       t == STT_GNU_IFUNC };
		}
	}
	return n;
}

int ks_elf_func_offset(const char *path, const char *name, uint64_t *off, char *why,
		       size_t len)
{
	struct ks_elf_cand c[MAX_CANDS];
	struct elf_file f;
	int err, n, k;

	err = elf_open(&f, path);
	if (err) {
		snprintf(why, len, "%s", err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		goto cleanup;
	}
	n = collect(&f, SHT_SYMTAB, name, c, MAX_CANDS);
	if (!n)
		n = collect(&f, SHT_DYNSYM, name, c, MAX_CANDS);
	k = ks_elf_pick(c, n);
	if (k < 0) {
		err = k;
		snprintf(why, len, "%s %s",
			 k == -ENOENT	   ? "has no function" :
			 k == -ENOTUNIQ	   ? "has several different functions named" :
					     "has only an IFUNC (its resolver runs once) named",
			 name);
		goto cleanup;
	}
	err = ks_elf_vaddr_offset(f.segs, f.nsegs, c[k].vaddr, off);
	if (err)
		snprintf(why, len, "function %s is outside the file's loadable segments", name);
cleanup:
	elf_close(&f);
	return err;
}

int ks_elf_entry_offset(const char *path, uint64_t *off)
{
	struct elf_file f;
	GElf_Ehdr eh;
	int err = elf_open(&f, path);

	if (!err)
		err = gelf_getehdr(f.e, &eh) ? ks_elf_vaddr_offset(f.segs, f.nsegs, eh.e_entry, off)
					     : -ENOEXEC;
	elf_close(&f);
	return err;
}

static int lib_matches(const char *path, const char *name)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(name);

	if (strchr(name, '/'))
		return !strcmp(path, name);
	base = base ? base + 1 : path;
	return !strncmp(base, name, n) && (base[n] == 0 || base[n] == '.' || base[n] == '-');
}

int ks_maps_find_lib(const char *maps, const char *name, char *out, size_t len)
{
	for (const char *line = maps; line && *line;) {
		const char *end = strchr(line, '\n'), *p;
		size_t l = end ? (size_t)(end - line) : strlen(line);
		char path[4096];

		/* address perms offset dev inode [path]: the path is the sixth field */
		p = line;
		for (int f = 0; f < 5 && p < line + l; f++) {
			while (p < line + l && *p != ' ')
				p++;
			while (p < line + l && *p == ' ')
				p++;
		}
		if (p < line + l && *p == '/' && (size_t)(line + l - p) < sizeof(path)) {
			memcpy(path, p, line + l - p);
			path[line + l - p] = 0;
			if (lib_matches(path, name)) {
				if (strlen(path) >= len)
					return -ENAMETOOLONG;
				strcpy(out, path);
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

static char *read_all(const char *path)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (!buf || fd < 0)
		goto fail;
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				goto fail;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[n] = 0;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
	"/usr/lib", "/usr/local/lib", NULL,
};

int ks_elf_resolve(const char *binary, int pid, char *out, size_t len, char *why, size_t wlen)
{
	char maps_path[64], found[4096];
	char *maps;
	int err;

	if (pid <= 0) {
		if (strchr(binary, '/')) {
			snprintf(out, len, "%s", binary);
			if (access(out, R_OK))
				goto missing;
			return 0;
		}
		for (int i = 0; lib_dirs[i]; i++) {
			snprintf(out, len, "%s/%s", lib_dirs[i], binary);
			if (!access(out, R_OK))
				return 0;
		}
		snprintf(why, wlen, "no library %s in the usual directories (give a path)", binary);
		return -ENOENT;
	}
	/* the process's own view of its files: its mount namespace, through its root */
	if (binary[0] == '/') {
		snprintf(out, len, "/proc/%d/root%s", pid, binary);
		if (access(out, R_OK))
			goto missing;
		return 0;
	}
	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", pid);
	maps = read_all(maps_path);
	if (!maps) {
		err = -errno;
		snprintf(why, wlen, "process %d: %s", pid, strerror(errno));
		return err ? err : -ENOENT;
	}
	err = ks_maps_find_lib(maps, binary, found, sizeof(found));
	free(maps);
	if (err) {
		snprintf(why, wlen, "process %d has no %s mapped", pid, binary);
		return err;
	}
	snprintf(out, len, "/proc/%d/root%s", pid, found);
	return 0;
missing:
	err = -errno;
	snprintf(why, wlen, "%s: %s", out, strerror(errno));
	return err;
}
