/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Table-driven command-line options. Each table describes options whose values live at
 * offsets inside one struct; a command parses its argv against several tables at once
 * (the common options and its module's). Every bad input becomes one line of text for the
 * caller to print before exiting 2.
 */
#ifndef KSIGHT_OPTS_H
#define KSIGHT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ks_opt_type {
	KS_OPT_FLAG,	/* bool, no argument */
	KS_OPT_COUNT,	/* int, incremented each time (-v -v) */
	KS_OPT_UINT,	/* uint64_t in [min, max] */
	KS_OPT_SIZE,	/* uint64_t bytes, K/M/G suffixes, in [min, max] */
	KS_OPT_STR,	/* const char * pointing into argv, non-empty, < max bytes if max */
	KS_OPT_CHOICE,	/* int: index of the argument in choices[] */
	KS_OPT_STRS,	/* struct ks_strs: each use appends one, as KS_OPT_STR checks it */
};

#define KS_STRS_MAX 8

/* The values of a repeatable option, pointing into argv, in the order given. */
struct ks_strs {
	const char *v[KS_STRS_MAX];
	int n;
};

struct ks_opt {
	const char *lng;	/* long name without "--"; NULL ends a table */
	char shrt;		/* short letter, 0 for none */
	enum ks_opt_type type;
	size_t off;		/* offset of the value in the table's struct */
	const char *arg;	/* name of the argument in --help, e.g. "PID" */
	const char *help;
	uint64_t min, max;	/* UINT/SIZE bounds; STR: max length (0: none) */
	const char *const *choices;	/* CHOICE: NULL-terminated */
};

struct ks_opt_table {
	const struct ks_opt *opts;
	void *base;		/* the struct the offsets point into */
};

#define KS_OPTS_MAX_POS 16	/* funccount takes patterns */
#define KS_ERR_LEN 256

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the program) against @tables.
 * Positional arguments are stored, up to @max_pos, as pointers into argv.
 * Returns 0; 1 when --help/-h is met as an option (arguments before it are parsed, those
 * after it are not); -1 with a one-line message in @err on bad input.
 */
int ks_opts_parse(const struct ks_opt_table *tables, int ntables, int argc, char **argv,
		  const char **pos, int max_pos, int *npos, char *err, size_t errlen);

/* Strict conversions shared with positional handling. Return 0, or -1 on bad input. */
int ks_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int ks_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Write the option list of @tables as --help text to @buf (always NUL-terminated). */
void ks_opts_help(const struct ks_opt_table *tables, int ntables, char *buf, size_t len);

#endif
