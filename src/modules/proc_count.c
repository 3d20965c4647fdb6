// SPDX-License-Identifier: GPL-2.0
/* proc: what it counts in the metrics registry, and the agent's line from it. */
#include <errno.h>

#include "modules/proc_int.h"

static const struct ks_metric_desc proc_forks_desc = {
	.name = "ksight_proc_forks_total",
	.help = "New processes (forks, vforks, clones without CLONE_THREAD), per parent name",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
	.budget = 512,
	.idle = 60,	/* intervals: names gone quiet make room for new ones */
};

static const struct ks_metric_desc proc_threads_desc = {
	.name = "ksight_proc_threads_total",
	.help = "New threads",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc proc_exits_desc = {
	.name = "ksight_proc_exits_total",
	.help = "Processes that ended (their last thread)",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc proc_texits_desc = {
	.name = "ksight_proc_thread_exits_total",
	.help = "Threads that ended, other than a process's last",
	.type = KS_METRIC_COUNTER,
};

int proc_init(struct ks_ctx *ctx, void *state)
{
	struct proc_state *st = state;
	struct ks_metric *threads = ks_ctx_metric(ctx, &proc_threads_desc);
	struct ks_metric *exits = ks_ctx_metric(ctx, &proc_exits_desc);
	struct ks_metric *texits = ks_ctx_metric(ctx, &proc_texits_desc);

	st->m_forks = ks_ctx_metric(ctx, &proc_forks_desc);
	if (!st->m_forks || !threads || !exits || !texits)
		return -errno;
	st->s_threads = ks_metric_get(threads, NULL);
	st->s_exits = ks_metric_get(exits, NULL);
	st->s_texits = ks_metric_get(texits, NULL);
	return 0;
}

void proc_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct proc_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "proc");
	ks_rec_rate(&r, "forks_per_s", "forks", ks_metric_delta(st->m_forks), secs);
	ks_rec_rate(&r, "threads_per_s", "threads", ks_counter_delta(st->s_threads), secs);
	ks_rec_rate(&r, "exits_per_s", "exits", ks_counter_delta(st->s_exits), secs);
	ks_rec_rate(&r, "thread_exits_per_s", "thread-exits", ks_counter_delta(st->s_texits), secs);
	ks_rec_top(&r, "top_forkers", "top:", &o, top, 5, st->m_forks, 0);
	ks_emit(ctx, &r);
}
