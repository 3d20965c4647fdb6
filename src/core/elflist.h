/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a binary offers uprobes: its functions by name (ELF symbol tables) and its USDT
 * probes (SystemTap's .note.stapsdt notes). The note parser is pure (tested with cmocka).
 */
#ifndef KSIGHT_ELFLIST_H
#define KSIGHT_ELFLIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * The defined functions of ELF file @path whose names match @glob (fnmatch(3)), from its
 * .symtab, else its .dynsym (the tables ks_elf_func_offset reads), without "@VERSION",
 * sorted and each once, in a new array of new strings (*@out; free with
 * ks_elf_names_free). Returns the count, or -errno (-ENOEXEC: not an ELF file).
 */
int ks_elf_funcs(const char *path, const char *glob, char ***out);
void ks_elf_names_free(char **names, int n);

/* One USDT probe site. */
struct ks_usdt {
	char provider[64];
	char name[64];
	char args[256];		/* the argument specs, "-4@%esi 8@%rax" */
	uint64_t pc;		/* the site's address (link time) */
	uint64_t base;		/* .stapsdt.base's address (link time) */
	uint64_t sema;		/* the semaphore's address, 0: none */
};

/*
 * Decode the descriptor of one stapsdt note (type 3, owner "stapsdt"): three addresses of
 * @addr_size (4 or 8) bytes, then provider, name and arguments, each NUL-terminated.
 * Returns 0, or -EINVAL when @len cannot hold that.
 */
int ks_usdt_parse(const void *desc, size_t len, int addr_size, struct ks_usdt *u);

/* The USDT probe sites of ELF file @path, in a new array (*@out, free()). Returns the
 * count, or -errno. */
int ks_usdt_list(const char *path, struct ks_usdt **out);

#endif
