// SPDX-License-Identifier: GPL-2.0
/*
 * cache in the agent (`ksight run --modules cache`): hits, misses and dirtied pages per
 * service in the registry, and the summary line.
 */
#include <errno.h>
#include <stdlib.h>

#include "cache.skel.h"
#include "core/ident.h"
#include "core/rows_collect.h"
#include "modules/cache_int.h"

static const struct ks_metric_desc hits_desc = {
	.name = "ksight_cache_hits_total",
	.help = "Page-cache hits (accesses that found the page cached), by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc misses_desc = {
	.name = "ksight_cache_misses_total",
	.help = "Page-cache misses (pages added to the cache for a read), by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc dirties_desc = {
	.name = "ksight_cache_dirtied_total",
	.help = "Page-cache pages (folios) dirtied, by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

int cache_agent_init(struct ks_ctx *ctx, void *state)
{
	struct cache_state *st = state;

	st->method = "none";
	st->m_hits = ks_ctx_metric(ctx, &hits_desc);
	st->m_misses = ks_ctx_metric(ctx, &misses_desc);
	st->m_dirties = ks_ctx_metric(ctx, &dirties_desc);
	return st->m_hits && st->m_misses && st->m_dirties ? 0 : -errno;
}

static void cache_agent_add(void *state, const void *row, const char *svc)
{
	const struct cache_row *r = row;
	struct cache_state *st = state;
	uint64_t hits, misses;

	cache_hits_misses(r->v.accessed, r->v.added, r->v.dirtied, &hits, &misses);
	ks_counter_add(ks_metric_get(st->m_hits, svc), hits);
	ks_counter_add(ks_metric_get(st->m_misses, svc), misses);
	ks_counter_add(ks_metric_get(st->m_dirties, svc), r->v.dirtied);
}

/* Agent: the rows that changed since the last interval into the registry, per service. */
void cache_agent_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const struct ks_row_who who = KS_ROW_WHO(struct cache_row);
	struct cache_state *st = state;
	struct cache_bpf *skel = vskel;

	ks_task_rows_collect(ctx, &st->rows, skel->maps.cache_rows, CACHE_EV_ROW, &who,
			     cache_agent_add, st);
}

/* The agent's line: hits and misses per second, the ratio, who misses most. */
void cache_agent_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct cache_state *st = state;
	uint64_t hits = ks_metric_delta(st->m_hits), misses = ks_metric_delta(st->m_misses);
	double ratio = cache_ratio(hits, misses);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "cache");
	ks_rec_rate(&r, "hits_per_s", "hits", hits, secs);
	ks_rec_rate(&r, "misses_per_s", "misses", misses, secs);
	if (ratio >= 0)
		ks_rec_add(&r, "hit_pct", "hit%", 0, KS_V_DOUBLE)->d = ratio;
	ks_rec_uint(&r, "dirtied", "dirtied", 0, ks_metric_delta(st->m_dirties));
	ks_rec_top(&r, "top_misses", "top:", &o, top, 5, st->m_misses, secs);
	ks_emit(ctx, &r);
}
