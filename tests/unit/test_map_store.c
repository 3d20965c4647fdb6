// SPDX-License-Identifier: GPL-2.0
/* sink/map_store.c's loss intervals: the rollups of what each interval lost, read back from
 * a store as the agent writes it, mark the edges of the kind they thin (docs/map.md); req
 * rows of both roles read back onto their edges. */
#include "testutil.h"

#include "core/svcmap.h"
#include "sink/map.h"

#include "store_fixture.h"
#include "svcmap_fixture.h"

/* web's client end of a connection to @raddr:80 closed at @ts, 1 ms long. */
static void web_session(const char *raddr, int lport, int64_t ts)
{
	char json[512];

	snprintf(json, sizeof(json), "\"side\":\"client\",\"laddr\":\"10.0.0.1\",\"lport\":%d,"
		 "\"raddr\":\"%s\",\"rport\":80,\"tx_bytes\":10,\"rx_bytes\":20,"
		 "\"duration_ns\":1000000,\"reason\":\"fin\"", lport, raddr);
	store_event("tcplife", "web.service", ts, json);
}

/* Three 10 s intervals ending at T0, T0 + 10 s, T0 + 20 s; the second lost @n of @type. */
static void intervals(const char *metric, const char *labels, long long n)
{
	store_rollup(T0, 10, metric, labels, 0);
	store_rollup(T0 + 10 * S, 10, metric, labels, n);
	store_rollup(T0 + 20 * S, 10, metric, labels, 0);
}

static void load(void)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	char err[128];

	assert_int_equal(ks_map_load(db, &w, &m, 0, err, sizeof(err)), 0);
}

/* req lost rows in the second interval: the TCP edge with a session in it is incomplete
 * (its requests may be short), the one whose sessions closed in the third is not. */
static void test_lost_request_rows(void **state)
{
	store_open();
	web_session("10.0.0.9", 40000, T0 + 5 * S);
	web_session("10.0.0.8", 40001, T0 + 15 * S);
	intervals("ksight_events_lost_total", "{\"type\":\"req\"}", 3);
	load();
	assert_true(edge("web.service", "10.0.0.9:80", 80)->incomplete);
	assert_false(edge("web.service", "10.0.0.8:80", 80)->incomplete);
	store_close();
}

/* Losses of other kinds thin other edges: lost exec records and udp counts leave TCP edges
 * complete; rows the store itself dropped mark every kind. */
static void test_other_kinds(void **state)
{
	store_open();
	web_session("10.0.0.9", 40000, T0 + 5 * S);
	intervals("ksight_events_lost_total", "{\"type\":\"exec\"}", 1);
	intervals("ksight_events_lost_total", "{\"type\":\"udp\"}", 1);
	load();
	assert_false(edge("web.service", "10.0.0.9:80", 80)->incomplete);
	ks_svcmap__free(&m);
	assert_int_equal(ks_svcmap__init(&m), 0);
	store_rollup(T0 + 10 * S, 10, "ksight_sink_dropped_records_total",
		     "{\"sink\":\"store\"}", 1);
	load();
	assert_true(edge("web.service", "10.0.0.9:80", 80)->incomplete);
	store_close();
}

/* req_row rows as the agent stores them: a server's (role, lport, its client's address)
 * on the edge from that remote client; a client's without a role (stored before servers'
 * rows were) on its own edge. */
static void test_req_rows_both_roles(void **state)
{
	const char *hist = "\"hist\":{\"unit\":\"usecs\",\"count\":4,\"buckets\":["
			   "{\"lo\":64,\"hi\":127,\"count\":3},{\"lo\":512,\"hi\":1023,"
			   "\"count\":1}]}";
	char json[512];

	store_open();
	web_session("10.0.0.9", 40000, T0 + 5 * S);
	store_event("tcplife", "web.service", T0 + 5 * S, "\"side\":\"server\",\"laddr\":"
		    "\"10.0.0.1\",\"lport\":8080,\"raddr\":\"10.0.0.7\",\"rport\":50000,"
		    "\"tx_bytes\":1,\"rx_bytes\":2,\"duration_ns\":1000,\"reason\":\"fin\"");
	snprintf(json, sizeof(json), "\"role\":\"server\",\"proto\":\"http\",\"lport\":"
		 "8080,\"raddr\":\"10.0.0.7\",\"requests\":4,\"errors\":1,%s", hist);
	store_event("req_row", "web.service", T0 + 6 * S, json);
	snprintf(json, sizeof(json), "\"proto\":\"http\",\"raddr\":\"10.0.0.9\",\"rport\":"
		 "80,\"requests\":4,\"errors\":0,%s", hist);
	store_event("req_row", "web.service", T0 + 6 * S, json);
	load();
	assert_int_equal(m.req_in, 2);
	assert_int_equal(m.req_unjoined, 0);
	assert_int_equal(edge("10.0.0.7", "web.service", 8080)->requests, 4);
	assert_int_equal(edge("10.0.0.7", "web.service", 8080)->request_errors, 1);
	assert_int_equal(edge("10.0.0.7", "web.service", 8080)->req_p99, 1024000);
	assert_int_equal(edge("web.service", "10.0.0.9:80", 80)->requests, 4);
	store_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lost_request_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_req_rows_both_roles, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
