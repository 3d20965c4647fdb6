/* SPDX-License-Identifier: GPL-2.0 */
/* The proc module's state, shared by proc.c (options, records, the tree) and proc_count.c
 * (its metrics and the agent's summary). */
#ifndef KSIGHT_PROC_INT_H
#define KSIGHT_PROC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"

struct proc_tree;

#define PROC_TREE_MAX (1 << 20)	/* processes the tree holds; more are counted as dropped */

struct proc_state {
	bool tree;		/* --tree */
	bool no_threads;	/* --no-threads */
	/* the tree and where it starts (-p) */
	struct proc_tree *t;
	bool synced, resync;
	uint32_t root;
	uint64_t snapshot;
	/* metrics */
	struct ks_metric *m_forks;	/* per forking process name */
	struct ks_comm_cache c_forks;
	struct ks_series *s_threads, *s_exits, *s_texits;
};

/* Register the module's metrics (ks_module.init). Returns 0 or -errno. */
int proc_init(struct ks_ctx *ctx, void *state);
/* Agent: one line, forks, threads and exits per second, the busiest forkers. */
void proc_summary(struct ks_ctx *ctx, void *state, double secs);

#endif
