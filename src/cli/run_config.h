/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `ksight run --config FILE` and `--print-config`: the agent's options in a YAML file.
 *
 * The file is one mapping whose keys are the long option names of `ksight run` (listen,
 * otlp, store, output, no-rw, ...) plus `interval` and `count` (the positionals); a flag
 * takes true or false, a repeatable option (output, bpf) a list or one value, ~ (null)
 * keeps the default. Every value goes through the same checks as on the command line;
 * an error names FILE:LINE:COLUMN and the reason, and nothing starts.
 *
 * The command line wins: a value given there replaces the file's (a repeatable option's
 * whole list; -v counts from zero), positionals included. A flag the file sets to true
 * cannot be turned off from the command line (flags have no --no- form).
 */
#ifndef KSIGHT_RUN_CONFIG_H
#define KSIGHT_RUN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "core/opts.h"

/*
 * Parse ksight run's command line @argv[0..argc) against @tables as ks_opts_parse does,
 * with the file named by its --config option (if any) under it. The file's strings stay
 * allocated until exit (the tables' structs point into them).
 * Returns 0; 1 for --help; -1 with one line in @err (FILE:LINE:COLUMN: ... for the file).
 */
int ks_run_config_parse(const struct ks_opt_table *tables, int ntables, int argc, char **argv,
			const char **pos, int max_pos, int *npos, char *err, size_t len);

/* Print the options of @tables as they are now (with the defaults a missing value stands
 * for) as a configuration file that --config reads back to the same options. */
void ks_run_config_print(FILE *out, const struct ks_opt_table *tables, int ntables,
			 uint64_t interval, uint64_t count);

#endif
