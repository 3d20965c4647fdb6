// SPDX-License-Identifier: GPL-2.0
/*
 * pmc: the counters `ksight pmc -e` knows, by perf's names, and the parsing of a list of
 * them (tests/unit/test_pmc.c).
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "modules/pmc_int.h"
#include "task_counts.h"

/* A hardware cache event: which cache, read, and misses or accesses. */
#define CACHE(c, res) ((c) | (PERF_COUNT_HW_CACHE_OP_READ << 8) | ((res) << 16))

const struct pmc_event pmc_events[PMC_EVENTS + 1] = {
	{ "cycles", "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles",
	  "CYCLES", 12 },
	{ "instructions", NULL, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions",
	  "INSTR", 12 },
	{ "cache-references", NULL, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES,
	  "cache_references", "CACHE-REF", 11 },
	{ "cache-misses", NULL, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache_misses",
	  "CACHE-MISS", 11 },
	{ "branches", "branch-instructions", PERF_TYPE_HARDWARE,
	  PERF_COUNT_HW_BRANCH_INSTRUCTIONS, "branches", "BRANCHES", 11 },
	{ "branch-misses", NULL, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES,
	  "branch_misses", "BR-MISS", 10 },
	{ "LLC-loads", NULL, PERF_TYPE_HW_CACHE,
	  CACHE(PERF_COUNT_HW_CACHE_LL, PERF_COUNT_HW_CACHE_RESULT_ACCESS), "llc_loads",
	  "LLC-LOADS", 10 },
	{ "LLC-load-misses", NULL, PERF_TYPE_HW_CACHE,
	  CACHE(PERF_COUNT_HW_CACHE_LL, PERF_COUNT_HW_CACHE_RESULT_MISS), "llc_load_misses",
	  "LLC-MISS", 10 },
	{ "dTLB-loads", NULL, PERF_TYPE_HW_CACHE,
	  CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_RESULT_ACCESS), "dtlb_loads",
	  "DTLB-LOADS", 11 },
	{ "dTLB-load-misses", NULL, PERF_TYPE_HW_CACHE,
	  CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_RESULT_MISS), "dtlb_load_misses",
	  "DTLB-MISS", 10 },
	{ "page-faults", "faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page_faults",
	  "FAULTS", 9 },
	{ "minor-faults", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN,
	  "minor_faults", "MINFLT", 9 },
	{ "major-faults", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	  "major_faults", "MAJFLT", 7 },
	{ "context-switches", "cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES,
	  "context_switches", "CSW", 8 },
	{ "cpu-migrations", "migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS,
	  "cpu_migrations", "MIGR", 6 },
	{ "cpu-clock", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "cpu_clock_ns",
	  "CPU-CLOCK", 10 },
	{ "task-clock", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task_clock_ns",
	  "TASK-CLOCK", 10 },
	{ 0 },
};

uint32_t pmc_event_task_src(const struct pmc_event *e)
{
	if (e->type != PERF_TYPE_SOFTWARE)
		return 0;
	switch (e->config) {
	case PERF_COUNT_SW_PAGE_FAULTS:
		return KS_TC_BIT(KS_TC_MINFLT) | KS_TC_BIT(KS_TC_MAJFLT);
	case PERF_COUNT_SW_PAGE_FAULTS_MIN:
		return KS_TC_BIT(KS_TC_MINFLT);
	case PERF_COUNT_SW_PAGE_FAULTS_MAJ:
		return KS_TC_BIT(KS_TC_MAJFLT);
	case PERF_COUNT_SW_CONTEXT_SWITCHES:
		return KS_TC_BIT(KS_TC_NVCSW) | KS_TC_BIT(KS_TC_NIVCSW);
	case PERF_COUNT_SW_CPU_MIGRATIONS:
		return KS_TC_BIT(KS_TC_MIGRATIONS);
	case PERF_COUNT_SW_CPU_CLOCK:
	case PERF_COUNT_SW_TASK_CLOCK:
		return KS_TC_BIT(KS_TC_RUNTIME);
	}
	return 0;
}

static const struct pmc_event *find(const char *name, size_t n)
{
	for (const struct pmc_event *e = pmc_events; e->name; e++)
		if ((strlen(e->name) == n && !strncasecmp(e->name, name, n)) ||
		    (e->alias && strlen(e->alias) == n && !strncasecmp(e->alias, name, n)))
			return e;
	return NULL;
}

int pmc_events_parse(const char *list, const struct pmc_event **out, char *err, size_t len)
{
	int n = 0;

	for (const char *p = list;; p++) {
		size_t k = strcspn(p, ",");
		const struct pmc_event *e = find(p, k);

		if (!k) {
			snprintf(err, len, "-e: an empty counter name in '%s'", list);
			return -1;
		}
		if (!e) {
			snprintf(err, len, "-e: unknown counter '%.*s' (ksight pmc --help lists "
				 "them)", (int)(k > 64 ? 64 : k), p);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (out[i] == e) {
				snprintf(err, len, "-e: %s named twice", e->name);
				return -1;
			}
		if (n == PMC_MAX) {
			snprintf(err, len, "-e: more than %d counters", PMC_MAX);
			return -1;
		}
		out[n++] = e;
		p += k;
		if (!*p)
			return n;
	}
}

int pmc_events_drop(const struct pmc_event **ev, int n, uint32_t drop, char *names, size_t len)
{
	size_t at = 0;
	int kept = 0;

	if (len)
		names[0] = 0;
	for (int i = 0; i < n; i++) {
		if (!(drop & 1u << i)) {
			ev[kept++] = ev[i];
			continue;
		}
		if (at < len)
			at += snprintf(names + at, len - at, "%s%s", at ? "," : "", ev[i]->name);
	}
	return kept;
}

uint64_t pmc_scaled(const struct pmc_read *r)
{
	if (!r->running || r->running >= r->enabled)
		return r->count;
	return (uint64_t)((double)r->count * r->enabled / r->running + 0.5);
}

uint64_t pmc_value(const struct pmc_state *st, const struct pmc_row *r, int i)
{
	return pmc_event_switches(st->ev[i]) ? r->v.switch_outs : pmc_scaled(&r->v.c[i]);
}
