/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What DWARF adds to a symbol-table name (core/symbolize.h, when asked): where the
 * function is defined, and the functions the compiler inlined at an address, which no
 * symbol table shows. Read with libdw from the binary itself or its separate debug file;
 * each address is looked up once and kept.
 */
#ifndef KSIGHT_SYMDWARF_H
#define KSIGHT_SYMDWARF_H

#include <stdint.h>

#define KS_INL_MAX 8		/* inlined calls kept per address (the outermost ones) */

/* A function as DWARF declares it. */
struct ks_srcfn {
	const char *name;	/* NULL for the outer function (its symbol names it) */
	const char *file;	/* where it is defined, as compiled ("src/x.c"), or NULL */
	unsigned int line;	/* 0: unknown */
};

/* What DWARF says about one address. The strings live as long as the ks_dwarf. */
struct ks_src {
	struct ks_srcfn fn;	/* the function holding the address (not inlined) */
	unsigned int ninl;	/* functions inlined at the address, outermost first */
	struct ks_srcfn inl[KS_INL_MAX];
	unsigned int inl_cut;	/* deeper inlined calls left out */
};

struct ks_dwarf;

/* The DWARF of ELF file @path, or NULL (errno: ENODATA, the file has none). Keeps the file
 * open until ks_dwarf_free. */
struct ks_dwarf *ks_dwarf_open(const char *path);
void ks_dwarf_free(struct ks_dwarf *d);

/* What DWARF says about link-time address @vaddr, or NULL when no unit covers it. */
const struct ks_src *ks_dwarf_lookup(struct ks_dwarf *d, uint64_t vaddr);

#endif
