// SPDX-License-Identifier: GPL-2.0
/*
 * pmc in the agent (`ksight run --modules pmc`): each counter into the registry per
 * service (ksight_pmc_<key>_total), and a summary line each interval.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/ident.h"
#include "core/rows_collect.h"
#include "modules/pmc_int.h"

/* The agent's metrics: one counter series per known counter and service. */
#define PMC_METRIC(key, text)                                                             \
	{ .name = "ksight_pmc_" key "_total", .help = text ", by service",                 \
	  .type = KS_METRIC_COUNTER, .labels = { "service" }, .idle = 60 }

static const struct ks_metric_desc pmc_descs[] = {
	PMC_METRIC("cycles", "CPU cycles"),
	PMC_METRIC("instructions", "Instructions retired"),
	PMC_METRIC("cache_references", "Cache references"),
	PMC_METRIC("cache_misses", "Cache misses"),
	PMC_METRIC("branches", "Branch instructions"),
	PMC_METRIC("branch_misses", "Mispredicted branches"),
	PMC_METRIC("llc_loads", "Last-level cache loads"),
	PMC_METRIC("llc_load_misses", "Last-level cache load misses"),
	PMC_METRIC("dtlb_loads", "Data TLB loads"),
	PMC_METRIC("dtlb_load_misses", "Data TLB load misses"),
	PMC_METRIC("page_faults", "Page faults"),
	PMC_METRIC("minor_faults", "Page faults served without I/O"),
	PMC_METRIC("major_faults", "Page faults that waited for I/O"),
	PMC_METRIC("context_switches", "Context switches"),
	PMC_METRIC("cpu_migrations", "Moves to another CPU"),
	PMC_METRIC("cpu_clock_ns", "On-CPU time, ns (cpu-clock)"),
	PMC_METRIC("task_clock_ns", "On-CPU time, ns (task-clock)"),
};

_Static_assert(sizeof(pmc_descs) / sizeof(pmc_descs[0]) == PMC_EVENTS, "one per counter");

int pmc_agent_init(struct ks_ctx *ctx, void *state)
{
	struct pmc_state *st = state;

	for (int i = 0; i < st->n; i++)
		if (!(st->m[i] = ks_ctx_metric(ctx, &pmc_descs[st->ev[i] - pmc_events])))
			return -errno;
	return 0;
}

static void pmc_agent_add(void *state, const void *row, const char *svc)
{
	struct pmc_state *st = state;

	for (int j = 0; j < st->n; j++)
		ks_counter_add(ks_metric_get(st->m[j], svc), pmc_value(st, row, j));
}

void pmc_agent_collect(struct ks_ctx *ctx, struct pmc_state *st, struct bpf_map *rows)
{
	static const struct ks_row_who who = KS_ROW_WHO(struct pmc_row);

	ks_task_rows_collect(ctx, &st->rows, rows, PMC_EV_ROWS, &who, pmc_agent_add, st);
}

/* The agent's line: each counter per second, IPC where there are cycles, and the services
 * with most of the first counter. */
void pmc_agent_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct pmc_state *st = state;
	char keys[PMC_MAX][40];
	uint64_t delta[PMC_MAX];
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "pmc");
	for (int i = 0; i < st->n; i++) {
		delta[i] = ks_metric_delta(st->m[i]);
		snprintf(keys[i], sizeof(keys[i]), "%s_per_s", st->ev[i]->key);
		ks_rec_rate(&r, keys[i], st->ev[i]->name, delta[i], secs);
	}
	for (int i = 0; i < st->n; i++)
		ks_rec_uint(&r, st->ev[i]->key, NULL, 0, delta[i]);
	if (st->cycles >= 0 && st->instructions >= 0)
		ks_rec_add(&r, "ipc", "ipc", 0, KS_V_DOUBLE)->d =
			delta[st->cycles] ? (double)delta[st->instructions] / delta[st->cycles] : 0;
	if (st->n)
		ks_rec_top(&r, "top", "top:", &o, top, 5, st->m[0], secs);
	ks_emit(ctx, &r);
}
