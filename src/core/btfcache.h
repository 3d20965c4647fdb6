/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel's BTF, read and parsed once per process. Reading it is most of what a
 * session spends starting (5 MB, 125k types here; a parse into fresh memory costs ~20 ms
 * of page faults), and libbpf reads and parses it again for every object it loads. The
 * build links libbpf statically and wraps btf__load_vmlinux_btf and btf__free (ld --wrap,
 * src/core/btfwrap.c): libbpf's loads, on any thread, borrow the one parse and give it back
 * instead of freeing it. libbpf only reads the kernel's BTF.
 */
#ifndef KSIGHT_BTFCACHE_H
#define KSIGHT_BTFCACHE_H

#include <stdbool.h>

struct btf;

/*
 * The kernel's BTF, parsed once and owned by the cache; NULL with errno set when the kernel
 * has none. Valid until ks_vmlinux_btf_trim() or ks_vmlinux_btf_release().
 */
const struct btf *ks_vmlinux_btf(void);

/* A new struct btf of the kernel's BTF, freed by the caller (btf__free), or NULL with
 * errno set. What libbpf gets when it asks for the kernel's BTF. */
struct btf *ks_vmlinux_btf_copy(void);

/* Free the parse, keeping the image, unless libbpf still holds it. The next
 * ks_vmlinux_btf() parses again. */
void ks_vmlinux_btf_trim(void);

/* Free the parse (as trim) and then the cached image (the next use reads the kernel's
 * again). */
void ks_vmlinux_btf_release(void);

/* Whether the image is cached now: a late user releases what it alone brought in. */
bool ks_vmlinux_btf_cached(void);

/* libbpf's side (btfwrap.c): the parse, lent until given back; NULL with errno set. */
struct btf *ks_vmlinux_btf_lend(void);

/* Take back @b if it is the lent parse (true); false for any other BTF, which the caller
 * frees itself. */
bool ks_vmlinux_btf_give_back(const struct btf *b);

/* How many times libbpf asked for the kernel's BTF, for tests. */
unsigned int ks_vmlinux_btf_loans(void);

#endif
