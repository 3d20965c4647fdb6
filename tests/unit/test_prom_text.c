// SPDX-License-Identifier: GPL-2.0
/* sink/prom_text.c and the address check of sink/prom.c: the registry as Prometheus
 * text, exactly. */
#include "testutil.h"

#include "core/metrics.h"
#include "sink/prom.h"
#include "sink/prom_text.h"

static struct ks_metrics *r;
static struct ks_buf b;

static int setup(void **state)
{
	r = ks_metrics__new();
	if (!r)
		return -1;
	return ks_buf_init(&b, -1, 64);
}

static int teardown(void **state)
{
	ks_metrics__free(r);
	ks_buf_free(&b);
	return 0;
}

static const char *render(void)
{
	ks_buf_reset(&b);
	ks_prom_text(&b, r);
	return tu_text(&b);
}

static const char *value(const char *s)
{
	ks_buf_reset(&b);
	ks_prom_label_value(&b, s);
	return tu_text(&b);
}

static const struct ks_metric_desc calls = {
	.name = "ksight_test_calls_total", .help = "Calls made\nby \\ anyone",
	.type = KS_METRIC_COUNTER, .labels = { "comm", "op" }, .budget = 2,
};
static const struct ks_metric_desc depth = {
	.name = "ksight_test_depth", .help = "Depth", .type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc lat = {
	.name = "ksight_test_latency_seconds", .help = "Latency", .type = KS_METRIC_HIST,
	.unit = "seconds", .scale = 1e-9, .labels = { "disk" },
};
static const struct ks_metric_desc unused = {
	.name = "ksight_test_unused_total", .help = "Never used", .type = KS_METRIC_COUNTER,
};

/* Escapes: backslash, quote and newline; other UTF-8 and controls as they are; a byte
 * that is not UTF-8 becomes U+FFFD. */
static void test_label_value(void **state)
{
	assert_string_equal(value("plain"), "plain");
	assert_string_equal(value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
	assert_string_equal(value("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(value("x\xffy\xc3"), "x\xef\xbf\xbdy\xef\xbf\xbd");
	assert_string_equal(value("tab\there"), "tab\there");
	assert_string_equal(value(""), "");
}

/* Every type, labels, the overflow series, an unused metric left out, HELP escaped,
 * cumulative buckets up to the highest used slot, sums in base units. */
static void test_page(void **state)
{
	const char *v[2];
	size_t len[2] = { 16, 16 };
	struct ks_metric *c = ks_metrics__register(r, &calls);
	struct ks_metric *g = ks_metrics__register(r, &depth);
	struct ks_metric *h = ks_metrics__register(r, &lat);
	struct ks_series *s;

	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);
	assert_non_null(ks_metrics__register(r, &unused));
	v[0] = "nginx";
	v[1] = "read";
	ks_counter_add(ks_metric_getn(c, v, len), 3);
	v[0] = "we\"ird";
	ks_counter_add(ks_metric_getn(c, v, len), UINT64_C(18446744073709551615));
	v[0] = "third";	/* past the budget of 2 */
	ks_counter_add(ks_metric_getn(c, v, len), 5);
	ks_gauge_set(ks_metric_get(g, NULL), 2.5);
	s = ks_metric_get(h, "vda");
	ks_hist_observe(s, 1);		/* slot 0 */
	ks_hist_observe(s, 3);		/* slot 1 */
	ks_hist_observe(s, 3);
	ks_hist_observe(s, 1000);	/* slot 9 */
	assert_string_equal(render(),
		"# HELP ksight_metric_budget_hits_total Updates of a label set past the metric's "
		"series budget (counted in its overflow series instead)\n"
		"# TYPE ksight_metric_budget_hits_total counter\n"
		"ksight_metric_budget_hits_total{metric=\"ksight_metric_budget_hits_total\"} 0\n"
		"ksight_metric_budget_hits_total{metric=\"ksight_test_calls_total\"} 1\n"
		"ksight_metric_budget_hits_total{metric=\"ksight_test_depth\"} 0\n"
		"ksight_metric_budget_hits_total{metric=\"ksight_test_latency_seconds\"} 0\n"
		"ksight_metric_budget_hits_total{metric=\"ksight_test_unused_total\"} 0\n"
		"# HELP ksight_test_calls_total Calls made\\nby \\\\ anyone\n"
		"# TYPE ksight_test_calls_total counter\n"
		"ksight_test_calls_total{comm=\"nginx\",op=\"read\"} 3\n"
		"ksight_test_calls_total{comm=\"we\\\"ird\",op=\"read\"} 18446744073709551615\n"
		"ksight_test_calls_total{comm=\"\",op=\"\",ksight_overflow=\"true\"} 5\n"
		"# HELP ksight_test_depth Depth\n"
		"# TYPE ksight_test_depth gauge\n"
		"ksight_test_depth 2.5\n"
		"# HELP ksight_test_latency_seconds Latency\n"
		"# TYPE ksight_test_latency_seconds histogram\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"1e-09\"} 1\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"3e-09\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"7e-09\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"1.5e-08\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"3.1e-08\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"6.3e-08\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"1.27e-07\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"2.55e-07\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"5.11e-07\"} 3\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"1.023e-06\"} 4\n"
		"ksight_test_latency_seconds_bucket{disk=\"vda\",le=\"+Inf\"} 4\n"
		"ksight_test_latency_seconds_sum{disk=\"vda\"} 1.007e-06\n"
		"ksight_test_latency_seconds_count{disk=\"vda\"} 4\n");
}

/* A linear family: le is each bucket's inclusive bound (min, min+step, ... max), every
 * bucket shown even when empty (the same set in every series), +Inf, _sum, _count. */
static void test_linear(void **state)
{
	static const struct ks_metric_desc w = {
		.name = "ksight_test_write_bytes", .help = "Writes", .type = KS_METRIC_HIST,
		.unit = "bytes", .scale = 1, .labels = { "comm" },
		.buckets = { .layout = KS_HIST_LINEAR, .count = 4, .min = 0, .step = 250 },
	};
	static const struct ks_metric_desc t = {
		.name = "ksight_test_wait_seconds", .help = "Waits", .type = KS_METRIC_HIST,
		.unit = "seconds", .scale = 1e-9,
		.buckets = { .layout = KS_HIST_LINEAR, .count = 3, .min = 100, .step = 100 },
	};
	struct ks_metric *m = ks_metrics__register(r, &w), *mt = ks_metrics__register(r, &t);
	/* slots as the kernel fills them: v <= 0 | (0,250] | (250,500] | (500,750] |
	 * (750,1000] | above: 0 once, 250 twice, 251, 1000 and 1001 three times */
	const __u64 slots[6] = { 1, 2, 1, 0, 1, 3 };
	const __u64 ts[5] = { 0, 0, 2, 0, 0 };

	assert_non_null(m);
	assert_non_null(mt);
	ks_hist_add(ks_metric_get(m, "dd"), slots, 6, 8, 0 + 500 + 251 + 1000 + 3003);
	ks_hist_add(ks_metric_get(m, "cp"), slots, 0, 0, 0);
	ks_hist_add(ks_metric_get(mt, NULL), ts, 5, 2, 600);
	assert_non_null(strstr(render(),
		"# HELP ksight_test_write_bytes Writes\n"
		"# TYPE ksight_test_write_bytes histogram\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"0\"} 1\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"250\"} 3\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"500\"} 4\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"750\"} 4\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"1000\"} 5\n"
		"ksight_test_write_bytes_bucket{comm=\"dd\",le=\"+Inf\"} 8\n"
		"ksight_test_write_bytes_sum{comm=\"dd\"} 4754\n"
		"ksight_test_write_bytes_count{comm=\"dd\"} 8\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"0\"} 0\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"250\"} 0\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"500\"} 0\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"750\"} 0\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"1000\"} 0\n"
		"ksight_test_write_bytes_bucket{comm=\"cp\",le=\"+Inf\"} 0\n"
		"ksight_test_write_bytes_sum{comm=\"cp\"} 0\n"
		"ksight_test_write_bytes_count{comm=\"cp\"} 0\n"
		"# HELP ksight_test_wait_seconds Waits\n"
		"# TYPE ksight_test_wait_seconds histogram\n"
		"ksight_test_wait_seconds_bucket{le=\"1e-07\"} 0\n"
		"ksight_test_wait_seconds_bucket{le=\"2e-07\"} 0\n"
		"ksight_test_wait_seconds_bucket{le=\"3e-07\"} 2\n"
		"ksight_test_wait_seconds_bucket{le=\"4e-07\"} 2\n"
		"ksight_test_wait_seconds_bucket{le=\"+Inf\"} 2\n"
		"ksight_test_wait_seconds_sum 6e-07\n"
		"ksight_test_wait_seconds_count 2\n"));
}

static const struct ks_metric_desc run_time = {
	.name = "ksight_test_run_seconds_total", .help = "Run time", .type = KS_METRIC_COUNTER,
	.unit = "seconds", .scale = 1e-9,
};
static const struct ks_metric_desc run_time_badname = {
	.name = "ksight_test_run_time_total", .help = "Run time", .type = KS_METRIC_COUNTER,
	.unit = "seconds", .scale = 1e-9,
};
static const struct ks_metric_desc run_time_nounit = {
	.name = "ksight_test_run_seconds_total", .help = "Run time", .type = KS_METRIC_COUNTER,
	.scale = 1e-9,
};

/* A counter kept in ns is shown in seconds, its name ending in _seconds_total. */
static void test_scaled_counter(void **state)
{
	struct ks_metric *m;

	assert_null(ks_metrics__register(r, &run_time_badname));
	assert_null(ks_metrics__register(r, &run_time_nounit));
	m = ks_metrics__register(r, &run_time);
	assert_non_null(m);
	ks_counter_add(ks_metric_get(m, NULL), 1500000000);
	ks_counter_add(ks_metric_get(m, NULL), 1);
	assert_non_null(strstr(render(), "# TYPE ksight_test_run_seconds_total counter\n"
					 "ksight_test_run_seconds_total 1.500000001\n"));
	ks_counter_add(ks_metric_get(m, NULL), 499999999);
	assert_non_null(strstr(render(), "\nksight_test_run_seconds_total 2\n"));
}

static void test_addr(void **state)
{
	struct ks_prom_addr a;
	char err[128];

	assert_int_equal(ks_prom_addr_parse("127.0.0.1:9464", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 9464);
	assert_int_equal(ks_prom_addr_parse("[::1]:80", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 80);
	assert_int_equal(ks_prom_addr_parse("localhost:65535", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "localhost");
	assert_int_equal(ks_prom_addr_parse("9464", &a, err, sizeof(err)), -1);
	tu_one_line(err, "not HOST:PORT");
	assert_int_equal(ks_prom_addr_parse(":9464", &a, err, sizeof(err)), -1);
	tu_one_line(err, "no host");
	assert_int_equal(ks_prom_addr_parse("1.2.3.4:", &a, err, sizeof(err)), -1);
	tu_one_line(err, "not HOST:PORT");
	assert_int_equal(ks_prom_addr_parse("1.2.3.4:http", &a, err, sizeof(err)), -1);
	tu_one_line(err, "bad port 'http'");
	assert_int_equal(ks_prom_addr_parse("1.2.3.4:0", &a, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_prom_addr_parse("1.2.3.4:65536", &a, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_prom_addr_parse("1.2.3.4:123456", &a, err, sizeof(err)), -1);
	tu_one_line(err, "bad port");
	assert_int_equal(ks_prom_addr_parse("::1:80", &a, err, sizeof(err)), 0);
	assert_int_equal(ks_prom_addr_parse("[::1:80", &a, err, sizeof(err)), -1);
	tu_one_line(err, "brackets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_label_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scaled_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
