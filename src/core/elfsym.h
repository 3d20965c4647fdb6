/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a uprobe goes: the file offset of a function in an ELF executable or shared library
 * (PIE or not), found from its symbol tables; and which file a process has mapped for a
 * library name. No BPF here: the pure parts are tested with cmocka.
 */
#ifndef KSIGHT_ELFSYM_H
#define KSIGHT_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/* One loadable segment (PT_LOAD) of an ELF file. */
struct ks_elf_seg {
	uint64_t vaddr;		/* p_vaddr */
	uint64_t filesz;	/* p_filesz */
	uint64_t offset;	/* p_offset */
};

/*
 * The file offset of virtual address @vaddr, from the file's loadable segments.
 * Returns 0 with @off set, or -ENOENT when no segment holds the address in the file.
 */
int ks_elf_vaddr_offset(const struct ks_elf_seg *segs, int n, uint64_t vaddr, uint64_t *off);

/* A candidate symbol, for ks_elf_pick(). */
struct ks_elf_cand {
	uint64_t vaddr;
	int bind;		/* STB_GLOBAL, STB_WEAK, STB_LOCAL */
	int ifunc;		/* STT_GNU_IFUNC: the address is the resolver's */
};

/*
 * Choose among the symbols named like the wanted function: the strongest binding
 * (global, then weak, then local) wins; symbols at one address are aliases. Returns the
 * index of the chosen one, -ENOENT for none, -ENOTUNIQ when two of the strongest binding
 * are at different addresses, -EMEDIUMTYPE when the choice is an IFUNC (probing it would
 * trace the resolver, run once at load, not the function).
 */
int ks_elf_pick(const struct ks_elf_cand *c, int n);

/* Whether symbol name @sym names function @name: equal, or @name plus "@VERSION". */
int ks_elf_name_match(const char *sym, const char *name);

/*
 * The file offset of function @name in ELF file @path (its .symtab, else its .dynsym), for
 * a uprobe. Returns 0 with @off set, or -errno with the reason (not naming @path) in @why:
 * -ENOENT no such
 * function, -ENOTUNIQ ambiguous, -EMEDIUMTYPE an IFUNC, -ENOEXEC not an ELF file.
 */
int ks_elf_func_offset(const char *path, const char *name, uint64_t *off, char *why,
		       size_t len);

/* The file offset of @path's entry point (always the start of an instruction). Returns 0
 * or -errno. */
int ks_elf_entry_offset(const char *path, uint64_t *off);

/*
 * In the text of /proc/PID/maps, the path of the file mapped for library @name: a mapped
 * file whose base name is @name, or @name followed by '.' or '-' ("libc" finds
 * "libc.so.6" and "libc-2.31.so"). A @name with a '/' must equal the path. Returns 0 with
 * the path in @out, -ENOENT if none, -ENAMETOOLONG if it does not fit.
 */
int ks_maps_find_lib(const char *maps, const char *name, char *out, size_t len);

/*
 * The file to probe for @binary as process @pid sees it (@pid > 0) or as this machine
 * does (@pid <= 0): a path as given (under /proc/PID/root for a process, so a container's
 * files are found), else a library the process has mapped, else (no process) a library
 * in the usual library directories. Returns 0 with the path in @out, or -errno with the
 * reason in @why.
 */
int ks_elf_resolve(const char *binary, int pid, char *out, size_t len, char *why, size_t wlen);

#endif
