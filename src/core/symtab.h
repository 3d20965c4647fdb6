/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure parts of symbolization (no files, no libelf; tested with cmocka): a sorted table
 * of symbols searched by address, /proc/kallsyms and /proc/PID/maps text parsed, a file
 * offset turned into the address the ELF file's symbols use.
 */
#ifndef KSIGHT_SYMTAB_H
#define KSIGHT_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/elfsym.h"

/* Symbols by address: names in one pool, entries sorted by address once built. */
struct ks_symtab {
	struct ks_sym {
		uint64_t addr;
		uint32_t size;		/* 0: up to the next symbol (no function is 4 GiB) */
		uint32_t name;		/* offset in pool */
	} *syms;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	bool sorted;
};

/* Add symbol @name (@len bytes) at @addr, @size bytes long (0: unknown). Returns 0 or
 * -ENOMEM. */
int ks_symtab_add(struct ks_symtab *t, uint64_t addr, uint64_t size, const char *name,
		  size_t len);
/* Sort by address and drop duplicates at one address (the first added is kept). */
void ks_symtab_sort(struct ks_symtab *t);
/*
 * The symbol holding @addr (sorted table): the last one at or below @addr, if @addr is
 * inside its size (or, size unknown, below the next symbol's address; the last one is
 * taken to span 64 KiB at most). Returns its name
 * with the distance from its start in *@off (may be NULL), or NULL.
 */
const char *ks_symtab_find(const struct ks_symtab *t, uint64_t addr, uint64_t *off);
void ks_symtab_free(struct ks_symtab *t);

/*
 * The text symbols (types t, T, w, W) of /proc/kallsyms text @text into @t, sorted; a
 * module's symbols keep their module out of the name. Returns the count, or -ENOMEM;
 * -EPERM when every address reads 0 (kernel.kptr_restrict hides them).
 */
int ks_kallsyms_parse(const char *text, struct ks_symtab *t);

/* One executable file mapping of a process. */
struct ks_mapping {
	uint64_t start, end;	/* its addresses [start, end) */
	uint64_t pgoff;		/* the file offset at start */
	uint64_t inode;
	uint32_t dev;		/* major << 20 | minor */
	bool deleted;		/* the file was deleted (" (deleted)") */
	char *path;		/* absolute path, or "[vdso]" and the like */
};

/*
 * The executable mappings (x permission) of /proc/PID/maps text @text, in address order,
 * in a new array (*@out, free with ks_mappings_free). Anonymous executable memory (JIT
 * code) is left out. Returns the count, or -ENOMEM / -EINVAL (a line not in the format).
 */
int ks_maps_parse(const char *text, struct ks_mapping **out);
void ks_mappings_free(struct ks_mapping *m, int n);

/* The mapping of @n (address order) that holds @addr, or NULL. */
const struct ks_mapping *ks_mapping_find(const struct ks_mapping *m, int n, uint64_t addr);

/*
 * The address ELF symbols use for file offset @off, from the file's loadable segments
 * (p_offset -> p_vaddr; a PIE's or a library's vaddrs start near 0, an executable's at
 * its link address). Returns 0 with *@vaddr set, or -ENOENT.
 */
int ks_elf_offset_vaddr(const struct ks_elf_seg *segs, int n, uint64_t off, uint64_t *vaddr);

/*
 * Where to look for the separate debug file of @path: its .gnu_debuglink @link beside it,
 * in .debug/ beside it and under @debug_root (normally /usr/lib/debug) + its directory;
 * and, given its build ID (@id, @idlen bytes), @debug_root/.build-id/xx/rest.debug first.
 * Writes candidate @i into @out; returns 0, or -ENOENT past the last one, -ENAMETOOLONG.
 */
int ks_debug_candidate(const char *path, const char *link, const uint8_t *id, size_t idlen,
		       const char *debug_root, int i, char *out, size_t len);

#endif
