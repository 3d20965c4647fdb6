/* SPDX-License-Identifier: GPL-2.0 */
/* The options every command shares (filters, output, hooks, ring buffer), their checks,
 * and the start-up checks every command that loads BPF makes. */
#ifndef KSIGHT_COMMON_OPTS_H
#define KSIGHT_COMMON_OPTS_H

#include "core/config.h"
#include "core/opts.h"

extern const struct ks_opt ks_common_opts[];

void ks_common_defaults(struct ks_common *c);

/*
 * Check values a table cannot (the pid exists, the size is a power of two) and take the
 * positionals [interval [count]] when @positional. Returns 0 or -1 with one line in @err.
 */
int ks_common_check(struct ks_common *c, const char **pos, int npos, bool positional, char *err,
		    size_t len);

/* Root and BTF, before anything is loaded: prints one line and returns -1 if missing. */
int ks_require_kernel(const char *label);

/* Print "Usage: ..." with @usage examples and the option tables to stdout. */
void ks_print_help(const char *synopsis, const char *summary, const char *usage,
		   const struct ks_opt_table *tables, int n);

#endif
