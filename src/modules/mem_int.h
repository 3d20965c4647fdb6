/* SPDX-License-Identifier: GPL-2.0 */
/* What the mem module's files share. */
#ifndef KSIGHT_MEM_INT_H
#define KSIGHT_MEM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "mem.h"

struct mem_row {
	struct mem_key k;
	struct mem_val v;
};

struct mem_state {
	bool per_thread;	/* -L */
	bool no_faults;		/* --oom-only */
	bool no_growth;		/* --no-growth */
	bool leaks;
	bool src;		/* --src: DWARF's inlined frames and definitions (--leaks) */		/* --leaks */
	const char *leaks_lib;	/* --leaks-lib: the allocator's library (default libc) */
	uint64_t pid;		/* -p, with --leaks */
	struct ks_symbolizer *leak_sym;	/* names --leaks' frames (core/symbolize.h) */
	unsigned int leak_round;	/* the report's number: maps reread at most once each */
	uint64_t top;		/* --top: rows per report, 0: all */
	struct ks_task_rows rows;	/* the kernel's table, as the last report saw it */
	/* the agent's: faults and bytes (un)mapped per service, OOM kills per victim name */
	struct ks_metric *m_minor, *m_major, *m_oom, *m_mapped, *m_unmapped;
};

struct mem_bpf;
struct ks_common;
int mem_leaks_configure(struct mem_state *st, const struct ks_common *common, char *err,
			size_t len);
void mem_leaks_setup(struct mem_state *st, struct mem_bpf *skel);
int mem_leaks_attach(struct ks_ctx *ctx, struct mem_state *st, struct mem_bpf *skel);
void mem_leaks_report(struct ks_ctx *ctx, struct mem_state *st, struct mem_bpf *skel);

#endif
