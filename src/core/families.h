/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every attach family ksight knows, for `ksight status`: each probed on the running kernel
 * (probe.c, probe_attach.c), reported usable (and how it attaches here) or with the kernel
 * feature that is missing.
 */
#ifndef KSIGHT_FAMILIES_H
#define KSIGHT_FAMILIES_H

#include <stdio.h>

#include "core/probe.h"

/*
 * Print the "attach families" section: one line per family, "  NAME  usable (NOTE)" or
 * "  NAME  missing: REASON". @p caches the answers (a fresh one is made when NULL).
 */
void ks_families_print(struct ks_probe *p, FILE *f);

#endif
