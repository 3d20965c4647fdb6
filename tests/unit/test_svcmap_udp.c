// SPDX-License-Identifier: GPL-2.0
/* core/svcmap_udp.c: UDP flow rows summed into ends, the two ends of a flow paired, the
 * client told from the server, remote nodes, losses, the diff and the forms. */
#include "testutil.h"

#include <errno.h>

#include "core/svcmap.h"
#include "sink/map.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)

static struct ks_svcmap m;

static int setup(void **state)
{
	return ks_svcmap__init(&m);
}

static int teardown(void **state)
{
	ks_svcmap__free(&m);
	return 0;
}

/* One interval's row of one end: @svc's socket on @lport talking to @raddr:@rport. */
static void row(const char *svc, int lport, const char *raddr, int rport, int64_t ts,
		bool bound, bool rx_first, uint64_t txd, uint64_t txb, uint64_t rxd,
		uint64_t rxb)
{
	struct ks_svcmap_udp u = {
		.ts_ns = ts, .service = svc, .raddr = raddr, .lport = lport, .rport = rport,
		.bound = bound, .rx_first = rx_first, .tx_dgrams = txd, .tx_bytes = txb,
		.rx_dgrams = rxd, .rx_bytes = rxb,
	};

	assert_int_equal(ks_svcmap__add_udp(&m, &u), 0);
}

static const struct ks_svcmap_edge *only_edge(void)
{
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 1);
	assert_int_equal(m.edges[0].kind, KS_EDGE_UDP);
	return &m.edges[0];
}

/* Both ends here, over two intervals: one edge, the client's counts, seen both. */
static void test_both_ends_one_edge(void **state)
{
	const struct ks_svcmap_edge *e;

	row("srv.service", 53, "10.0.0.1", 40000, T0, true, true, 3, 300, 3, 90);
	row("cli.service", 40000, "10.0.0.2", 53, T0, false, false, 3, 90, 3, 300);
	row("cli.service", 40000, "10.0.0.2", 53, T0 + S, false, false, 2, 60, 2, 200);
	row("srv.service", 53, "10.0.0.1", 40000, T0 + S, true, true, 2, 200, 2, 60);
	e = only_edge();
	assert_string_equal(e->client, "cli.service");
	assert_string_equal(e->server, "srv.service");
	assert_int_equal(e->port, 53);
	assert_int_equal(e->flows, 1);
	assert_int_equal(e->dgrams_c2s, 5);
	assert_int_equal(e->dgrams_s2c, 5);
	assert_int_equal(e->bytes_c2s, 150);
	assert_int_equal(e->bytes_s2c, 500);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_true(e->first_ns == T0 && e->last_ns == T0 + S);
	assert_int_equal(e->conns, 0);
	assert_false(e->incomplete);
	assert_int_equal(m.udp_in, 4);
}

/* Who serves: a bound port that received first; else who received first; else the lower
 * port. */
static void test_roles(void **state)
{
	/* both bound (NTP-like 123 <-> 5000), the one that received first serves */
	row("a", 5000, "127.0.0.1", 123, T0, true, false, 1, 48, 1, 48);
	row("b", 123, "127.0.0.1", 5000, T0, true, true, 1, 48, 1, 48);
	/* neither bound, neither received first: the lower port */
	row("c", 7001, "127.0.0.1", 7000, T0, false, false, 1, 1, 1, 1);
	row("d", 7000, "127.0.0.1", 7001, T0, false, false, 1, 1, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct ks_svcmap_edge *e = &m.edges[i];

		if (e->port == 123) {
			assert_string_equal(e->client, "a");
			assert_string_equal(e->server, "b");
		} else {
			assert_int_equal(e->port, 7000);
			assert_string_equal(e->client, "c");
			assert_string_equal(e->server, "d");
		}
	}
}

/* One end here: a client's peer is a remote ADDR:PORT, a server's client a remote ADDR;
 * an unknown remote end gives no edge; ends far apart in time are not paired. */
static void test_remote_and_unplaced(void **state)
{
	row("resolver", 41000, "192.0.2.53", 53, T0, false, false, 1, 40, 1, 120);
	row("dnsd.service", 53, "fd00::7", 42000, T0, true, true, 2, 240, 2, 80);
	row("x", 9000, "-", 0, T0, true, true, 0, 0, 4, 400);
	row("late", 53, "192.0.2.9", 41000, T0 + 60 * S, true, true, 1, 1, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.udp_unplaced, 1);
	assert_int_equal(m.nedges, 3);
	for (size_t i = 0; i < m.nedges; i++) {
		const struct ks_svcmap_edge *e = &m.edges[i];

		if (!strcmp(e->client, "resolver")) {
			assert_string_equal(e->server, "192.0.2.53:53");
			assert_true(e->server_remote);
			assert_int_equal(e->seen, KS_SEEN_CLIENT);
			assert_true(e->dgrams_c2s == 1 && e->bytes_s2c == 120);
		} else if (!strcmp(e->server, "dnsd.service")) {
			assert_string_equal(e->client, "fd00::7");
			assert_int_equal(e->seen, KS_SEEN_SERVER);
			assert_true(e->dgrams_c2s == 2 && e->bytes_c2s == 80 && e->bytes_s2c == 240);
		} else {
			assert_string_equal(e->server, "late");
			assert_string_equal(e->client, "192.0.2.9");
		}
	}
	assert_int_equal(ks_svcmap__node(&m, "192.0.2.53:53")->kind, KS_NODE_REMOTE);
}

/* Lost datagram counts mark UDP edges only; TCP losses do not mark them. */
static void test_loss(void **state)
{
	row("cli", 40000, "10.0.0.2", 53, T0 + 10 * S, false, false, 1, 1, 1, 1);
	row("cli", 40001, "10.0.0.2", 54, T0 + 100 * S, false, false, 1, 1, 1, 1);
	assert_int_equal(ks_svcmap__add_loss(&m, KS_LOSS_UDP, T0 + 5 * S, T0 + 11 * S), 0);
	assert_int_equal(ks_svcmap__add_loss(&m, KS_LOSS_TCP, T0 + 99 * S, T0 + 101 * S), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(m.edges[i].incomplete, m.edges[i].port == 53);
}

/* The cgroup naming a unit names the rows of its program-named tasks. */
static void test_cgroup_names(void **state)
{
	struct ks_svcmap_udp u = {
		.ts_ns = T0, .service = "udpio", .cgroup = 77, .raddr = "10.0.0.2", .lport = 40000,
		.rport = 53, .tx_dgrams = 1, .tx_bytes = 10, .rx_dgrams = 1, .rx_bytes = 20,
	};

	assert_int_equal(ks_svcmap__add_udp(&m, &u), 0);
	u.service = "cli.service";
	u.lport = 40001;
	assert_int_equal(ks_svcmap__add_udp(&m, &u), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 1);
	assert_string_equal(m.edges[0].client, "cli.service");
	assert_int_equal(m.edges[0].flows, 2);
	assert_int_equal(m.edges[0].dgrams_c2s, 2);
}

/* The diff counts datagrams per second; the forms show the edge in its style. */
static void test_diff_and_forms(void **state)
{
	struct ks_svcmap a;
	struct ks_svcmap_diff *d;
	struct ks_map_win w = { T0 - 50 * S, T0 + 50 * S };
	struct ks_buf o;
	long n;

	assert_int_equal(ks_svcmap__init(&a), 0);
	{
		struct ks_svcmap_udp u = { .ts_ns = T0, .service = "cli", .raddr = "10.0.0.2",
					   .lport = 40000, .rport = 53, .tx_dgrams = 1,
					   .rx_dgrams = 1 };

		assert_int_equal(ks_svcmap__add_udp(&a, &u), 0);
	}
	row("cli", 40000, "10.0.0.2", 53, T0, false, false, 10, 1000, 10, 2000);
	assert_int_equal(ks_svcmap__build(&a), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	n = ks_svcmap_diff(&a, 100, &m, 100, &d);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].what, KS_CHG_CHANGED);
	assert_true(d[0].rate_changed);
	assert_true(d[0].rate_a == 0.02 && d[0].rate_b == 0.2);
	free(d);
	ks_svcmap__free(&a);

	assert_int_equal(ks_buf_init(&o, -1, 4096), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	ks_buf_ch(&o, 0);
	assert_non_null(strstr(o.p, "\"client\":\"cli\",\"server\":\"10.0.0.2:53\","
				    "\"kind\":\"udp\",\"execs\":0,\"execs_per_s\":0,"
				    "\"port\":53,\"connections\":0"));
	assert_non_null(strstr(o.p, "\"seen\":\"client\",\"resolved\":false,\"incomplete\":false,"
				    "\"flows\":1,\"datagrams_client_to_server\":10,"
				    "\"datagrams_server_to_client\":10,\"datagrams_per_s\":0.2,"));
	assert_non_null(strstr(o.p, "\"udp_rows\":1,\"udp_unplaced\":0,"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_DOT);
	ks_buf_ch(&o, 0);
	assert_non_null(strstr(o.p, "  \"cli\" -> \"10.0.0.2:53\" [label=\"udp :53 10/10 dgrams "
				    "0.2/s 1000B/2.0KiB\", color=blue, arrowhead=vee, "
				    "style=dashed];\n"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_MERMAID);
	ks_buf_ch(&o, 0);
	assert_non_null(strstr(o.p, " --o|\"udp :53 10/10 dgrams 0.2/s 1000B/2.0KiB\"| "));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_TABLE);
	ks_buf_ch(&o, 0);
	assert_non_null(strstr(o.p, "\nUDP "));
	assert_non_null(strstr(o.p, "\ncli -> 10.0.0.2:53 "));
	ks_buf_free(&o);
}

static const struct ks_svcmap_edge *edge(const char *c, const char *s, int port)
{
	for (size_t i = 0; i < m.nedges; i++)
		if (!strcmp(m.edges[i].client, c) && !strcmp(m.edges[i].server, s) &&
		    m.edges[i].port == port)
			return &m.edges[i];
	fail_msg("no edge %s -> %s:%d", c, s, port);
	return NULL;
}

/* Flows told apart (the fleet's sums, ks_svcmap__add_udp_pair): a pair is one flow of the
 * client's counts seen both; a client end alone goes to the remote ADDR:PORT, a server end alone comes
 * from the remote ADDR, each with its own counts turned to the edge's direction. */
static void test_pairs_told_apart(void **state)
{
	struct ks_svcmap_udp c = {
		.ts_ns = T0, .service = "dns@a", .raddr = "10.0.0.2", .rport = 53,
		.tx_dgrams = 5, .tx_bytes = 200, .rx_dgrams = 5, .rx_bytes = 900,
	};
	struct ks_svcmap_udp sv = {
		.ts_ns = T0, .service = "named@b", .raddr = "10.0.0.1", .lport = 53,
		.tx_dgrams = 4, .tx_bytes = 720, .rx_dgrams = 4, .rx_bytes = 160,
	};
	const struct ks_svcmap_edge *e;

	assert_int_equal(ks_svcmap__add_udp_pair(&m, NULL, NULL), -EINVAL);
	assert_int_equal(ks_svcmap__add_udp_pair(&m, &c, &sv), 0);
	c.raddr = "10.0.0.9";
	c.tx_dgrams = 2;
	assert_int_equal(ks_svcmap__add_udp_pair(&m, &c, NULL), 0);
	sv.raddr = "10.0.0.7";
	assert_int_equal(ks_svcmap__add_udp_pair(&m, NULL, &sv), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_svcmap__add_udp_pair(&m, &c, NULL), -EINVAL);
	assert_int_equal(m.nedges, 3);
	assert_int_equal(m.udp_in, 3);
	e = edge("dns@a", "named@b", 53);
	assert_true(e->kind == KS_EDGE_UDP && e->flows == 1);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_true(e->dgrams_c2s == 5 && e->dgrams_s2c == 5);
	assert_true(e->bytes_c2s == 200 && e->bytes_s2c == 900);
	e = edge("dns@a", "10.0.0.9:53", 53);
	assert_true(e->seen == KS_SEEN_CLIENT && e->server_remote && e->dgrams_c2s == 2);
	e = edge("10.0.0.7", "named@b", 53);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_true(e->dgrams_c2s == 4 && e->bytes_c2s == 160 && e->bytes_s2c == 720);
	assert_int_equal(ks_svcmap__node(&m, "10.0.0.7")->kind, KS_NODE_REMOTE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ends_one_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_and_unplaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_and_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs_told_apart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
