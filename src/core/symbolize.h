/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses to function names, for stacks sampled in the kernel (profile; offcpu later).
 * Kernel addresses through /proc/kallsyms (read once, sorted, binary search). User
 * addresses through the mappings of the process image that made them (/proc/PID/maps,
 * given while the process lives: the caller reads it at the image's first sample), then
 * the ELF symbol tables of the mapped file: .symtab, else that of a separate debug file
 * (build-ID under the debug root, then .gnu_debuglink beside the file, in .debug/ and
 * under the debug root; the link's CRC checked), else .dynsym. Binaries are parsed once
 * and cached by build-ID (by path, device and inode when they have none), so a library
 * mapped by a hundred processes is read once.
 *
 * Limits: the files are opened when symbols are wanted: through /proc/PID/map_files
 * while the process lives (the very file mapped), else by the path the maps showed, if
 * it still names the same inode (a binary deleted or rebuilt since gives no names, never
 * wrong ones); names are not demangled. DWARF only when asked (ks_symbolizer__want_src):
 * where each function is defined and the functions inlined at an address, read from the
 * file the symbols came from, opened with it (no line of the call, only definitions).
 */
#ifndef KSIGHT_SYMBOLIZE_H
#define KSIGHT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/symdwarf.h"

struct ks_symbolizer;

/* Why a frame has no name (or that it has one). */
enum ks_sym_res {
	KS_SYM_OK,
	KS_SYM_NO_MAP,		/* user: no mapping of the process holds the address (maps
				 * never read, anonymous or JIT code) */
	KS_SYM_NO_SYMS,		/* user: the file is known, no symbol holds the address (or
				 * the file could not be read, or is [vdso]) */
	KS_SYM_NO_KSYMS,	/* kernel: /proc/kallsyms unreadable or its addresses hidden */
	KS_SYM_N,
};

struct ks_frame {
	const char *name;	/* the function, or NULL */
	const char *module;	/* the file's base name ("libc.so.6"), "[vdso]", or NULL
				 * (kernel, or no mapping) */
	uint64_t off;		/* from the function's start, or the file offset (no name) */
	enum ks_sym_res res;
	const struct ks_src *src;	/* DWARF's word on it (ks_symbolizer__want_src), or
					 * NULL */
};

/* Counters of the caches. */
struct ks_symbolizer_stats {
	uint64_t procs;		/* process images whose mappings were given */
	uint64_t maps_reread;	/* mappings read again at lookup (a library mapped late) */
	uint64_t files;		/* mapped files opened */
	uint64_t binaries;	/* distinct binaries parsed (by build-ID) */
	uint64_t shared;	/* files served by a binary parsed for another path */
	uint64_t debug_files;	/* binaries whose symbols came from a separate debug file */
	uint64_t dwarf_files;	/* binaries whose DWARF was opened (want_src) */
	uint64_t kernel_syms;	/* kallsyms entries, once read */
};

/*
 * A symbolizer reading /proc under @proc_root ("/proc") and separate debug files under
 * @debug_root ("/usr/lib/debug"); both are copied. Returns NULL with errno set.
 */
struct ks_symbolizer *ks_symbolizer__new(const char *proc_root, const char *debug_root);
void ks_symbolizer__free(struct ks_symbolizer *s);

/* Read DWARF too, for binaries parsed from now on: ks_frame.src. */
void ks_symbolizer__want_src(struct ks_symbolizer *s);

/*
 * Keep the mappings of image @exec_id of process @pid from the text of its
 * /proc/PID/maps (@text), replacing what was kept for it. Returns 0, or -errno (-EINVAL:
 * not maps text).
 */
int ks_symbolizer__set_maps(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id,
			    const char *text);
/* Whether mappings are kept for that image. */
bool ks_symbolizer__has_maps(const struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id);

/* The text of @proc_root/@pid/maps in a new string (free()), or NULL with errno set
 * (ENOENT: the process is gone). Touches no symbolizer: for a worker thread. */
char *ks_maps_read(const char *proc_root, uint32_t pid);

/*
 * Read /proc/@pid/maps for image @exec_id now (the caller knows it is that image). Returns
 * 0, or -errno (-ENOENT: the process is gone).
 */
int ks_symbolizer__read_maps(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id);

/*
 * Name user address @addr of image @exec_id of @pid into @f; when no mapping holds it and
 * the process still lives, its maps are read again, once per image and @round (a library
 * loaded after the first sample). The strings stay valid until the symbolizer is freed.
 * Returns f->res.
 */
enum ks_sym_res ks_symbolizer__user(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id,
				    uint64_t addr, unsigned int round, struct ks_frame *f);

/* Name kernel address @addr into @f (kallsyms read on the first call). Returns f->res. */
enum ks_sym_res ks_symbolizer__kernel(struct ks_symbolizer *s, uint64_t addr,
				      struct ks_frame *f);

void ks_symbolizer__stats(const struct ks_symbolizer *s, struct ks_symbolizer_stats *out);

/* "no mapping", "no symbols"... for KS_SYM_* (never NULL). */
const char *ks_sym_res_name(enum ks_sym_res r);

#endif
