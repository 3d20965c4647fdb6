// SPDX-License-Identifier: GPL-2.0
#include "core/log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int verbosity;
static char failed_prog[128];

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	const char *p;
	va_list copy;

	/* the verifier log arrives as one long message: print it whole, inspect its start */
	va_copy(copy, ap);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	/* "libbpf: prog 'name': ..." precedes a program's load failure */
	if (level <= LIBBPF_WARN && (p = strstr(line, "prog '"))) {
		const char *q = strchr(p + 6, '\'');

		if (q && (strstr(line, "failed") || strstr(line, "load")))
			snprintf(failed_prog, sizeof(failed_prog), "%.*s", (int)(q - p - 6), p + 6);
	}
	if (verbosity >= 2 || (verbosity == 1 && level <= LIBBPF_INFO))
		vfprintf(stderr, fmt, ap);
	return 0;
}

void ks_log_init(int verbose)
{
	verbosity = verbose;
	libbpf_set_print(print_fn);
}

int ks_log_verbose(void)
{
	return verbosity;
}

const char *ks_log_failed_prog(char *buf, size_t len)
{
	if (!failed_prog[0])
		return NULL;
	snprintf(buf, len, "%s", failed_prog);
	failed_prog[0] = 0;
	return buf;
}
