// SPDX-License-Identifier: GPL-2.0
#include "core/log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int verbosity;
static __thread char failed_prog[128];	/* per thread: objects load in parallel */
static __thread char verifier_reason[200];

/*
 * The line of a verifier log that says why: the last one that is not the log's closing
 * statistics ("processed N insns", "verification time", "stack depth") or libbpf's frame.
 */
static void keep_reason(const char *log)
{
	const char *end = log + strlen(log);

	while (end > log) {
		const char *start = end;
		size_t n;

		while (start > log && start[-1] != '\n')
			start--;
		n = end - start;
		while (n && (start[n - 1] == '\n' || start[n - 1] == ' '))
			n--;
		if (n && strncmp(start, "processed ", 10) && strncmp(start, "verification time", 17) &&
		    strncmp(start, "stack depth", 11) && strncmp(start, "-- END", 6) &&
		    strncmp(start, "libbpf:", 7)) {
			snprintf(verifier_reason, sizeof(verifier_reason), "%.*s", (int)n, start);
			return;
		}
		end = start > log ? start - 1 : log;
	}
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024], *all = NULL;
	const char *p;
	va_list copy;

	/* libbpf says thousands of debug lines per load (each CO-RE relocation): formatting
	 * them only to drop them was ~4% of a tool's start-up */
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	/* the verifier log arrives as one long message: print it whole, inspect it */
	va_copy(copy, ap);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	/* "libbpf: prog 'name': ..." precedes a program's load failure */
	if (level <= LIBBPF_WARN && (p = strstr(line, "prog '"))) {
		const char *q = strchr(p + 6, '\'');

		if (q && (strstr(line, "failed") || strstr(line, "load")))
			snprintf(failed_prog, sizeof(failed_prog), "%.*s", (int)(q - p - 6), p + 6);
	}
	if (level <= LIBBPF_WARN && strstr(line, "BEGIN PROG LOAD LOG")) {
		va_copy(copy, ap);
		if (vasprintf(&all, fmt, copy) >= 0)
			keep_reason(all);
		va_end(copy);
		free(all);
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

void ks_log_reset(void)
{
	failed_prog[0] = 0;
	verifier_reason[0] = 0;
}

const char *ks_log_failed_prog(char *buf, size_t len)
{
	if (!failed_prog[0])
		return NULL;
	snprintf(buf, len, "%s", failed_prog);
	failed_prog[0] = 0;
	return buf;
}

const char *ks_log_verifier_reason(char *buf, size_t len)
{
	if (!verifier_reason[0])
		return NULL;
	snprintf(buf, len, "%s", verifier_reason);
	verifier_reason[0] = 0;
	return buf;
}
