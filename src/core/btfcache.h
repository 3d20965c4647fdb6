/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel's BTF, read once per process. Reading it is most of what a session
 * spends starting (5 MB, 125k types here), and libbpf reads it again for every object it
 * loads. The build links libbpf statically and wraps btf__load_vmlinux_btf (ld --wrap), so
 * libbpf's own loads get a copy of the cached image instead of reading the kernel's again.
 */
#ifndef KSIGHT_BTFCACHE_H
#define KSIGHT_BTFCACHE_H

#include <stdbool.h>

struct btf;

/*
 * The kernel's BTF, parsed once and owned by the cache; NULL with errno set when the kernel
 * has none. Valid until ks_vmlinux_btf_release().
 */
const struct btf *ks_vmlinux_btf(void);

/* A new struct btf of the kernel's BTF, freed by the caller (btf__free), or NULL with
 * errno set. What libbpf gets when it asks for the kernel's BTF. */
struct btf *ks_vmlinux_btf_copy(void);

/*
 * Free the parse ks_vmlinux_btf() made, keeping the image: the next copy (libbpf's) then
 * lands in the memory just freed, which is already faulted in. The next
 * ks_vmlinux_btf() parses again.
 */
void ks_vmlinux_btf_trim(void);

/* Free the cached image and parse (the next use reads the kernel's again). */
void ks_vmlinux_btf_release(void);

/* Whether the image is cached now: a late user releases what it alone brought in. */
bool ks_vmlinux_btf_cached(void);

/* How many times libbpf asked for the kernel's BTF (through the wrapper), for tests. */
unsigned int ks_vmlinux_btf_copies(void);

#endif
