/* SPDX-License-Identifier: GPL-2.0 */
/* The files module's state, shared by its two user-side files (files.c, files_top.c). */
#ifndef KSIGHT_FILES_INT_H
#define KSIGHT_FILES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "files.h"

struct ks_ctx;
struct ks_hdr;
struct files_bpf;
struct ks_fdtab;
struct ks_metric;
struct ks_series;
struct files_topd;

struct files_state {
	bool failed;		/* -x */
	bool summary;		/* -s */
	bool all_files;		/* -a */
	bool no_writes;		/* --no-writes */
	uint64_t top;		/* --top, 0: default */
	int sort;		/* --sort, enum files_sort; -1: default */
	struct ks_fdtab *fds;	/* the session's: each written file's path, for its close */
	struct files_topd *topd;	/* --summary: the previous report's totals */
	uint64_t top_total;		/* --summary: reads + writes counted so far */
	/* metrics */
	struct ks_metric *m_ops;
	struct ks_series *s_ops[FILES_OP_N + 1];	/* per op, then closes */
	struct ks_metric *m_paths;	/* changes per path (its last 47 bytes) */
};

/* The label of a path in m_paths: its end tells files apart. */
#define FILES_PATH_LABEL 47

/* One streamed record of the module (files_event.c). */
void files_on_event(struct ks_ctx *ctx, struct files_state *st, const struct ks_hdr *h,
		    size_t size);

/* --summary: the top rows of the kernel's table, as growth since the last report; then
 * delete the entries that will not change any more (see files_top.c). */
void files_top_report(struct ks_ctx *ctx, struct files_state *st, struct files_bpf *skel);

#endif
