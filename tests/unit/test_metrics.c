// SPDX-License-Identifier: GPL-2.0
/* core/metrics.c: naming rules, label sets, budgets and overflow, deltas, top lists,
 * retirement, histograms, iteration. */
#include "testutil.h"

#include <errno.h>

#include "core/metrics.h"

static struct ks_metrics *r;

static int setup(void **state)
{
	r = ks_metrics__new();
	return r ? 0 : -1;
}

static int teardown(void **state)
{
	ks_metrics__free(r);
	return 0;
}

static const struct ks_metric_desc calls = {
	.name = "ksight_test_calls_total", .help = "calls", .type = KS_METRIC_COUNTER,
	.labels = { "comm" }, .budget = 3,
};

static void test_names(void **state)
{
	static const struct ks_metric_desc bad[] = {
		{ .name = "ksight_x", .help = "a counter must end in _total",
		  .type = KS_METRIC_COUNTER },
		{ .name = "ksight_x_total", .help = "only counters end in _total",
		  .type = KS_METRIC_GAUGE },
		{ .name = "other_x_total", .help = "the prefix", .type = KS_METRIC_COUNTER },
		{ .name = "ksight_x-y_total", .help = "a dash", .type = KS_METRIC_COUNTER },
		{ .name = "ksight_x_total", .type = KS_METRIC_COUNTER },	/* no help */
		{ .name = "ksight_lat", .help = "no unit suffix", .type = KS_METRIC_HIST,
		  .unit = "seconds", .scale = 1e-9 },
		{ .name = "ksight_lat_seconds", .help = "no scale", .type = KS_METRIC_HIST,
		  .unit = "seconds" },
		{ .name = "ksight_lat_ms", .help = "not a base unit", .type = KS_METRIC_HIST,
		  .unit = "ms", .scale = 1 },
		{ .name = "ksight_argc", .help = "no unit, scaled", .type = KS_METRIC_HIST,
		  .scale = 2 },
		{ .name = "ksight_argc", .help = "no unit, no scale", .type = KS_METRIC_HIST },
		{ .name = "ksight_lat_seconds", .help = "le is Prometheus'", .type = KS_METRIC_HIST,
		  .unit = "seconds", .scale = 1e-9, .labels = { "le" } },
		{ .name = "ksight_x_total", .help = "reserved label", .type = KS_METRIC_COUNTER,
		  .labels = { "__name" } },
		{ .name = "ksight_x_total", .help = "a bad label", .type = KS_METRIC_COUNTER,
		  .labels = { "9a" } },
		{ .name = "ksight_x_total", .help = "too many", .type = KS_METRIC_COUNTER,
		  .labels = { "a", "b", "c", "d" } },
	};
	static const struct ks_metric_desc good = {
		.name = "ksight_lat_seconds", .help = "fine", .type = KS_METRIC_HIST,
		.unit = "seconds", .scale = 1e-9, .labels = { "disk", "op", "service" },
	};
	static const struct ks_metric_desc count_hist = {
		.name = "ksight_argc", .help = "a count: no unit, scale 1", .type = KS_METRIC_HIST,
		.scale = 1,
	};
	static const struct ks_metric_desc clash = {
		.name = "ksight_lat_seconds", .help = "same name, other type",
		.type = KS_METRIC_GAUGE,
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		errno = 0;
		if (ks_metrics__register(r, &bad[i]) || errno != EINVAL)
			fail_msg("accepted: %s (%s)", bad[i].name, bad[i].help);
	}
	struct ks_metric *m = ks_metrics__register(r, &good);

	assert_non_null(m);
	assert_ptr_equal(ks_metrics__register(r, &good), m);	/* again: the same */
	assert_ptr_equal(ks_metrics__find(r, "ksight_lat_seconds"), m);
	assert_null(ks_metrics__register(r, &clash));
	assert_int_equal(errno, EEXIST);
	assert_non_null(ks_metrics__register(r, &count_hist));	/* run --bpf's */
}

static uint64_t total(const struct ks_metric *m)
{
	uint64_t sum = 0;

	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s))
		sum += s->v.u;
	return sum;
}

static void test_labels_and_budget(void **state)
{
	struct ks_metric *m = ks_metrics__register(r, &calls);
	const char comm[16] = "bash";	/* as in a record header: NUL-padded */
	const char *cp = comm;
	size_t len = sizeof(comm);
	struct ks_series *a, *hits;

	assert_non_null(m);
	a = ks_metric_get(m, "bash");
	assert_ptr_equal(ks_metric_getn(m, &cp, &len), a);	/* cut at the NUL */
	assert_ptr_not_equal(ks_metric_get(m, "bas"), a);
	assert_string_equal(a->label[0], "bash");
	ks_counter_add(a, 5);
	ks_counter_add(ks_metric_get(m, "sh"), 1);	/* the third label set: the budget */
	assert_false(a->overflow);
	/* past the budget: the overflow series, each update a hit */
	for (int i = 0; i < 4; i++)
		ks_counter_add(ks_metric_get(m, i & 1 ? "cc1" : "ld"), 10);
	assert_true(ks_metric_get(m, "cc1")->overflow);
	assert_int_equal(m->nseries, 3);
	assert_int_equal(m->overflow.v.u, 40);
	assert_int_equal(total(m), 5 + 1 + 40);
	hits = ks_metric_get(ks_metrics__find(r, "ksight_metric_budget_hits_total"),
			     "ksight_test_calls_total");
	assert_int_equal(hits->v.u, 5);	/* four adds and the lookup above */
	/* existing label sets still resolve */
	assert_ptr_equal(ks_metric_get(m, "bash"), a);
	/* iteration: creation order, the overflow series last */
	const struct ks_series *s = ks_series_first(m);

	assert_string_equal(s->label[0], "bash");
	s = ks_series_next(s);
	assert_string_equal(s->label[0], "bas");
	s = ks_series_next(s);
	assert_string_equal(s->label[0], "sh");
	s = ks_series_next(s);
	assert_true(s->overflow);
	assert_null(s->label[0]);
	assert_null(ks_series_next(s));
}

static void test_deltas_and_top(void **state)
{
	static const struct ks_metric_desc d = {
		.name = "ksight_test_ops_total", .help = "ops", .type = KS_METRIC_COUNTER,
		.labels = { "op" }, .budget = 8,
	};
	struct ks_metric *m = ks_metrics__register(r, &d);
	struct ks_metric_top top[3];
	const char *names[] = { "a", "b", "c", "d", "e" };
	const uint64_t adds[] = { 5, 9, 5, 0, 1 };

	for (int i = 0; i < 5; i++)
		ks_counter_add(ks_metric_get(m, names[i]), adds[i]);
	assert_int_equal(ks_metric_delta(m), 20);
	/* largest first, ties by label, no zero deltas, at most k */
	assert_int_equal(ks_metric_top(m, 3, top), 3);
	assert_string_equal(top[0].s->label[0], "b");
	assert_int_equal(top[0].delta, 9);
	assert_string_equal(top[1].s->label[0], "a");
	assert_string_equal(top[2].s->label[0], "c");
	ks_metrics__mark(r);
	assert_int_equal(ks_metric_delta(m), 0);
	assert_int_equal(ks_metric_top(m, 3, top), 0);
	ks_counter_add(ks_metric_get(m, "d"), 2);
	ks_counter_add(ks_metric_get(m, "e"), 3);
	assert_int_equal(ks_metric_top(m, 3, top), 2);
	assert_string_equal(top[0].s->label[0], "e");
	assert_int_equal(top[0].delta, 3);
	assert_int_equal(ks_counter_delta(ks_metric_get(m, "b")), 0);
	assert_int_equal(ks_metric_get(m, "b")->v.u, 9);	/* cumulative: never reset */
	/* a mirrored total only grows */
	ks_counter_set(ks_metric_get(m, "a"), 3);
	assert_int_equal(ks_metric_get(m, "a")->v.u, 5);
	ks_counter_set(ks_metric_get(m, "a"), 8);
	assert_int_equal(ks_counter_delta(ks_metric_get(m, "a")), 3);
}

static void test_retire(void **state)
{
	static const struct ks_metric_desc d = {
		.name = "ksight_test_idle_total", .help = "idle", .type = KS_METRIC_COUNTER,
		.labels = { "comm" }, .budget = 2, .idle = 2,
	};
	struct ks_metric *m = ks_metrics__register(r, &d);
	struct ks_comm_cache cache = { 0 };
	char comm[16] = "quiet";
	struct ks_series *busy;
	uint32_t gen;

	ks_counter_add(ks_metric_comm(m, &cache, 7, comm), 4);
	assert_ptr_equal(ks_metric_comm(m, &cache, 7, comm), cache.s);	/* the cached one */
	busy = ks_metric_get(m, "busy");
	ks_counter_add(busy, 1);
	ks_metrics__mark(r);		/* both changed in that interval */
	ks_counter_add(busy, 1);
	ks_counter_add(ks_metric_get(m, "full"), 1);	/* no room: overflow */
	ks_metrics__mark(r);		/* "quiet": one interval unchanged */
	assert_int_equal(m->nseries, 2);
	gen = m->gen;
	ks_counter_add(busy, 1);
	ks_metrics__mark(r);		/* two: it retires into the overflow series */
	assert_int_equal(m->nseries, 1);
	assert_int_equal(m->gen, gen + 1);
	assert_int_equal(m->overflow.v.u, 1 + 4);
	assert_int_equal(ks_counter_delta(&m->overflow), 0);	/* moving is not growing */
	assert_int_equal(total(m), 4 + 3 + 1);
	/* the cache notices: the next lookup makes the series anew, with room again */
	struct ks_series *again = ks_metric_comm(m, &cache, 7, comm);

	assert_false(again->overflow);
	assert_int_equal(again->v.u, 0);
	assert_int_equal(m->nseries, 2);
}

static void test_hist(void **state)
{
	static const struct ks_metric_desc d = {
		.name = "ksight_test_latency_seconds", .help = "lat", .type = KS_METRIC_HIST,
		.unit = "seconds", .scale = 1e-9,
	};
	struct ks_metric *m = ks_metrics__register(r, &d);
	struct ks_series *s = ks_metric_get(m, NULL);
	const __u64 more[4] = { 0, 2, 0, 1 };
	struct ks_hist_vals delta;

	ks_hist_observe(s, 0);
	ks_hist_observe(s, 1);
	ks_hist_observe(s, 3);
	ks_hist_observe(s, 1000);	/* [512, 1024) */
	assert_int_equal(s->h->slots[0], 2);
	assert_int_equal(s->h->slots[1], 1);
	assert_int_equal(s->h->slots[9], 1);
	assert_int_equal(s->h->count, 4);
	assert_near(ks_hist_sum(s, s->h), 1004e-9);
	ks_metrics__mark(r);
	ks_hist_add(s, more, 4, 3, 2000);
	ks_hist_observe(s, UINT64_MAX);	/* the last slot */
	ks_hist_delta(s, &delta);
	assert_int_equal(delta.count, 4);
	assert_int_equal(delta.slots[1], 2);
	assert_int_equal(delta.slots[3], 1);
	assert_int_equal(delta.slots[63], 1);
	assert_int_equal(delta.slots[9], 0);
	ks_metric_hist_delta(m, &delta);
	assert_int_equal(delta.count, 4);
	assert_int_equal(s->h->count, 8);	/* cumulative */
}

/* ks_hist_bound, the one source of bucket bounds: log2's 2^(i+1) - 1 (the highest whole
 * value slot i holds: 2^(i+1) is slot i+1's), linear's min + i*step
 * (inclusive, Prometheus' le), +Inf for the last slot; a scale of 1e-9 gives the double
 * nearest the decimal (100 ns: 1e-07, where 100 * 1e-9 is 1.0000000000000001e-07). */
static void test_hist_bounds(void **state)
{
	static const struct ks_metric_desc log2 = {
		.name = "ksight_test_a_seconds", .help = "a", .type = KS_METRIC_HIST,
		.unit = "seconds", .scale = 1e-9,
	};
	static const struct ks_metric_desc lin = {
		.name = "ksight_test_b_seconds", .help = "b", .type = KS_METRIC_HIST,
		.unit = "seconds", .scale = 1e-9,
		.buckets = { .layout = KS_HIST_LINEAR, .count = 10, .min = 0, .step = 100 },
	};
	static const struct ks_metric_desc neg = {
		.name = "ksight_test_c", .help = "c", .type = KS_METRIC_HIST, .scale = 1,
		.buckets = { .layout = KS_HIST_LINEAR, .count = 4, .min = -10, .step = 5 },
	};
	struct ks_metric_desc bad = neg, other;
	struct ks_hist_vals h = { 0 };

	assert_int_equal(ks_hist_nslots(&log2), 64);
	assert_true(ks_hist_bound(&log2, 0) == 1e-09);
	assert_true(ks_hist_bound(&log2, 9) == 1.023e-06);
	assert_true(ks_hist_bound(&log2, 62) == (double)INT64_MAX / 1e9);
	assert_true(isinf(ks_hist_bound(&log2, 63)));
	assert_int_equal(ks_hist_nslots(&lin), 12);
	assert_true(ks_hist_bound(&lin, 0) == 0);
	assert_true(ks_hist_bound(&lin, 1) == 1e-07);
	assert_true(ks_hist_bound(&lin, 3) == 3e-07);
	assert_true(ks_hist_bound(&lin, 10) == 1e-06);
	assert_true(isinf(ks_hist_bound(&lin, 11)));
	assert_true(isinf(ks_hist_bound(&lin, 40)));
	for (unsigned int i = 0; i <= 4; i++)
		assert_true(ks_hist_bound(&neg, i) == -10.0 + 5.0 * i);
	assert_true(isinf(ks_hist_bound(&neg, 5)));
	/* what a sink shows: log2 up to the last used slot, linear every bound */
	assert_int_equal(ks_hist_shown(&log2, &h), 0);
	assert_int_equal(ks_hist_shown(&lin, &h), 11);
	h.slots[3] = 1;
	assert_int_equal(ks_hist_shown(&log2, &h), 4);
	h.slots[63] = 1;
	assert_int_equal(ks_hist_shown(&log2, &h), 63);
	assert_int_equal(ks_hist_shown(&lin, &h), 11);
	/* registered as they are; a layout the slots or an int64_t cannot hold is refused */
	assert_non_null(ks_metrics__register(r, &lin));
	assert_non_null(ks_metrics__register(r, &neg));
	bad.name = "ksight_test_bad";
	bad.buckets.step = 0;
	assert_null(ks_metrics__register(r, &bad));
	assert_int_equal(errno, EINVAL);
	bad.buckets.step = 5;
	bad.buckets.count = 0;
	assert_null(ks_metrics__register(r, &bad));
	bad.buckets.count = KS_HIST_LINEAR_MAX + 1;
	assert_null(ks_metrics__register(r, &bad));
	bad.buckets.count = KS_HIST_LINEAR_MAX;
	bad.buckets.min = INT64_MAX - 5 * KS_HIST_LINEAR_MAX + 1;
	assert_null(ks_metrics__register(r, &bad));
	bad.buckets.min = INT64_MAX - 5 * KS_HIST_LINEAR_MAX;
	assert_non_null(ks_metrics__register(r, &bad));
	/* a name registered again with another layout: a clash (descs are kept by pointer) */
	other = bad;
	other.buckets.min = 0;
	assert_null(ks_metrics__register(r, &other));
	assert_int_equal(errno, EEXIST);
}

static void test_gauge_and_order(void **state)
{
	static const struct ks_metric_desc g = {
		.name = "ksight_test_fill_ratio", .help = "fill", .type = KS_METRIC_GAUGE,
	};
	struct ks_metric *c = ks_metrics__register(r, &calls);
	struct ks_metric *m = ks_metrics__register(r, &g);
	const struct ks_metric *it = ks_metrics_first(r);

	ks_gauge_set(ks_metric_get(m, NULL), 0.25);
	assert_near(ks_metric_get(m, NULL)->v.d, 0.25);
	/* registration order, the registry's own metric first */
	assert_string_equal(it->d->name, "ksight_metric_budget_hits_total");
	assert_ptr_equal(ks_metric_next(it), c);
	assert_ptr_equal(ks_metric_next(ks_metric_next(it)), m);
	assert_null(ks_metric_next(m));
	/* every metric has its zero in the budget hits, for an honest 0 */
	assert_non_null(ks_series_first(it));
	/* a lookup the metric's labels do not allow is counted, not a crash */
	assert_true(ks_metric_get(c, NULL)->overflow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_and_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deltas_and_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gauge_and_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
