/* SPDX-License-Identifier: GPL-2.0 */
/* The bio module's state, shared by bio.c (options, tools) and bio_agent.c (the agent's
 * metrics, bio_row events and line). */
#ifndef KSIGHT_BIO_INT_H
#define KSIGHT_BIO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "modules/bio_svc.h"

#define BIO_CMD_TOP 0
#define BIO_CMD_SNOOP 1
#define BIO_NAMES 32

struct bio_state {
	int cmd;		/* BIO_CMD_* */
	bool per_process;	/* -P (the default) */
	bool per_thread;	/* -L */
	bool per_cgroup;	/* --per-cgroup */
	const char *disk;	/* -d */
	uint32_t dev;		/* -d resolved */
	bool io_start;		/* the kernel has block_io_start (6.5+): owners from there */
	int sort;		/* --sort: enum bio_sort */
	uint64_t top;		/* --top: rows per report, 0: all */
	struct ks_task_rows rows;	/* the kernel's table, as the last report saw it */
	struct {
		uint32_t dev;
		char name[32];
	} names[BIO_NAMES];	/* disk names seen, for the records and the series */
	size_t nnames;
	/* the agent's: per service and disk (bio_agent.c) */
	struct ks_metric *m_rbytes, *m_wbytes, *m_ops;
	struct ks_ctx *ctx;	/* during bio_collect, when the rows go out as records too */
	struct bio_svcs svcs;	/* ... merged per service first (not per disk) */
};

/* The name of disk @dev ("loop3"), from /sys once per disk; "MAJ:MIN" when it has none.
 * Never NULL; valid until the next call (a slot of @st's table). */
const char *bio_disk_name(struct bio_state *st, uint32_t dev);

/* Agent: register the per-service and per-disk metrics. Returns 0 or -errno. */
int bio_agent_init(struct ks_ctx *ctx, struct bio_state *st);
/* Agent: the rows that changed since the last interval into the registry, per service and
 * disk, and with a store one bio_row event per service. */
void bio_collect(struct ks_ctx *ctx, void *state, void *vskel);
/* Agent: the summary line of the interval (@secs long). */
void bio_summary(struct ks_ctx *ctx, void *state, double secs);

#endif
