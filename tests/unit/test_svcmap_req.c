// SPDX-License-Identifier: GPL-2.0
/* core/svcmap_req.c: req client rows joined to the TCP edge their sessions made (the server
 * found through its listener, or the remote node; through a DNAT the ends knew), summed,
 * and their latency percentiles; server rows on the edge from their remote client only;
 * rows with no such edge on none; cgroups name rows as they name sessions; lost rows mark
 * TCP edges incomplete. */
#include "testutil.h"

#include <errno.h>

#include "core/svcmap.h"

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

/* One closed session's end: @svc on @laddr:@lport with @raddr:@rport. */
static void end(const char *svc, enum ks_svcmap_side side, const char *laddr, int lport,
		const char *raddr, int rport, int64_t t)
{
	struct ks_svcmap_conn c = {
		.start_ns = t, .end_ns = t + S / 10, .service = svc, .side = side,
		.laddr = laddr, .lport = lport, .raddr = raddr, .rport = rport, .tx = 10, .rx = 20,
	};

	assert_int_equal(ks_svcmap__add(&m, &c), 0);
}

static void req(const char *svc, const char *raddr, int rport, uint64_t n, uint64_t errs,
		const struct ks_svcmap_bucket *h, size_t nh)
{
	struct ks_svcmap_req r = {
		.ts_ns = T0 + S, .service = svc, .raddr = raddr, .rport = rport,
		.requests = n, .errors = errs, .hist = h, .nhist = nh,
	};

	assert_int_equal(ks_svcmap__add_req(&m, &r), 0);
}

/* A server row: @svc answered @n requests on @lport to the client at @caddr, whose end was
 * not counted here. */
static void req_srv(const char *svc, int lport, const char *caddr, uint64_t n, uint64_t errs,
		    const struct ks_svcmap_bucket *h, size_t nh)
{
	struct ks_svcmap_req r = {
		.ts_ns = T0 + S, .service = svc, .server = true, .raddr = caddr, .lport = lport,
		.requests = n, .errors = errs, .hist = h, .nhist = nh,
	};

	assert_int_equal(ks_svcmap__add_req(&m, &r), 0);
}

static const struct ks_svcmap_edge *edge(const char *c, const char *s)
{
	for (size_t i = 0; i < m.nedges; i++)
		if (!strcmp(m.edges[i].client, c) && !strcmp(m.edges[i].server, s))
			return &m.edges[i];
	fail_msg("no edge %s -> %s", c, s);
	return NULL;
}

/* web's rows to redis's listener land on web -> redis (client end alone: resolved), two
 * intervals summed; the buckets ranked together; app's rows on app -> web, both ends. */
static void test_join_through_listener(void **state)
{
	const struct ks_svcmap_bucket h1[] = { { 2000, 6 }, { 8000, 3 } };
	const struct ks_svcmap_bucket h2[] = { { 4000, 0 }, { 64000, 1 } };
	const struct ks_svcmap_bucket h3[] = { { 16000, 4 } };
	const struct ks_svcmap_edge *e;

	/* redis's listener (its server end of some other session), web's client end */
	end("redis.service", KS_SIDE_SERVER, "127.0.0.1", 6379, "127.0.0.1", 40000, T0);
	end("web.service", KS_SIDE_CLIENT, "127.0.0.1", 40001, "127.0.0.1", 6379, T0 + S);
	end("app.service", KS_SIDE_CLIENT, "127.0.0.1", 40002, "127.0.0.1", 8080, T0);
	end("web.service", KS_SIDE_SERVER, "127.0.0.1", 8080, "127.0.0.1", 40002, T0);
	req("web.service", "127.0.0.1", 6379, 9, 1, h1, 2);
	req("web.service", "127.0.0.1", 6379, 1, 0, h2, 2);
	req("app.service", "127.0.0.1", 8080, 4, 0, h3, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.req_in, 3);
	assert_int_equal(m.req_unjoined, 0);
	e = edge("web.service", "redis.service");
	assert_int_equal(e->kind, KS_EDGE_TCP);
	assert_true(e->resolved);
	assert_int_equal(e->requests, 10);
	assert_int_equal(e->request_errors, 1);
	/* 10 requests: the 5th in the 2 us bucket, the 10th (p99) in the 64 us one */
	assert_int_equal(e->req_p50, 2000);
	assert_int_equal(e->req_p99, 64000);
	e = edge("app.service", "web.service");
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->requests, 4);
	assert_int_equal(e->req_p50, 16000);
	assert_int_equal(e->req_p99, 16000);
	/* the listener's own session has none */
	e = edge("127.0.0.1", "redis.service");
	assert_int_equal(e->requests, 0);
	assert_int_equal(e->req_p99, 0);
}

/* A server outside: the remote node ADDR:PORT ([V6]:PORT); no edge (no session closed, a
 * different client, a different port, no service): on none, counted; no edge is made. */
static void test_remote_and_unjoined(void **state)
{
	const struct ks_svcmap_bucket h[] = { { 1000, 2 } };
	const struct ks_svcmap_edge *e;

	end("web.service", KS_SIDE_CLIENT, "10.0.0.1", 40000, "10.0.0.9", 5432, T0);
	end("web.service", KS_SIDE_CLIENT, "fd00::1", 40001, "fd00::9", 443, T0);
	req("web.service", "10.0.0.9", 5432, 2, 0, h, 1);
	req("web.service", "fd00::9", 443, 2, 2, h, 1);
	req("web.service", "10.0.0.8", 5432, 5, 0, h, 1);	/* no session to it */
	req("api.service", "10.0.0.9", 5432, 5, 0, h, 1);	/* another client */
	req("web.service", "10.0.0.9", 5433, 5, 0, h, 1);	/* another port */
	req(NULL, "10.0.0.9", 5432, 5, 0, h, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	assert_int_equal(m.req_in, 6);
	assert_int_equal(m.req_unjoined, 4);
	e = edge("web.service", "10.0.0.9:5432");
	assert_int_equal(e->requests, 2);
	assert_int_equal(e->request_errors, 0);
	assert_int_equal(e->req_p50, 1000);
	e = edge("web.service", "[fd00::9]:443");
	assert_int_equal(e->requests, 2);
	assert_int_equal(e->request_errors, 2);
	assert_int_equal(ks_svcmap__add_req(&m, &(struct ks_svcmap_req){ .requests = 1 }),
			 -EINVAL);
}

/* A row named by its program (its cgroup not resolved yet) of a cgroup a session named by
 * its unit: the unit's, on the unit's edge. */
static void test_cgroup_names(void **state)
{
	const struct ks_svcmap_bucket h[] = { { 1000, 3 } };
	struct ks_svcmap_conn c = {
		.start_ns = T0, .end_ns = T0 + S, .service = "web.service", .cgroup = 77,
		.side = KS_SIDE_CLIENT, .laddr = "10.0.0.1", .lport = 40000, .raddr = "10.0.0.9",
		.rport = 80,
	};
	struct ks_svcmap_req r = {
		.ts_ns = T0 + S, .service = "python3", .cgroup = 77, .raddr = "10.0.0.9",
		.rport = 80, .requests = 3, .hist = h, .nhist = 1,
	};

	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	assert_int_equal(ks_svcmap__add_req(&m, &r), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.req_unjoined, 0);
	assert_int_equal(edge("web.service", "10.0.0.9:80")->requests, 3);
}

/* An interval that lost request rows marks the TCP edges it overlaps incomplete (their
 * request counts may be short), not those before it, nor spawn edges in it. */
static void test_lost_rows_mark_tcp_edges(void **state)
{
	const struct ks_svcmap_bucket h[] = { { 1000, 1 } };
	struct ks_svcmap_exec x = { .ts_ns = T0 + 20 * S, .from = "cron.service",
				    .from_cg = 10, .to = "job.service", .to_cg = 11 };

	end("web.service", KS_SIDE_CLIENT, "10.0.0.1", 40000, "10.0.0.9", 80, T0 + 20 * S);
	end("web.service", KS_SIDE_CLIENT, "10.0.0.1", 40001, "10.0.0.8", 80, T0);
	req("web.service", "10.0.0.9", 80, 1, 0, h, 1);
	assert_int_equal(ks_svcmap__add_exec(&m, &x), 0);
	assert_int_equal(ks_svcmap__add_loss(&m, KS_LOSS_REQ, T0 + 10 * S, T0 + 30 * S), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_true(edge("web.service", "10.0.0.9:80")->incomplete);
	assert_false(edge("web.service", "10.0.0.8:80")->incomplete);
	assert_false(edge("cron.service", "job.service")->incomplete);
}

/* A server end alone (its client elsewhere): its rows, two intervals, on the edge from the
 * remote node ADDR, with the server's latencies; an IPv6 client's too; a row of a client
 * address no session came from, or of another port, on none. */
static void test_server_rows_remote_client(void **state)
{
	const struct ks_svcmap_bucket h1[] = { { 1000, 5 } };
	const struct ks_svcmap_bucket h2[] = { { 32000, 2 } };
	const struct ks_svcmap_edge *e;

	end("web.service", KS_SIDE_SERVER, "10.0.0.1", 8080, "10.0.0.5", 50000, T0);
	end("web.service", KS_SIDE_SERVER, "fd00::1", 8080, "fd00::5", 50001, T0);
	req_srv("web.service", 8080, "10.0.0.5", 5, 0, h1, 1);
	req_srv("web.service", 8080, "10.0.0.5", 2, 2, h2, 1);
	req_srv("web.service", 8080, "fd00::5", 1, 0, h1, 1);
	req_srv("web.service", 8080, "10.0.0.6", 4, 0, h1, 1);	/* no session from it */
	req_srv("web.service", 8081, "10.0.0.5", 4, 0, h1, 1);	/* another port */
	req_srv("api.service", 8080, "10.0.0.5", 4, 0, h1, 1);	/* another server */
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	assert_int_equal(m.req_in, 6);
	assert_int_equal(m.req_unjoined, 3);
	e = edge("10.0.0.5", "web.service");
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_int_equal(e->port, 8080);
	assert_int_equal(e->requests, 7);
	assert_int_equal(e->request_errors, 2);
	assert_int_equal(e->req_p50, 1000);
	assert_int_equal(e->req_p99, 32000);
	assert_int_equal(edge("fd00::5", "web.service")->requests, 1);
}

/* Both ends here: the edge has the client's rows only (the kernel gives no server row for
 * a connection whose client it counted). A server row of the same address (a client the
 * agent does not watch, on loopback too) goes to that client's own edge from 127.0.0.1,
 * never onto app -> web; one whose address made no server-only session, on none. */
static void test_both_ends_once(void **state)
{
	const struct ks_svcmap_bucket h[] = { { 2000, 1 } };
	const struct ks_svcmap_edge *e;

	end("app.service", KS_SIDE_CLIENT, "127.0.0.1", 40000, "127.0.0.1", 8080, T0);
	end("web.service", KS_SIDE_SERVER, "127.0.0.1", 8080, "127.0.0.1", 40000, T0);
	end("web.service", KS_SIDE_SERVER, "127.0.0.1", 8080, "127.0.0.1", 40001, T0);
	end("web.service", KS_SIDE_SERVER, "10.0.0.1", 8080, "10.0.0.7", 40002, T0);
	req("app.service", "127.0.0.1", 8080, 5, 1, h, 1);
	req_srv("web.service", 8080, "127.0.0.1", 3, 0, h, 1);
	req_srv("web.service", 8080, "10.0.0.8", 2, 0, h, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	e = edge("app.service", "web.service");
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->requests, 5);
	assert_int_equal(e->request_errors, 1);
	assert_int_equal(edge("127.0.0.1", "web.service")->requests, 3);
	assert_int_equal(edge("10.0.0.7", "web.service")->requests, 0);
	assert_int_equal(m.req_unjoined, 1);
}

/* A client row names the address it asked for: DNAT'd (its end knew it) to web's 8080, it
 * lands on app -> web:8080; one asked of a service address balanced over two servers, on
 * none; one to an endpoint no DNAT touched as before. */
static void test_dnat_client_rows(void **state)
{
	const struct ks_svcmap_bucket h[] = { { 1000, 1 } };
	struct ks_svcmap_conn c = {
		.start_ns = T0, .end_ns = T0 + S / 10, .service = "app.service",
		.side = KS_SIDE_CLIENT, .laddr = "10.0.0.2", .lport = 40000,
		.raddr = "10.0.0.9", .rport = 8080, .dnat_addr = "10.96.0.1", .dnat_port = 80,
	};

	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	end("web.service", KS_SIDE_SERVER, "10.0.0.9", 8080, "10.0.0.2", 40000, T0);
	/* 10.96.0.2:80 went to two servers */
	c.dnat_addr = "10.96.0.2";
	c.lport = 40001;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	c.raddr = "10.0.0.10";
	c.lport = 40002;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	end("app.service", KS_SIDE_CLIENT, "10.0.0.2", 40003, "10.0.0.11", 6379, T0);
	req("app.service", "10.96.0.1", 80, 6, 1, h, 1);
	req("app.service", "10.96.0.2", 80, 2, 0, h, 1);
	req("app.service", "10.0.0.11", 6379, 3, 0, h, 1);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(edge("app.service", "web.service")->requests, 6);
	assert_int_equal(edge("app.service", "web.service")->request_errors, 1);
	assert_int_equal(edge("app.service", "10.0.0.10:8080")->requests, 0);
	assert_int_equal(edge("app.service", "10.0.0.11:6379")->requests, 3);
	assert_int_equal(m.req_unjoined, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_join_through_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_and_unjoined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_rows_mark_tcp_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_rows_remote_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_ends_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dnat_client_rows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
