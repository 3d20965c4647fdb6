// SPDX-License-Identifier: GPL-2.0
/* modules/pmc_events.c: `ksight pmc -e` names to perf event types and configs; the list's
 * errors; dropping counters the machine lacks; scaling multiplexed counts; what each
 * software counter is read from the tasks. */
#include "testutil.h"

#include "modules/pmc_int.h"

static const struct pmc_event *one(const char *name)
{
	const struct pmc_event *ev[PMC_MAX];
	char err[KS_ERR_LEN];

	assert_int_equal(pmc_events_parse(name, ev, err, sizeof(err)), 1);
	return ev[0];
}

/* The values of perf_event_open(2): type 0 hardware, 1 software, 3 cache; a cache event's
 * config is cache | op << 8 | result << 16 (LL 2, DTLB 3; read 0; access 0, miss 1). */
static void test_names_map_to_perf_events(void **state)
{
	static const struct {
		const char *name;
		uint32_t type;
		uint64_t config;
	} want[] = {
		{ "cycles", 0, 0 }, { "cpu-cycles", 0, 0 }, { "instructions", 0, 1 },
		{ "cache-references", 0, 2 }, { "cache-misses", 0, 3 }, { "branches", 0, 4 },
		{ "branch-instructions", 0, 4 }, { "branch-misses", 0, 5 },
		{ "LLC-loads", 3, 0x2 }, { "LLC-load-misses", 3, 0x10002 },
		{ "llc-load-misses", 3, 0x10002 }, { "dTLB-loads", 3, 0x3 },
		{ "dTLB-load-misses", 3, 0x10003 }, { "cpu-clock", 1, 0 }, { "task-clock", 1, 1 },
		{ "page-faults", 1, 2 }, { "faults", 1, 2 }, { "cs", 1, 3 },
		{ "context-switches", 1, 3 }, { "migrations", 1, 4 }, { "cpu-migrations", 1, 4 },
		{ "minor-faults", 1, 5 }, { "major-faults", 1, 6 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct pmc_event *e = one(want[i].name);

		assert_int_equal(e->type, want[i].type);
		assert_int_equal(e->config, want[i].config);
		assert_int_equal(pmc_event_hw(e), want[i].type != 1);
	}
	assert_true(pmc_event_switches(one("cs")));
	assert_false(pmc_event_switches(one("page-faults")));
}

/* Read from the tasks, each software counter is a sum of the kernel's per-task counts
 * (task_counts.h: min_flt, maj_flt, nvcsw, nivcsw, se.nr_migrations, sum_exec_runtime as
 * bits 0..5); a hardware counter is none of them. */
static void test_task_sources(void **state)
{
	static const struct {
		const char *name;
		uint32_t mask;
	} want[] = {
		{ "page-faults", 0x3 }, { "minor-faults", 0x1 }, { "major-faults", 0x2 },
		{ "cs", 0xc }, { "migrations", 0x10 }, { "cpu-clock", 0x20 },
		{ "task-clock", 0x20 }, { "cycles", 0 }, { "instructions", 0 },
		{ "LLC-load-misses", 0 }, { "dTLB-loads", 0 }, { "branch-misses", 0 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(pmc_event_task_src(one(want[i].name)), want[i].mask);
}

static void test_list_keeps_its_order(void **state)
{
	const struct pmc_event *ev[PMC_MAX];
	char err[KS_ERR_LEN];

	assert_int_equal(pmc_events_parse("task-clock,cycles,cs", ev, err, sizeof(err)), 3);
	assert_string_equal(ev[0]->name, "task-clock");
	assert_string_equal(ev[1]->name, "cycles");
	assert_string_equal(ev[2]->name, "context-switches");
	assert_string_equal(ev[2]->key, "context_switches");
	assert_int_equal(pmc_events_parse(PMC_DEFAULT_EVENTS, ev, err, sizeof(err)), PMC_MAX);
}

static void expect_error(const char *list, const char *msg)
{
	const struct pmc_event *ev[PMC_MAX];
	char err[KS_ERR_LEN] = "";

	assert_int_equal(pmc_events_parse(list, ev, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void test_bad_lists(void **state)
{
	expect_error("cycels", "-e: unknown counter 'cycels' (ksight pmc --help lists them)");
	expect_error("cs,,cycles", "-e: an empty counter name in 'cs,,cycles'");
	expect_error("cs,", "-e: an empty counter name in 'cs,'");
	expect_error("", "-e: an empty counter name in ''");
	expect_error("cs,context-switches", "-e: context-switches named twice");
	expect_error("cycles,instructions,cache-references,cache-misses,branches,branch-misses,"
		     "LLC-loads,LLC-load-misses,dTLB-loads,dTLB-load-misses,page-faults,cs,"
		     "migrations", "-e: more than 12 counters");
	expect_error("cycles ", "-e: unknown counter 'cycles ' (ksight pmc --help lists them)");
}

static void test_drop(void **state)
{
	const struct pmc_event *ev[PMC_MAX];
	char err[KS_ERR_LEN], names[128];

	assert_int_equal(pmc_events_parse("cycles,cs,LLC-load-misses,task-clock", ev, err,
					  sizeof(err)), 4);
	assert_int_equal(pmc_events_drop(ev, 4, 1 | 4, names, sizeof(names)), 2);
	assert_string_equal(names, "cycles,LLC-load-misses");
	assert_string_equal(ev[0]->name, "context-switches");
	assert_string_equal(ev[1]->name, "task-clock");
	assert_int_equal(pmc_events_drop(ev, 2, 0, names, sizeof(names)), 2);
	assert_string_equal(names, "");
	assert_int_equal(pmc_events_drop(ev, 2, 2, names, sizeof(names)), 1);
	assert_string_equal(names, "task-clock");
	assert_string_equal(ev[0]->name, "context-switches");
}

static void test_scaling(void **state)
{
	struct pmc_read full = { 1000, 50, 50 }, half = { 1000, 100, 50 }, never = { 0, 100, 0 };
	struct pmc_read third = { 1001, 300, 100 };

	assert_int_equal(pmc_scaled(&full), 1000);
	assert_int_equal(pmc_scaled(&half), 2000);
	assert_int_equal(pmc_scaled(&never), 0);
	assert_int_equal(pmc_scaled(&third), 3003);
}

/* A row's value: context switches from the hook's own count, the rest from their reads. */
static void test_value(void **state)
{
	struct pmc_state st = { 0 };
	struct pmc_row r = { 0 };
	char err[KS_ERR_LEN];

	st.n = pmc_events_parse("cs,task-clock,cycles", st.ev, err, sizeof(err));
	assert_int_equal(st.n, 3);
	r.v.switch_outs = 7;
	r.v.c[0].count = 99;	/* nothing reads a counter for cs: ignored */
	r.v.c[1].count = 123456;
	r.v.c[2] = (struct pmc_read){ 500, 4, 1 };
	assert_int_equal(pmc_value(&st, &r, 0), 7);
	assert_int_equal(pmc_value(&st, &r, 1), 123456);
	assert_int_equal(pmc_value(&st, &r, 2), 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_map_to_perf_events),
		cmocka_unit_test(test_task_sources),
		cmocka_unit_test(test_list_keeps_its_order),
		cmocka_unit_test(test_bad_lists),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_scaling),
		cmocka_unit_test(test_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
