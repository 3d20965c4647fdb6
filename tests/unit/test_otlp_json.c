// SPDX-License-Identifier: GPL-2.0
/* sink/otlp_json.c and the URL check of sink/otlp.c: the registry as OTLP JSON, exactly. */
#include "testutil.h"

#include "core/metrics.h"
#include "sink/otlp.h"

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

static const struct ks_metric_desc calls = {
	.name = "ksight_test_calls_total", .help = "Calls \"made\"",
	.type = KS_METRIC_COUNTER, .labels = { "comm" }, .budget = 1,
};
static const struct ks_metric_desc depth = {
	.name = "ksight_test_depth", .help = "Depth", .type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc lat = {
	.name = "ksight_test_latency_seconds", .help = "Latency", .type = KS_METRIC_HIST,
	.unit = "seconds", .scale = 1e-9,
};
static const struct ks_metric_desc run_time = {
	.name = "ksight_test_run_seconds_total", .help = "Run", .type = KS_METRIC_COUNTER,
	.unit = "seconds", .scale = 1e-9,
};

#define T ",\"startTimeUnixNano\":\"5\",\"timeUnixNano\":\"7\""

/* Every type: a monotonic cumulative Sum with asInt as a string, the overflow series as
 * ksight_overflow, a Gauge, a scaled counter in seconds, a Histogram whose bucketCounts
 * has one entry more than explicitBounds; malformed UTF-8 as U+FFFD. */
static void test_request(void **state)
{
	struct ks_otlp_resource res = { .host_name = "h\xff", .start_ns = 5, .time_ns = 7 };
	struct ks_metric *c = ks_metrics__register(r, &calls);
	struct ks_metric *g = ks_metrics__register(r, &depth);
	struct ks_metric *h = ks_metrics__register(r, &lat);
	struct ks_metric *t = ks_metrics__register(r, &run_time);
	struct ks_series *s;

	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);
	assert_non_null(t);
	ks_counter_add(ks_metric_get(c, "a\"b"), UINT64_C(18446744073709551615));
	ks_counter_add(ks_metric_get(c, "past"), 2);	/* the budget is 1 */
	ks_gauge_set(ks_metric_get(g, NULL), 2.5);
	ks_counter_add(ks_metric_get(t, NULL), 1500000001);
	s = ks_metric_get(h, NULL);
	ks_hist_observe(s, 1);
	ks_hist_observe(s, 3);
	ks_hist_observe(s, 3);
	ks_hist_observe(s, 9);
	ks_buf_reset(&b);
	ks_otlp_json(&b, r, &res);
	assert_string_equal(tu_text(&b),
		"{\"resourceMetrics\":[{\"resource\":{\"attributes\":["
		"{\"key\":\"service.name\",\"value\":{\"stringValue\":\"ksight\"}},"
		"{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h\\ufffd\"}}]},"
		"\"scopeMetrics\":[{\"scope\":{\"name\":\"ksight\"},\"metrics\":["
		"{\"name\":\"ksight_metric_budget_hits_total\",\"description\":\"Updates of a label "
		"set past the metric's series budget (counted in its overflow series instead)\","
		"\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
		"{\"attributes\":[{\"key\":\"metric\",\"value\":{\"stringValue\":"
		"\"ksight_metric_budget_hits_total\"}}]" T ",\"asInt\":\"0\"},"
		"{\"attributes\":[{\"key\":\"metric\",\"value\":{\"stringValue\":"
		"\"ksight_test_calls_total\"}}]" T ",\"asInt\":\"1\"},"
		"{\"attributes\":[{\"key\":\"metric\",\"value\":{\"stringValue\":"
		"\"ksight_test_depth\"}}]" T ",\"asInt\":\"0\"},"
		"{\"attributes\":[{\"key\":\"metric\",\"value\":{\"stringValue\":"
		"\"ksight_test_latency_seconds\"}}]" T ",\"asInt\":\"0\"},"
		"{\"attributes\":[{\"key\":\"metric\",\"value\":{\"stringValue\":"
		"\"ksight_test_run_seconds_total\"}}]" T ",\"asInt\":\"0\"}]}},"
		"{\"name\":\"ksight_test_calls_total\",\"description\":\"Calls \\\"made\\\"\","
		"\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
		"{\"attributes\":[{\"key\":\"comm\",\"value\":{\"stringValue\":\"a\\\"b\"}}]" T
		",\"asDouble\":1.8446744073709552e+19},"
		"{\"attributes\":[{\"key\":\"ksight_overflow\",\"value\":{\"stringValue\":\"true\"}}]"
		T ",\"asInt\":\"2\"}]}},"
		"{\"name\":\"ksight_test_depth\",\"description\":\"Depth\",\"gauge\":{\"dataPoints\":["
		"{\"attributes\":[]" T ",\"asDouble\":2.5}]}},"
		"{\"name\":\"ksight_test_latency_seconds\",\"description\":\"Latency\","
		"\"unit\":\"s\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
		"{\"attributes\":[]" T ",\"count\":\"4\",\"sum\":1.6e-08,"
		"\"bucketCounts\":[\"1\",\"2\",\"0\",\"1\",\"0\"],"
		"\"explicitBounds\":[1e-09,3e-09,7e-09,1.5e-08]}]}},"
		"{\"name\":\"ksight_test_run_seconds_total\",\"description\":\"Run\","
		"\"unit\":\"s\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
		"{\"attributes\":[]" T ",\"asDouble\":1.500000001}]}}"
		"]}]}]}");
}

/* An empty histogram: no bounds, one bucket; the top slot has no bound of its own. */
static void test_hist_edges(void **state)
{
	struct ks_otlp_resource res = { .host_name = "h" };
	struct ks_metric *h = ks_metrics__register(r, &lat);
	struct ks_series *s = ks_metric_get(h, NULL);

	ks_buf_reset(&b);
	ks_otlp_json(&b, r, &res);
	assert_non_null(strstr(tu_text(&b), "\"count\":\"0\",\"sum\":0,\"bucketCounts\":[\"0\"],"
					    "\"explicitBounds\":[]"));
	ks_hist_observe(s, UINT64_MAX);	/* slot 63 */
	ks_buf_reset(&b);
	ks_otlp_json(&b, r, &res);
	assert_non_null(strstr(tu_text(&b), ",\"0\",\"1\"],\"explicitBounds\":[1e-09,"));
	assert_non_null(strstr(tu_text(&b), ",9223372036.854776]"));
}

/* A linear family: every bound (ks_hist_bound, whole numbers as integers), one count
 * more for +Inf; the slots past the last bound add up there. */
static void test_linear(void **state)
{
	static const struct ks_metric_desc w = {
		.name = "ksight_test_write_bytes", .help = "Writes", .type = KS_METRIC_HIST,
		.unit = "bytes", .scale = 1,
		.buckets = { .layout = KS_HIST_LINEAR, .count = 3, .min = -100, .step = 100 },
	};
	struct ks_otlp_resource res = { .host_name = "h" };
	struct ks_metric *m = ks_metrics__register(r, &w);
	const __u64 slots[5] = { 1, 0, 2, 0, 4 };

	assert_non_null(m);
	ks_hist_add(ks_metric_get(m, NULL), slots, 5, 7, 1234);
	ks_buf_reset(&b);
	ks_otlp_json(&b, r, &res);
	assert_non_null(strstr(tu_text(&b), "\"count\":\"7\",\"sum\":1234,"
					    "\"bucketCounts\":[\"1\",\"0\",\"2\",\"0\",\"4\"],"
					    "\"explicitBounds\":[-100,0,100,200]}"));
}

static void test_url(void **state)
{
	struct ks_http_url u;
	char err[160];

	assert_int_equal(ks_otlp_url_parse("http://127.0.0.1:4318/v1/metrics", &u, err,
					   sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "4318");
	assert_string_equal(u.path, "/v1/metrics");
	assert_string_equal(u.hostport, "127.0.0.1:4318");
	assert_int_equal(ks_otlp_url_parse("http://collector", &u, err, sizeof(err)), 0);
	assert_string_equal(u.port, "80");
	assert_string_equal(u.path, "/v1/metrics");
	assert_int_equal(ks_otlp_url_parse("http://[::1]:4318/x", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.hostport, "[::1]:4318");
	assert_string_equal(u.path, "/x");
	assert_int_equal(ks_otlp_url_parse("https://a:1/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not an http:// URL");
	assert_int_equal(ks_otlp_url_parse("127.0.0.1:4318", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not an http:// URL");
	assert_int_equal(ks_otlp_url_parse("http://:4318/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "no host");
	assert_int_equal(ks_otlp_url_parse("http://a:0/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_otlp_url_parse("http://a:65536/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_otlp_url_parse("http://a:x1/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_otlp_url_parse("http://a:/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "not 1-65535");
	assert_int_equal(ks_otlp_url_parse("http://[::1/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "']'");
	assert_int_equal(ks_otlp_url_parse("http://a/b c", &u, err, sizeof(err)), -1);
	tu_one_line(err, "control in the path");
	assert_int_equal(ks_otlp_url_parse("http://u@a/", &u, err, sizeof(err)), -1);
	tu_one_line(err, "bad character");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
