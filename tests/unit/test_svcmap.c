// SPDX-License-Identifier: GPL-2.0
/* core/svcmap.c, svcmap_diff.c: ends paired, listeners resolved, edges and their figures;
 * sink/map_out.c: the forms parse (JSON strictly, DOT and Mermaid by shape). Spawn edges:
 * test_svcmap_spawn.c. */
#include "testutil.h"

#include <errno.h>

#include "core/svcmap.h"
#include "sink/map.h"

#include "svcmap_fixture.h"

/* DNAT: a client end that knew (conntrack) where its connection really went has the real
 * server as raddr and what it asked for as dnat_addr: it pairs with the server's end. A
 * server end that knew it (the DNAT in its namespace) pairs with a client end that knew
 * only the address it asked for. */
static void test_dnat_pairs_with_the_real_server(void **state)
{
	for (int i = 0; i < 2; i++) {
		struct ks_svcmap_conn c = {
			.start_ns = T0 + i * S, .end_ns = T0 + i * S + 1000,
			.service = "web.service",
			.side = KS_SIDE_CLIENT, .laddr = "10.0.0.1", .lport = 40000 + i,
			.raddr = "10.0.0.2", .rport = 8080, .tx = 10, .rx = 20,
			.dnat_addr = "10.0.0.100", .dnat_port = 80,
		};

		assert_int_equal(ks_svcmap__add(&m, &c), 0);
		end("db.service", KS_SIDE_SERVER, "10.0.0.1", 40000 + i, "10.0.0.2", 8080,
		    T0 + i * S + 20, 900, 10, 20);
	}
	/* the DNAT in the server's namespace: the client asked for 10.0.0.200:443 */
	end("web.service", KS_SIDE_CLIENT, "10.0.0.1", 41000, "10.0.0.200", 443, T0, 1000, 1, 2);
	struct ks_svcmap_conn s = {
		.start_ns = T0 + 10, .end_ns = T0 + 900, .service = "api.service",
		.side = KS_SIDE_SERVER, .laddr = "10.0.0.3", .lport = 8443, .raddr = "10.0.0.1",
		.rport = 41000, .tx = 2, .rx = 1, .dnat_addr = "10.0.0.200", .dnat_port = 443,
	};
	assert_int_equal(ks_svcmap__add(&m, &s), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	const struct ks_svcmap_edge *e = edge("web.service", "db.service", 8080);
	assert_int_equal(e->conns, 2);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->dnat_conns, 2);
	assert_string_equal(e->dnat_addr, "10.0.0.100");
	assert_int_equal(e->dnat_port, 80);
	e = edge("web.service", "api.service", 8443);
	assert_int_equal(e->conns, 1);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->dnat_conns, 1);
	assert_string_equal(e->dnat_addr, "10.0.0.200");
	assert_int_equal(e->dnat_port, 443);
}

static void test_both_ends_count_once(void **state)
{
	/* three loopback connections web -> db:5432, each seen at both ends */
	for (int i = 0; i < 3; i++) {
		end("web.service", KS_SIDE_CLIENT, "127.0.0.1", 40000 + i, "127.0.0.1", 5432,
		    T0 + i * S, 1000, 100 + i, 7);
		end("db.service", KS_SIDE_SERVER, "127.0.0.1", 40000 + i, "127.0.0.1", 5432,
		    T0 + i * S + 20, 900, 100 + i, 7);
	}
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nnodes, 2);
	assert_int_equal(m.nedges, 1);
	const struct ks_svcmap_edge *e = edge("web.service", "db.service", 5432);
	assert_int_equal(e->conns, 3);
	assert_int_equal(e->bytes_c2s, 100 + 101 + 102);
	assert_int_equal(e->bytes_s2c, 21);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_string_equal(ks_svcmap_seen_name(e->seen), "both");
	assert_false(e->resolved || e->server_remote || e->incomplete);
	assert_int_equal(e->first_ns, T0);
	assert_int_equal(e->last_ns, T0 + 2 * S + 1000);
	assert_int_equal(e->dur_p99, 1000);
	assert_int_equal(e->rtt_p50, 50000);
	const struct ks_svcmap_node *n = ks_svcmap__node(&m, "db.service");
	assert_non_null(n);
	assert_int_equal(n->conns_in, 3);
	assert_int_equal(n->conns_out, 0);
	assert_int_equal(n->bytes_in, 303);
	assert_null(ks_svcmap__node(&m, "nope"));
}

/* Weighted ends (the fleet's sums from Prometheus, client port 0): a client end of 5
 * and a server end of 4 that name each other pair into one edge of the client's 5, seen
 * both, the larger end's errors and resets (one reset is seen at both ends) and both
 * ends' retransmits, and percentiles of its connect latency buckets (their bounds); a
 * client end whose server is nowhere goes to the remote endpoint, its 3 counted, with its
 * DNS name. */
static void test_weighted_ends(void **state)
{
	struct ks_svcmap_conn c = {
		.end_ns = T0, .service = "web@a", .side = KS_SIDE_CLIENT, .laddr = "10.0.0.1",
		.raddr = "10.0.0.2", .rport = 5432, .tx = 500, .rx = 70, .count = 5,
		.errors = 1, .resets = 2, .retrans = 7,
	};
	struct ks_svcmap_conn sv = {
		.end_ns = T0, .service = "db@b", .side = KS_SIDE_SERVER, .laddr = "10.0.0.2",
		.lport = 5432, .raddr = "10.0.0.1", .tx = 56, .rx = 400, .count = 4,
		.resets = 3, .retrans = 4,
	};
	/* its connect latencies: 2 at most 200 us, 3 at most 100 us (the copy is kept) */
	struct ks_svcmap_bucket h[3] = { { 200000, 2 }, { 400000, 0 }, { 100000, 3 } };
	const struct ks_svcmap_edge *e;

	c.connect_hist = h;
	c.nconnect_hist = 3;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	memset(h, 0, sizeof(h));
	assert_int_equal(ks_svcmap__add(&m, &sv), 0);
	c.raddr = "10.0.0.9";
	c.count = 3;
	c.rdns = "db9.example.test";
	c.connect_hist = NULL;
	c.nconnect_hist = 0;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	e = edge("web@a", "db@b", 5432);
	assert_int_equal(e->conns, 5);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_false(e->resolved);
	assert_int_equal(e->bytes_c2s, 500);
	assert_int_equal(e->bytes_s2c, 70);
	assert_true(e->errors == 1 && e->resets == 3 && e->retrans == 11);
	assert_null(e->server_dns);
	assert_true(e->nconn == 5 && e->conn_p50 == 100000 && e->conn_p99 == 200000);
	e = edge("web@a", "10.0.0.9:5432", 5432);
	assert_int_equal(e->conns, 3);
	assert_true(e->errors == 1 && e->resets == 2 && e->retrans == 7 && !e->nconn);
	assert_string_equal(e->server_dns, "db9.example.test");
	assert_int_equal(e->seen, KS_SEEN_CLIENT);
	assert_int_equal(ks_svcmap__node(&m, "web@a")->conns_out, 8);
	assert_int_equal(ks_svcmap__node(&m, "db@b")->conns_in, 5);
}

static void test_remote_ends_and_names(void **state)
{
	end("web.service", KS_SIDE_CLIENT, "10.0.0.1", 40000, "93.184.216.34", 443, T0, 5, 1, 2);
	end("web.service", KS_SIDE_CLIENT, "fd00::1", 40001, "fd00::9", 443, T0, 5, 1, 2);
	end("web.service", KS_SIDE_SERVER, "10.9.9.9", 51000, "10.0.0.1", 80, T0, 5, 30, 40);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 3);
	const struct ks_svcmap_edge *e = edge("web.service", "93.184.216.34:443", 443);
	assert_true(e->server_remote);
	assert_int_equal(e->seen, KS_SEEN_CLIENT);
	edge("web.service", "[fd00::9]:443", 443);
	e = edge("10.9.9.9", "web.service", 80);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_int_equal(e->bytes_c2s, 30);	/* the server's rx */
	assert_int_equal(e->bytes_s2c, 40);
	assert_int_equal(ks_svcmap__node(&m, "10.9.9.9")->kind, KS_NODE_REMOTE);
	assert_int_equal(ks_svcmap__node(&m, "web.service")->kind, KS_NODE_SERVICE);
}

static void test_listeners_resolve(void **state)
{
	/* db's listener is known from one connection seen at both ends... */
	end("web.service", KS_SIDE_CLIENT, "10.1.0.1", 40000, "10.1.0.2", 5432, T0, 10, 5, 5);
	end("db.service", KS_SIDE_SERVER, "10.1.0.1", 40000, "10.1.0.2", 5432, T0, 10, 5, 5);
	/* ...so a client end alone, an owner-less server end, and an end opened before
	 * ksight (no side, no start) resolve to it */
	end("cron.service", KS_SIDE_CLIENT, "10.1.0.1", 40001, "10.1.0.2", 5432, T0 + S, 10, 1, 1);
	end(NULL, KS_SIDE_SERVER, "10.1.0.7", 40002, "10.1.0.2", 5432, T0 + 9 * S, 10, 1, 1);
	end("web.service", KS_SIDE_UNKNOWN, "10.1.0.1", 40003, "10.1.0.2", 5432, 0, T0, 1, 1);
	end("x", KS_SIDE_UNKNOWN, "10.1.0.1", 40004, "10.1.0.3", 9999, 0, T0, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.unplaced, 1);
	assert_int_equal(m.conns_in, 6);
	const struct ks_svcmap_edge *e = edge("web.service", "db.service", 5432);
	assert_int_equal(e->conns, 2);
	assert_true(e->resolved);	/* the end opened before */
	e = edge("cron.service", "db.service", 5432);
	assert_int_equal(e->seen, KS_SEEN_CLIENT);
	assert_true(e->resolved);
	e = edge("10.1.0.7", "db.service", 5432);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_int_equal(e->dur_p50, 10);
}

static void test_pairing_needs_close_starts(void **state)
{
	/* the same four-tuple twice, 10 s apart: two connections, each paired with its own */
	end("a", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 100, 1, 2);
	end("b", KS_SIDE_SERVER, "127.0.0.1", 40000, "127.0.0.1", 80, T0 + 10, 100, 1, 2);
	end("a", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 80, T0 + 10 * S, 100, 3, 4);
	end("b", KS_SIDE_SERVER, "127.0.0.1", 40000, "127.0.0.1", 80, T0 + 10 * S + 10, 100, 3,
	    4);
	/* a server end whose client began 3 s before it: not the same connection */
	end("c", KS_SIDE_CLIENT, "127.0.0.1", 40001, "127.0.0.1", 80, T0, 100, 1, 1);
	end("b", KS_SIDE_SERVER, "127.0.0.1", 40001, "127.0.0.1", 80, T0 + 3 * S, 100, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	const struct ks_svcmap_edge *e = edge("a", "b", 80);
	assert_int_equal(e->conns, 2);
	assert_int_equal(e->bytes_c2s, 4);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	e = edge("c", "b", 80);
	assert_int_equal(e->conns, 1);
	assert_true(e->resolved);
	e = edge("127.0.0.1", "b", 80);
	assert_int_equal(e->conns, 1);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
}

static void test_cgroups_name_their_sessions(void **state)
{
	struct ks_svcmap_conn c = { .start_ns = T0, .end_ns = T0 + 10, .side = KS_SIDE_CLIENT,
				    .laddr = "10.0.0.1", .raddr = "10.0.0.2", .rport = 80 };
	const char *names[] = { "curl", "web.service", "curl", "docker:0123456789ab", "python3",
				"machine:", "tool" };
	uint64_t cgs[] = { 7, 7, 8, 9, 9, 10, 10 };

	/* cgroup 7 is web.service (its first end named by the program), 8 names nothing,
	 * 9 a container; "machine:" alone is no container name */
	for (int i = 0; i < 7; i++) {
		c.service = names[i];
		c.cgroup = cgs[i];
		c.lport = 1000 + i;
		assert_int_equal(ks_svcmap__add(&m, &c), 0);
	}
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(edge("web.service", "10.0.0.2:80", 80)->conns, 2);
	assert_int_equal(edge("curl", "10.0.0.2:80", 80)->conns, 1);
	assert_int_equal(edge("docker:0123456789ab", "10.0.0.2:80", 80)->conns, 2);
	assert_int_equal(edge("machine:", "10.0.0.2:80", 80)->conns, 1);
	assert_int_equal(edge("tool", "10.0.0.2:80", 80)->conns, 1);
	assert_int_equal(m.nedges, 5);
}

static void test_one_tuple_many_times(void **state)
{
	/* a made-up store: 100000 client ends of one four-tuple 1 us apart and one server
	 * end; pairing is linear in the group (it was quadratic: minutes), one pair formed */
	for (int i = 0; i < 100000; i++)
		end("a", KS_SIDE_CLIENT, "10.0.0.1", 40000, "10.0.0.2", 80, T0 + i * 1000LL, 10,
		    1, 1);
	end("b", KS_SIDE_SERVER, "10.0.0.1", 40000, "10.0.0.2", 80, T0 + 50000000LL, 10, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 1);
	const struct ks_svcmap_edge *e = edge("a", "b", 80);
	assert_int_equal(e->conns, 100000);	/* one both, the rest resolved */
	assert_true(e->resolved);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
}

static void test_percentiles_errors_loss(void **state)
{
	for (int i = 1; i <= 200; i++) {
		struct ks_svcmap_conn c = {
			.start_ns = T0 + i * S, .end_ns = T0 + i * S + i * 1000, .service = "a",
			.side = KS_SIDE_CLIENT, .laddr = "10.0.0.1", .lport = 1000 + i,
			.raddr = "10.0.0.2", .rport = 80, .srtt_ns = i, .retrans = 1,
			.has_connect = i > 100, .connect_ns = 1000 - i,
			.end = i % 10 ? KS_END_OK : i % 20 ? KS_END_ERROR : KS_END_RESET,
		};

		assert_int_equal(ks_svcmap__add(&m, &c), 0);
	}
	/* another edge, entirely before the lost interval */
	end("z", KS_SIDE_CLIENT, "10.0.0.1", 999, "10.0.0.3", 80, T0 - 100 * S, 10, 1, 1);
	assert_int_equal(ks_svcmap__add_loss(&m, KS_LOSS_TCP, T0 + 50 * S, T0 + 51 * S), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_svcmap__add(&m, &(struct ks_svcmap_conn){ 0 }), -EINVAL);
	const struct ks_svcmap_edge *e = edge("a", "10.0.0.2:80", 80);
	assert_int_equal(e->conns, 200);
	assert_int_equal(e->rtt_p50, 100);
	assert_int_equal(e->rtt_p99, 198);
	assert_int_equal(e->dur_p99, 198000);
	/* 100 measured (101..200): 899 down to 800 */
	assert_int_equal(e->nconn, 100);
	assert_int_equal(e->conn_p50, 849);
	assert_int_equal(e->conn_p99, 898);
	assert_int_equal(e->errors, 10);
	assert_int_equal(e->resets, 10);
	assert_int_equal(e->retrans, 200);
	assert_true(e->incomplete);
	assert_false(edge("z", "10.0.0.3:80", 80)->incomplete);
	assert_ptr_equal(&m.edges[0], e);	/* most connections first */
}

static void test_diff(void **state)
{
	struct ks_svcmap b;
	struct ks_svcmap_diff *d;

	/* before (100 s): a->b 10 conns, a->c 5, a->d 10; after (10 s): a->b 1 (same rate),
	 * a->c 5 (10x), a->e 1 (new) */
	for (int i = 0; i < 10; i++) {
		end("a", KS_SIDE_CLIENT, "10.0.0.1", 1000 + i, "10.0.0.2", 80, T0, 10, 1, 1);
		end("a", KS_SIDE_CLIENT, "10.0.0.1", 2000 + i, "10.0.0.4", 80, T0, 10, 1, 1);
	}
	for (int i = 0; i < 5; i++)
		end("a", KS_SIDE_CLIENT, "10.0.0.1", 3000 + i, "10.0.0.3", 80, T0, 10, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	b = m;
	ks_svcmap__init(&m);
	end("a", KS_SIDE_CLIENT, "10.0.0.1", 1000, "10.0.0.2", 80, T0, 10, 1, 1);
	for (int i = 0; i < 5; i++)
		end("a", KS_SIDE_CLIENT, "10.0.0.1", 3000 + i, "10.0.0.3", 80, T0, 10, 1, 1);
	end("a", KS_SIDE_CLIENT, "10.0.0.1", 4000, "10.0.0.5", 80, T0, 10, 1, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_svcmap_diff(&b, 100, &m, 10, &d), 3);
	assert_int_equal(d[0].what, KS_CHG_APPEARED);
	assert_string_equal(d[0].b->server, "10.0.0.5:80");
	assert_int_equal(d[1].what, KS_CHG_DISAPPEARED);
	assert_string_equal(d[1].a->server, "10.0.0.4:80");
	assert_int_equal(d[2].what, KS_CHG_CHANGED);
	assert_string_equal(d[2].b->server, "10.0.0.3:80");
	assert_true(d[2].rate_changed);
	assert_near(d[2].rate_a, 0.05);
	assert_near(d[2].rate_b, 0.5);
	assert_string_equal(ks_svcmap_change_name(d[2].what), "changed");
	free(d);
	ks_svcmap__free(&b);
}

static void test_forms(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	struct ks_buf o;

	end("web \"x\"", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	end("srv|<b>", KS_SIDE_SERVER, "127.0.0.1", 40000, "127.0.0.1", 80, T0, 10, 1, 2);
	end("web \"x\"", KS_SIDE_CLIENT, "10.0.0.1", 40001, "fd00::1", 443, T0, 10, 1, 2);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(ks_buf_init(&o, -1, 1024), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	assert_int_equal(tu_json_lines(tu_text(&o)), 1);
	assert_non_null(strstr(o.p, "\"client\":\"web \\\"x\\\"\",\"server\":\"srv|<b>\","
			       "\"kind\":\"tcp\",\"execs\":0,\"execs_per_s\":0,"
			       "\"port\":80,\"connections\":1"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_DOT);
	assert_non_null(strstr(tu_text(&o), "  \"web \\\"x\\\"\" -> \"srv|<b>\" [label="));
	assert_non_null(strstr(o.p, "\"[fd00::1]:443\" [shape=ellipse, style=dashed];"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_MERMAID);
	/* nodes sorted by name: [fd00::1]:443, srv|<b>, web "x" */
	assert_non_null(strstr(tu_text(&o), "  n0([\"[fd00::1]:443\"])\n"));
	assert_non_null(strstr(o.p, "  n2[\"web #quot;x#quot;\"]\n"));
	assert_non_null(strstr(o.p, "  n1[\"srv#124;#lt;b#gt;\"]\n"));
	assert_non_null(strstr(o.p, "  n2 -->|\":80 1 conns"));
	assert_non_null(strstr(o.p, "\"| n1\n"));
	assert_non_null(strstr(o.p, "  n2 -.->|\":443 1 conns"));
	ks_buf_free(&o);
}

/* One client end of @svc to @saddr:443 ending at @t, its record's rdns @dns. */
static void named(const char *svc, const char *saddr, int64_t t, const char *dns)
{
	struct ks_svcmap_conn c = {
		.start_ns = t - 1, .end_ns = t, .service = svc, .side = KS_SIDE_CLIENT,
		.laddr = "10.0.0.1", .lport = 40000, .raddr = saddr, .rport = 443, .rdns = dns,
	};

	assert_int_equal(ks_svcmap__add(&m, &c), 0);
}

/* Remote nodes carry the DNS name of their latest session that had one, beside their
 * ADDR:PORT name; service nodes none, even when a record named their address. */
static void test_dns_names(void **state)
{
	struct ks_map_win w = { T0 - 60 * S, T0 + 60 * S };
	struct ks_svcmap_udp u = {
		.ts_ns = T0, .service = "web.service", .raddr = "192.0.2.53", .lport = 40001,
		.rport = 53, .tx_dgrams = 1, .rx_dgrams = 1, .rdns = "ns.example.test",
	};
	struct ks_svcmap_conn srv = {
		.start_ns = T0, .end_ns = T0 + 1, .service = "web.service", .side = KS_SIDE_SERVER,
		.laddr = "10.0.0.1", .lport = 80, .raddr = "10.9.9.9", .rport = 51000,
		.rdns = "client.example.test",
	};
	struct ks_buf o;

	named("web.service", "93.184.216.34", T0 + 20 * S, "b.example.test");
	named("web.service", "93.184.216.34", T0 + 5 * S, "a.example.test");
	named("web.service", "93.184.216.34", T0 + 30 * S, NULL);	/* expired by then */
	named("web.service", "198.51.100.1", T0, NULL);
	named("web.service", "198.51.100.2", T0, "");			/* empty: none */
	assert_int_equal(ks_svcmap__add(&m, &srv), 0);
	assert_int_equal(ks_svcmap__add_udp(&m, &u), 0);
	/* both ends here: a local server whose address a record named */
	end("web.service", KS_SIDE_CLIENT, "127.0.0.1", 40002, "127.0.0.1", 6379, T0, 5, 1, 2);
	m.in[m.nin - 1].rdns = "localhost.test";
	end("redis.service", KS_SIDE_SERVER, "127.0.0.1", 40002, "127.0.0.1", 6379, T0, 5, 1, 2);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_string_equal(ks_svcmap__node(&m, "93.184.216.34:443")->dns, "b.example.test");
	assert_null(ks_svcmap__node(&m, "198.51.100.1:443")->dns);
	assert_null(ks_svcmap__node(&m, "198.51.100.2:443")->dns);
	assert_string_equal(ks_svcmap__node(&m, "10.9.9.9")->dns, "client.example.test");
	assert_string_equal(ks_svcmap__node(&m, "192.0.2.53:53")->dns, "ns.example.test");
	assert_null(ks_svcmap__node(&m, "web.service")->dns);
	assert_null(ks_svcmap__node(&m, "redis.service")->dns);
	assert_int_equal(edge("web.service", "93.184.216.34:443", 443)->conns, 3);
	/* each edge carries its ends' names: the remote's, none for a service */
	assert_string_equal(edge("web.service", "93.184.216.34:443", 443)->server_dns,
			    "b.example.test");
	assert_null(edge("web.service", "93.184.216.34:443", 443)->client_dns);
	assert_null(edge("web.service", "198.51.100.1:443", 443)->server_dns);
	assert_string_equal(edge("10.9.9.9", "web.service", 80)->client_dns,
			    "client.example.test");
	assert_null(edge("web.service", "redis.service", 6379)->server_dns);
	assert_int_equal(ks_buf_init(&o, -1, 1024), 0);
	ks_map_render(&o, &m, &w, KS_MAP_JSON);
	assert_int_equal(tu_json_lines(tu_text(&o)), 1);
	assert_non_null(strstr(o.p, "{\"name\":\"93.184.216.34:443\",\"kind\":\"remote\","));
	assert_non_null(strstr(o.p, ",\"dns\":\"b.example.test\"}"));
	assert_non_null(strstr(o.p, ",\"dns\":null}"));
	assert_non_null(strstr(o.p, ",\"client_dns\":null,"
			       "\"server_dns\":\"b.example.test\"}"));
	assert_non_null(strstr(o.p, ",\"client_dns\":\"client.example.test\","
			       "\"server_dns\":null}"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_DOT);
	assert_non_null(strstr(tu_text(&o), "  \"93.184.216.34:443\" [shape=ellipse, "
			       "style=dashed, label=\"93.184.216.34:443\\nb.example.test\"];\n"));
	assert_non_null(strstr(o.p, "  \"198.51.100.1:443\" [shape=ellipse, style=dashed];\n"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_MERMAID);
	assert_non_null(strstr(tu_text(&o), "([\"93.184.216.34:443<br/>b.example.test\"])\n"));
	ks_buf_reset(&o);
	ks_map_render(&o, &m, &w, KS_MAP_TABLE);
	assert_non_null(strstr(tu_text(&o), " SENT DNS\n"));
	assert_non_null(strstr(o.p, " b.example.test\n"));
	ks_buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ends_count_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_ends_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weighted_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listeners_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairing_needs_close_starts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroups_name_their_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_tuple_many_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_percentiles_errors_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dnat_pairs_with_the_real_server, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
