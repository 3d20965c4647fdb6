/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's BTF cut down to what one BPF object relocates against, for libbpf's
 * btf_custom_path. libbpf resolves every type an object's CO-RE relocations name by
 * scanning all of the target BTF's types (125k here), once per type and object: about a
 * quarter of a tool's start-up (bench/RESULTS.md section 47). Given a BTF holding only the
 * candidates of those names, and of them only the members the relocations walk through,
 * it scans a few dozen types, and computes exactly what it would have: every offset,
 * size, bitfield and enum value is the kernel's own, copied.
 */
#ifndef KSIGHT_BTFMIN_H
#define KSIGHT_BTFMIN_H

#include <stddef.h>

/*
 * A memfd (close-on-exec) holding the minimal BTF for the object whose ELF image is
 * @elf, @size bytes, made from the kernel's BTF (btfcache.h); libbpf reads it through
 * /proc/self/fd/N. -errno when the object should be left to libbpf's full search: no
 * CO-RE relocations (-ENOENT), one this copy cannot serve (a target type id, a deep type
 * match, a type the kernel's BTF lacks and a module's may have: -EOPNOTSUPP), no kernel
 * BTF, or KSIGHT_BTF_MIN=0 in the environment (-ECANCELED; for A/B runs and tests).
 * @info, if not NULL, gets the number of types kept, or what was refused.
 */
struct ks_btfmin_info {
	unsigned int ntypes;	/* types in the copy */
	char why[96];		/* a refusal's relocation, "" if none */
};
int ks_btfmin_memfd(const void *elf, size_t size, struct ks_btfmin_info *info);

struct bpf_object_open_opts;

/*
 * The same for a skeleton's image (@elf: its <stem>_bpf__elf_bytes), made @opts'
 * btf_custom_path through @path (>= 32 bytes). Returns the memfd, for the caller to
 * close once the object is loaded, or -1 with @opts untouched (libbpf then searches the
 * whole of the kernel's BTF; -v says why, naming the object @name). @ntypes, if not
 * NULL, gets the number of types in the copy.
 */
int ks_btfmin_use(const char *name, const void *(*elf)(size_t *size),
		  struct bpf_object_open_opts *opts, char *path, size_t len,
		  unsigned int *ntypes);

/* Free the index of the kernel's type names the calls above share (rebuilt on need). */
void ks_btfmin_free(void);

#endif
