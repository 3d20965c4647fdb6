/* SPDX-License-Identifier: GPL-2.0 */
/* What the pmc module's files share: the counters it knows and the chosen list. */
#ifndef KSIGHT_PMC_INT_H
#define KSIGHT_PMC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>

#include "core/module.h"
#include "core/rows.h"
#include "core/task_counts.h"
#include "pmc.h"

/* One counter `ksight pmc -e` can name. */
struct pmc_event {
	const char *name;	/* perf's name: "cycles", "LLC-load-misses" */
	const char *alias;	/* another accepted name ("cs"), or NULL */
	uint32_t type;		/* PERF_TYPE_HARDWARE, _HW_CACHE or _SOFTWARE */
	uint64_t config;
	const char *key;	/* its JSON key */
	const char *col;	/* its table column */
	int width;
};

/* Every counter known, ending at name NULL; and the default list. */
#define PMC_EVENTS 17
extern const struct pmc_event pmc_events[PMC_EVENTS + 1];
#define PMC_DEFAULT_EVENTS "cycles,instructions,cache-references,cache-misses,branch-misses," \
			   "LLC-load-misses,dTLB-load-misses,page-faults,cs,migrations,cpu-clock," \
			   "task-clock"

static inline bool pmc_event_hw(const struct pmc_event *e)
{
	return e->type != PERF_TYPE_SOFTWARE;
}

/* Context switches: the switch hook counts the task's own switch-outs, no perf event. */
static inline bool pmc_event_switches(const struct pmc_event *e)
{
	return e->type == PERF_TYPE_SOFTWARE && e->config == PERF_COUNT_SW_CONTEXT_SWITCHES;
}

/* cpu-clock and task-clock: on-CPU time, which the switch hook times itself (the time
 * between a task's two switches is what either counter, per CPU, advances by): no perf
 * event. */
static inline bool pmc_event_clock(const struct pmc_event *e)
{
	return e->type == PERF_TYPE_SOFTWARE && (e->config == PERF_COUNT_SW_CPU_CLOCK ||
						 e->config == PERF_COUNT_SW_TASK_CLOCK);
}

/* Whether counter @e needs a perf event per CPU: all but switches and clocks. */
static inline bool pmc_event_opened(const struct pmc_event *e)
{
	return !pmc_event_switches(e) && !pmc_event_clock(e);
}

/* The task counters (KS_TC_BIT()s of bpf/task_counts.h) whose sum counter @e is when read
 * from the tasks, 0 when it is not one the kernel keeps per task (the hardware ones). */
uint32_t pmc_event_task_src(const struct pmc_event *e);

/*
 * Parse @list, counter names separated by commas (case does not matter), into @out (up to
 * PMC_MAX). Returns the count, or -1 with one line in @err: an unknown or repeated name,
 * an empty one, too many.
 */
int pmc_events_parse(const char *list, const struct pmc_event **out, char *err, size_t len);

/*
 * Drop the counters of @ev (@n) whose bit is set in @drop (bit i: ev[i]), keeping the
 * order of the rest; their names, comma separated, into @names. Returns how many are left.
 */
int pmc_events_drop(const struct pmc_event **ev, int n, uint32_t drop, char *names, size_t len);

/* A counter's value over a stretch: its count scaled up by the time it was enabled over the
 * time it counted (hardware counters multiplexed), the count itself when never scaled. */
uint64_t pmc_scaled(const struct pmc_read *r);

struct pmc_row {
	struct pmc_key k;
	struct pmc_val v;
};

struct pmc_state {
	const char *events;	/* -e, as given */
	const char *read;	/* --read: "tasks", "switches", or NULL (the cheaper one) */
	bool tasks;		/* chosen: read from the tasks, not at every switch */
	struct ks_tc_reader reader;	/* tasks: the iterator over them */
	bool per_process;	/* -P (the default) */
	bool per_thread;	/* -L */
	bool per_cgroup;	/* --per-cgroup */
	uint64_t top;		/* --top: rows per report, 0: all */
	const struct pmc_event *ev[PMC_MAX];	/* the counters, in the kernel's order */
	int n;
	int cycles, instructions;	/* their index in ev, or -1: for IPC */
	struct ks_task_rows rows;	/* the kernel's table, as the last report saw it */
	struct ks_metric *m[PMC_MAX];	/* the agent's: each counter per service */
};

/* Counter @i of row @r: its count scaled up for multiplexing, or for context switches the
 * task's switch-outs (the hook counts them: no perf event). */
uint64_t pmc_value(const struct pmc_state *st, const struct pmc_row *r, int i);

/* The agent's side (pmc_agent.c): register the chosen counters' metrics (0 or -errno);
 * the rows that changed since the last call into the registry, per service; the summary. */
int pmc_agent_init(struct ks_ctx *ctx, void *state);
struct bpf_map;
void pmc_agent_collect(struct ks_ctx *ctx, struct pmc_state *st, struct bpf_map *rows);
void pmc_agent_summary(struct ks_ctx *ctx, void *state, double secs);

#endif
