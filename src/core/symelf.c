// SPDX-License-Identifier: GPL-2.0
#include "core/symelf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct elf_h {
	int fd;
	Elf *e;
};

static int eopen(struct elf_h *h, const char *path)
{
	h->e = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	h->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0)
		return -errno;
	h->e = elf_begin(h->fd, ELF_C_READ_MMAP, NULL);
	if (!h->e || elf_kind(h->e) != ELF_K_ELF) {
		if (h->e)
			elf_end(h->e);
		close(h->fd);
		h->e = NULL;
		return -ENOEXEC;
	}
	return 0;
}

static void eclose(struct elf_h *h)
{
	if (!h->e)
		return;
	elf_end(h->e);
	close(h->fd);
	h->e = NULL;
}

/* The section of type @type, or named @name (NULL: any name). */
static Elf_Scn *find_scn(Elf *e, Elf64_Word type, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || sh->sh_type != type)
			continue;
		if (!name || ((n = elf_strptr(e, shstrndx, sh->sh_name)) && !strcmp(n, name)))
			return scn;
	}
	return NULL;
}

static int note_build_id(Elf *e, uint8_t *id)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz > 0 &&
			    nh.n_descsz <= KS_BUILD_ID_MAX) {
				memcpy(id, (char *)d->d_buf + doff, nh.n_descsz);
				return nh.n_descsz;
			}
		}
	}
	return 0;
}

int ks_elf_build_id(const char *path, uint8_t *id)
{
	struct elf_h h;
	int err = eopen(&h, path), n;

	if (err)
		return err;
	n = note_build_id(h.e, id);
	eclose(&h);
	return n;
}

/* The functions of symbol table section @scn into @t. Returns 0 or -ENOMEM. */
static int read_syms(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct ks_symtab *t)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym s;
		const char *name;
		int type;

		if (!gelf_getsym(d, i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    !s.st_value)
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (ks_symtab_add(t, s.st_value, s.st_size, name, strlen(name)))
			return -ENOMEM;
	}
	return 0;
}

/* The .symtab of file @path if it has one with contents (a debug file's), and, when @id
 * is given, the same build-ID; else when @crc is given, the file's CRC32 equals it. */
static int debug_syms(const char *path, const uint8_t *id, size_t idlen, const uint32_t *crc,
		      struct ks_symtab *t)
{
	uint8_t did[KS_BUILD_ID_MAX];
	struct elf_h h;
	Elf_Scn *scn;
	GElf_Shdr sh;
	int err;

	if ((err = eopen(&h, path)))
		return err;
	err = -ENOENT;
	if (idlen && note_build_id(h.e, did) == (int)idlen && !memcmp(did, id, idlen))
		err = 0;
	else if (!idlen && crc) {
		uLong c = crc32(0, NULL, 0);
		unsigned char buf[65536];
		ssize_t r;

		off_t pos = 0;

		while ((r = pread(h.fd, buf, sizeof(buf), pos)) > 0) {
			c = crc32(c, buf, r);
			pos += r;
		}
		if (!r && (uint32_t)c == *crc)
			err = 0;
	}
	if (!err && ((scn = find_scn(h.e, SHT_SYMTAB, NULL, &sh))))
		err = read_syms(h.e, scn, &sh, t);
	else if (!err)
		err = -ENOENT;
	eclose(&h);
	return err;
}

/* The debuglink's file name and CRC, from section .gnu_debuglink. */
static const char *debuglink(Elf *e, uint32_t *crc)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_scn(e, SHT_PROGBITS, ".gnu_debuglink", &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t len, coff;

	if (!d || !d->d_buf || d->d_size < 8)
		return NULL;
	len = strnlen(d->d_buf, d->d_size);
	coff = (len + 4) & ~(size_t)3;	/* the CRC, 4-aligned after the name's NUL */
	if (len == d->d_size || coff + 4 > d->d_size)
		return NULL;
	memcpy(crc, (char *)d->d_buf + coff, 4);
	return d->d_buf;
}

int ks_binary_load(const char *path, const char *debug_root, struct ks_binary *b)
{
	struct elf_h h;
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t nph;
	int err;

	memset(b, 0, sizeof(*b));
	if ((err = eopen(&h, path)))
		return err;
	if (elf_getphdrnum(h.e, &nph)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (size_t i = 0; i < nph && b->nsegs < KS_BIN_SEGS; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(h.e, i, &ph) && ph.p_type == PT_LOAD)
			b->segs[b->nsegs++] = (struct ks_elf_seg){ ph.p_vaddr, ph.p_filesz, ph.p_offset };
	}
	b->idlen = note_build_id(h.e, b->build_id);
	if ((scn = find_scn(h.e, SHT_SYMTAB, NULL, &sh))) {
		err = read_syms(h.e, scn, &sh, &b->syms);
		b->dwarf_path = strdup(path);
		goto cleanup;
	}
	{
		uint32_t crc = 0;
		const char *link = debuglink(h.e, &crc);
		char cand[PATH_MAX];

		for (int i = 0; !ks_debug_candidate(path, link, b->build_id, b->idlen, debug_root, i,
						    cand, sizeof(cand)); i++) {
			bool by_id = b->idlen >= 2 && i == 0;

			if (!strcmp(cand, path))
				continue;
			/* a debuglink candidate is checked by the build-ID when the binary has
			 * one, else by the link's CRC */
			if (!debug_syms(cand, b->build_id, b->idlen, by_id ? NULL : &crc, &b->syms)) {
				b->from_debug = true;
				b->dwarf_path = strdup(cand);
				goto cleanup;
			}
			ks_symtab_free(&b->syms);
		}
	}
	if ((scn = find_scn(h.e, SHT_DYNSYM, NULL, &sh))) {
		b->dynsym_only = true;
		err = read_syms(h.e, scn, &sh, &b->syms);
	}
cleanup:
	eclose(&h);
	ks_symtab_sort(&b->syms);
	return err;
}

void ks_binary_free(struct ks_binary *b)
{
	if (b) {
		ks_symtab_free(&b->syms);
		free(b->dwarf_path);
		b->dwarf_path = NULL;
	}
}
