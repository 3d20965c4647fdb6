/* SPDX-License-Identifier: GPL-2.0 */
/* syscount's state, shared by the files of the module (syscount.c, syscount_report.c). */
#ifndef KSIGHT_SYSCOUNT_INT_H
#define KSIGHT_SYSCOUNT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/module.h"
#include "core/sysnames.h"
#include "modules/syscount_agg.h"

struct syscount_bpf;

struct syscount_state {
	bool per_pid;		/* -P */
	bool failed_only;	/* -x */
	bool errnos;		/* -e */
	bool latency;		/* -L */
	bool hist;		/* --hist */
	bool ms;		/* -m */
	bool list;		/* -l */
	uint64_t top;		/* --top */
	uint64_t max_keys;	/* --max-keys: size of the -P/-e tables */
	const char *filter;	/* -s, as given */
	/* set up */
	const struct ks_sysnames *names;
	int ncpu;
	uint64_t last_ns;	/* monotonic time of the previous report */
	struct syscount_prev prev;	/* its totals */
	/* metrics: calls and failures per syscall name, handles by number */
	struct ks_metric *m_calls, *m_errors;
	struct ks_series *s_calls[KS_SYS_MAX], *s_errors[KS_SYS_MAX];
};

/* Counts (and with -L total times) per syscall, which the dispatcher keeps itself
 * (ks_sys_counts): no handler of syscount's runs. */
static inline bool syscount_plain(const struct syscount_state *st)
{
	return !st->list && !st->per_pid && !st->errnos && !st->failed_only && !st->hist;
}

/*
 * The kernel's running totals, one row per key with calls (per-CPU copies added up,
 * histograms joined), into *rows (malloc'ed, the caller frees).
 * Returns the number of rows, or -errno.
 */
ssize_t syscount_read(const struct syscount_state *st, struct syscount_bpf *skel,
		      struct syscount_row **rows);

/* Emit a summary line and the first --top of @rows (ordered), covering @secs seconds. */
void syscount_emit(struct ks_ctx *ctx, const struct syscount_state *st,
		   const struct syscount_row *rows, size_t n, double secs);

#endif
