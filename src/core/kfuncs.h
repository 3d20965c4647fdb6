/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel functions that fentry and kprobes could hook: the kernel's BTF FUNC entries that
 * ftrace also lists as traceable. */
#ifndef KSIGHT_KFUNCS_H
#define KSIGHT_KFUNCS_H

#include <stdbool.h>

struct btf;

/*
 * The functions of @btf whose names match @glob (fnmatch(3)), sorted, each once, in a new
 * array of new strings (*@out, freed with ks_elf_names_free), keeping only those listed in
 * @tracefs's available_filter_functions when that file can be read (*@traceable then true;
 * functions ftrace cannot hook take neither a kprobe nor fentry). Returns the count, or
 * -errno.
 */
int ks_kfuncs(const struct btf *btf, const char *tracefs, const char *glob, char ***out,
	      bool *traceable);

#endif
