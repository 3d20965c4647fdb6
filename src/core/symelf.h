/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One ELF binary as the symbolizer needs it (core/symbolize.h): its build-ID, its loadable
 * segments and its function symbols (from itself or its separate debug file).
 */
#ifndef KSIGHT_SYMELF_H
#define KSIGHT_SYMELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/elfsym.h"
#include "core/symtab.h"

#define KS_BUILD_ID_MAX 64
#define KS_BIN_SEGS 16

struct ks_binary {
	uint8_t build_id[KS_BUILD_ID_MAX];
	size_t idlen;			/* 0: none */
	struct ks_elf_seg segs[KS_BIN_SEGS];
	int nsegs;
	struct ks_symtab syms;		/* functions, sorted */
	bool from_debug;		/* syms came from a separate debug file */
	bool dynsym_only;		/* syms are .dynsym's (exported functions only) */
	char *dwarf_path;		/* the file whose symbols were read (itself or its
					 * debug file), where its DWARF would be; NULL
					 * with .dynsym only */
};

/*
 * The build-ID of ELF file @path into @id (KS_BUILD_ID_MAX bytes). Returns its length, 0
 * when the file has none, or -errno (-ENOEXEC: not ELF).
 */
int ks_elf_build_id(const char *path, uint8_t *id);

/*
 * Parse ELF file @path into @b: segments, build-ID, functions of .symtab, else of the
 * separate debug file found under @debug_root (checked against the build-ID or the
 * debuglink's CRC), else of .dynsym. Returns 0 (possibly with no symbols), or -errno.
 * Free with ks_binary_free.
 */
int ks_binary_load(const char *path, const char *debug_root, struct ks_binary *b);
void ks_binary_free(struct ks_binary *b);

#endif
