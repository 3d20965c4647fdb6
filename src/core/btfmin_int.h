/* SPDX-License-Identifier: GPL-2.0 */
/* btfmin.c's parts: the index of the kernel's type names (btfmin_names.c). */
#ifndef KSIGHT_BTFMIN_INT_H
#define KSIGHT_BTFMIN_INT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/btfmin.h"

struct btf;

/* The length of @name without its CO-RE flavor suffix, as libbpf counts it. */
size_t ks_btfmin_essential_len(const char *name);

/* Index @btf's relocatable named types (once: a second call with the same parse is free).
 * Returns 0 or -ENOMEM. */
int ks_btfmin_names_build(const struct btf *btf);

/* The ids of the indexed types whose essential name is @name's first @len bytes, into
 * @ids (at most @max). Returns how many, or -E2BIG. */
int ks_btfmin_names_find(const char *name, size_t len, __u32 *ids, int max);

/* Whether a loaded module's BTF has a type of essential name @name's first @len bytes
 * (libbpf looks there when the kernel's has none): 1 with the module's name in @module,
 * 0, or -errno when the modules' BTF cannot be read. */
int ks_btfmin_in_module(const char *name, size_t len, const char **module);

#endif
