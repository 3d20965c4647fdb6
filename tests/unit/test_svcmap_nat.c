// SPDX-License-Identifier: GPL-2.0
/* The service map undoing SNAT (docs/map.md, "DNAT and SNAT"): tcplife rows in a store as
 * the agent writes them (sink/map_store.c reads them), the map built (core/svcmap*.c) and
 * rendered (sink/map_out.c). DNAT's own test is in test_svcmap.c. */
#include "testutil.h"

#include "core/svcmap.h"
#include "sink/map.h"

#include "store_fixture.h"
#include "svcmap_fixture.h"

/* One tcplife row of @svc closed at @ts, its JSON's fields after the type @json. */
static void row(const char *svc, int64_t ts, const char *json)
{
	store_event("tcplife", svc, ts, json);
}

/* SNAT in the server's namespace (a nat input rule, a masquerading router on this host):
 * the server end's raddr is the source SNAT gave; its orig_saddr is the real client. */
static void test_snat_server_end_names_the_real_client(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	char err[128];
	struct ks_buf o;

	store_open();
	/* a local connection web -> db through the SNAT: both ends seen */
	row("web.service", T0, "\"side\":\"client\",\"laddr\":\"10.0.0.1\",\"lport\":40000,"
	    "\"raddr\":\"10.0.0.2\",\"rport\":5432,\"tx_bytes\":10,\"rx_bytes\":20,"
	    "\"duration_ns\":1000000,\"reason\":\"fin\"");
	row("db.service", T0 + 100, "\"side\":\"server\",\"laddr\":\"10.0.0.2\",\"lport\":5432,"
	    "\"raddr\":\"10.0.0.200\",\"rport\":61000,\"tx_bytes\":20,\"rx_bytes\":10,"
	    "\"duration_ns\":1000000,\"reason\":\"fin\",\"orig_saddr\":\"10.0.0.1\","
	    "\"orig_sport\":40000,\"real_saddr\":\"10.0.0.200\",\"real_sport\":61000");
	/* a client elsewhere, translated to the same source: its node is its own address */
	row("db.service", T0 + 5 * S, "\"side\":\"server\",\"laddr\":\"10.0.0.2\","
	    "\"lport\":5432,\"raddr\":\"10.0.0.200\",\"rport\":61001,\"tx_bytes\":7,"
	    "\"rx_bytes\":3,\"duration_ns\":1000,\"reason\":\"fin\",\"orig_saddr\":"
	    "\"192.0.2.7\",\"orig_sport\":50000,\"real_saddr\":\"10.0.0.200\","
	    "\"real_sport\":61001");
	/* opened before ksight (side unknown): the server's end (its own end is not the
	 * original source) and a client's whose own namespace did the SNAT (it is) */
	row("db.service", T0 + 6 * S, "\"side\":\"unknown\",\"laddr\":\"10.0.0.2\","
	    "\"lport\":5432,\"raddr\":\"10.0.0.200\",\"rport\":61002,\"reason\":\"fin\","
	    "\"orig_saddr\":\"192.0.2.8\",\"orig_sport\":50001,\"real_saddr\":\"10.0.0.200\","
	    "\"real_sport\":61002");
	row("web.service", T0 + 7 * S, "\"side\":\"unknown\",\"laddr\":\"10.0.0.1\","
	    "\"lport\":40005,\"raddr\":\"10.0.0.2\",\"rport\":5432,\"reason\":\"fin\","
	    "\"orig_saddr\":\"10.0.0.1\",\"orig_sport\":40005,\"real_saddr\":\"10.0.0.200\","
	    "\"real_sport\":61005");
	assert_int_equal(ks_map_load(db, &w, &m, 0, err, sizeof(err)), 0);
	assert_int_equal(m.conns_in, 5);
	assert_int_equal(m.unplaced, 0);
	assert_int_equal(m.nedges, 3);
	assert_null(ks_svcmap__node(&m, "10.0.0.200"));
	/* the local connection paired (once, both), and the pre-start client end on the
	 * listener (its server end is not here), which knew its own SNAT: both SNAT'd */
	const struct ks_svcmap_edge *e = edge("web.service", "db.service", 5432);
	assert_int_equal(e->conns, 2);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->bytes_c2s, 10);
	assert_int_equal(e->bytes_s2c, 20);
	assert_int_equal(e->snat_conns, 2);
	assert_string_equal(e->snat_addr, "10.0.0.200");
	assert_int_equal(e->dnat_conns, 0);
	e = edge("192.0.2.7", "db.service", 5432);
	assert_int_equal(e->conns, 1);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_int_equal(e->bytes_c2s, 3);
	assert_int_equal(e->snat_conns, 1);
	assert_string_equal(e->snat_addr, "10.0.0.200");
	e = edge("192.0.2.8", "db.service", 5432);
	assert_int_equal(e->conns, 1);
	assert_int_equal(e->snat_conns, 1);
	assert_int_equal(ks_svcmap__node(&m, "192.0.2.7")->kind, KS_NODE_REMOTE);

	assert_int_equal(ks_buf_init(&o, -1, 1024), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	assert_int_equal(tu_json_lines(tu_text(&o)), 1);
	assert_non_null(strstr(o.p, "\"client\":\"web.service\",\"server\":\"db.service\""));
	assert_non_null(strstr(o.p, "\"dnat_connections\":0,\"dnat\":null,"
			       "\"snat_connections\":2,\"snat\":\"10.0.0.200\","));
	assert_null(strstr(o.p, "\"name\":\"10.0.0.200"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_TABLE);
	assert_non_null(strstr(tu_text(&o), " snat 10.0.0.200\n"));
	ks_buf_free(&o);
	sqlite3_close(db);
}

/* SNAT in the client's namespace (a masquerading host): the client end knows the source
 * it was given, the server's end (another namespace) saw only that: they pair. Both in
 * one namespace: both know, and pair too. */
static void test_snat_client_end_pairs(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	char err[128];

	store_open();
	row("web.service", T0, "\"side\":\"client\",\"laddr\":\"10.0.0.1\",\"lport\":40000,"
	    "\"raddr\":\"10.0.0.2\",\"rport\":5432,\"tx_bytes\":10,\"rx_bytes\":20,"
	    "\"duration_ns\":1000000,\"reason\":\"fin\",\"orig_saddr\":\"10.0.0.1\","
	    "\"orig_sport\":40000,\"real_saddr\":\"10.0.0.200\",\"real_sport\":61000");
	row("db.service", T0 + 100, "\"side\":\"server\",\"laddr\":\"10.0.0.2\",\"lport\":5432,"
	    "\"raddr\":\"10.0.0.200\",\"rport\":61000,\"tx_bytes\":20,\"rx_bytes\":10,"
	    "\"duration_ns\":1000000,\"reason\":\"fin\"");
	row("web.service", T0 + S, "\"side\":\"client\",\"laddr\":\"10.0.0.1\","
	    "\"lport\":40001,\"raddr\":\"10.0.0.3\",\"rport\":80,\"tx_bytes\":1,"
	    "\"rx_bytes\":2,\"duration_ns\":1000,\"reason\":\"fin\",\"orig_saddr\":"
	    "\"10.0.0.1\",\"orig_sport\":40001,\"real_saddr\":\"10.0.0.200\","
	    "\"real_sport\":61001");
	row("api.service", T0 + S, "\"side\":\"server\",\"laddr\":\"10.0.0.3\","
	    "\"lport\":80,\"raddr\":\"10.0.0.200\",\"rport\":61001,\"tx_bytes\":2,"
	    "\"rx_bytes\":1,\"duration_ns\":1000,\"reason\":\"fin\",\"orig_saddr\":"
	    "\"10.0.0.1\",\"orig_sport\":40001,\"real_saddr\":\"10.0.0.200\","
	    "\"real_sport\":61001");
	assert_int_equal(ks_map_load(db, &w, &m, 0, err, sizeof(err)), 0);
	assert_int_equal(m.nedges, 2);
	assert_null(ks_svcmap__node(&m, "10.0.0.200"));
	for (int i = 0; i < 2; i++) {
		const struct ks_svcmap_edge *e = i ? edge("web.service", "api.service", 80) :
						     edge("web.service", "db.service", 5432);

		assert_int_equal(e->conns, 1);
		assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
		assert_false(e->resolved);
		assert_int_equal(e->snat_conns, 1);
		assert_string_equal(e->snat_addr, "10.0.0.200");
	}
	sqlite3_close(db);
}

/* An IPv6 source as is (no port to bracket it from); an edge with no SNAT says so. */
static void test_snat_forms(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	struct ks_svcmap_conn s = {
		.start_ns = T0, .end_ns = T0 + 10, .service = "db", .side = KS_SIDE_SERVER,
		.laddr = "fd00::2", .lport = 443, .raddr = "fd00::1", .rport = 40000,
		.snat_addr = "fd00::200",
	};
	struct ks_buf o;

	assert_int_equal(ks_svcmap__add(&m, &s), 0);
	end("web", KS_SIDE_CLIENT, "fd00::1", 40000, "fd00::2", 443, T0 + 5, 10, 1, 2);
	end("web", KS_SIDE_CLIENT, "fd00::1", 40001, "fd00::9", 80, T0, 10, 1, 2);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(edge("web", "db", 443)->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(ks_buf_init(&o, -1, 1024), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	assert_int_equal(tu_json_lines(tu_text(&o)), 1);
	assert_non_null(strstr(o.p, "\"snat_connections\":1,\"snat\":\"fd00::200\","));
	assert_non_null(strstr(o.p, "\"snat_connections\":0,\"snat\":null,"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_TABLE);
	assert_non_null(strstr(tu_text(&o), " snat fd00::200\n"));
	ks_buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snat_server_end_names_the_real_client, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_snat_client_end_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snat_forms, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
