/* SPDX-License-Identifier: GPL-2.0 */
/* runq module internals: the state shared by runq.c and runq_pre.c (--preemptor). */
#ifndef KSIGHT_RUNQ_INT_H
#define KSIGHT_RUNQ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pidset.h"
#include "core/rows.h"
#include "runq.h"
#include "sink/record.h"

struct ks_ctx;
struct ks_metric;
struct runq_bpf;

#define RUNQ_CMD_LAT 0		/* the command's mode: runqlat */
#define RUNQ_CMD_DIST 1		/* cpudist */

struct runq_row {
	struct runq_key k;
	struct runq_hist v;
};

struct runq_pre_row {
	struct runq_pre_key k;
	struct runq_pre v;
};

struct runq_state {
	int cmd;		/* RUNQ_CMD_* */
	bool per_process;	/* -P */
	bool per_thread;	/* -L */
	bool per_cgroup;	/* --per-cgroup */
	bool offcpu;		/* -O (cpudist) */
	bool preemptor;		/* --preemptor (runqlat) */
	/* the totals the last report saw, sorted by key */
	struct runq_row *prev;
	size_t nprev;
	struct ks_pidset gone;	/* processes that exited since the last report */
	uint64_t gone_count;	/* intervals of histograms deleted since */
	struct ks_task_rows pre;	/* --preemptor: the (victim, preemptor) table's reader */
	struct runq_pre_row *pre_d;	/* its rows that changed, read for this report */
	size_t pre_n;
	struct ks_metric *m_lat;	/* the agent's: run-queue latency per service */
};

/* --preemptor's table reader, in init. */
void runq_pre_init(struct runq_state *st);
/* --preemptor: the (victim, preemptor) rows that changed since the last call into
 * st->pre_d, sorted by victim then most delay first (runq_pre_done frees them). */
void runq_pre_read(struct ks_ctx *ctx, struct runq_state *st, struct runq_bpf *skel);
/* Emit the preemptor rows read for victim @victim (made by thread @comm), as a table. */
void runq_pre_emit(struct ks_ctx *ctx, const struct runq_state *st,
		   const struct runq_key *victim, const char *comm);
void runq_pre_done(struct runq_state *st);
/* Queue every cgroup's path for the worker, so that the first report names them. */
void runq_pre_started(struct ks_ctx *ctx);
/* The victim columns of a record (pid, tid, comm or cgroup) of @k, made by @comm. */
void runq_victim_cols(struct ks_ctx *ctx, const struct runq_state *st, struct ks_rec *r,
		      const struct runq_key *k, const char *comm);

#endif
