// SPDX-License-Identifier: GPL-2.0
/* The fleet's RTTs and durations on the map's edges (core/svcmap_hist.c): weighted ends'
 * buckets ranked with the edge's own samples, a bucket standing for its bound; the RTTs
 * are the client's where it has them, else the server's, the durations the end the edge
 * counts by. */
#include "svcmap_fixture.h"

static struct ks_svcmap_conn wend(const char *svc, enum ks_svcmap_side side, uint64_t count)
{
	bool cl = side == KS_SIDE_CLIENT;
	struct ks_svcmap_conn c = {
		.end_ns = T0, .service = svc, .side = side, .count = count,
		.laddr = cl ? "10.0.0.1" : "10.0.0.2", .lport = cl ? 0 : 7000,
		.raddr = cl ? "10.0.0.2" : "10.0.0.1", .rport = cl ? 7000 : 0,
	};

	return c;
}

/* Paired: the client's RTT buckets (98 at 1 ms, 2 at 8 ms: p50 1 ms, p99 8 ms), not the
 * server's; the client's durations (99 at 4 ms, 1 at 64 ms: p99 4 ms, the 100th is past
 * the rank). The buckets are copied when added. */
static void test_paired_client_first(void **state)
{
	struct ks_svcmap_conn c = wend("web@a", KS_SIDE_CLIENT, 100);
	struct ks_svcmap_conn s = wend("db@b", KS_SIDE_SERVER, 100);
	struct ks_svcmap_bucket crtt[2] = { { 1000000, 98 }, { 8000000, 2 } };
	struct ks_svcmap_bucket srtt[1] = { { 500000000, 100 } };
	struct ks_svcmap_bucket cdur[2] = { { 64000000, 1 }, { 4000000, 99 } };
	struct ks_svcmap_bucket sdur[1] = { { 1000, 100 } };
	const struct ks_svcmap_edge *e;

	c.rtt_hist = crtt;
	c.nrtt_hist = 2;
	c.dur_hist = cdur;
	c.ndur_hist = 2;
	s.rtt_hist = srtt;
	s.nrtt_hist = 1;
	s.dur_hist = sdur;
	s.ndur_hist = 1;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	assert_int_equal(ks_svcmap__add(&m, &s), 0);
	memset(crtt, 0, sizeof(crtt));
	memset(cdur, 0, sizeof(cdur));
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 1);
	e = edge("web@a", "db@b", 7000);
	assert_int_equal(e->seen, KS_SEEN_CLIENT | KS_SEEN_SERVER);
	assert_int_equal(e->rtt_p50, 1000000);
	assert_int_equal(e->rtt_p99, 8000000);
	assert_int_equal(e->dur_p50, 4000000);
	assert_int_equal(e->dur_p99, 4000000);
	assert_int_equal(e->nconn, 0);
}

/* A client end without RTTs (none measured): the server's; a server end alone: its own
 * durations; an end with none: 0 (not known). */
static void test_server_rtt_and_alone(void **state)
{
	struct ks_svcmap_conn c = wend("web@a", KS_SIDE_CLIENT, 3);
	struct ks_svcmap_conn s = wend("db@b", KS_SIDE_SERVER, 3);
	struct ks_svcmap_bucket srtt[1] = { { 2000000, 3 } };
	struct ks_svcmap_bucket sdur[2] = { { 16000000, 2 }, { 32000000, 1 } };
	const struct ks_svcmap_edge *e;

	s.rtt_hist = srtt;
	s.nrtt_hist = 1;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	assert_int_equal(ks_svcmap__add(&m, &s), 0);
	s = wend("db@b", KS_SIDE_SERVER, 3);
	s.raddr = "10.0.0.9";	/* its client is no end given: alone */
	s.dur_hist = sdur;
	s.ndur_hist = 2;
	assert_int_equal(ks_svcmap__add(&m, &s), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	assert_int_equal(m.nedges, 2);
	e = edge("web@a", "db@b", 7000);
	assert_true(e->rtt_p50 == 2000000 && e->rtt_p99 == 2000000);
	assert_true(e->dur_p50 == 0 && e->dur_p99 == 0);
	e = edge("10.0.0.9", "db@b", 7000);
	assert_int_equal(e->seen, KS_SEEN_SERVER);
	assert_true(e->rtt_p99 == 0 && e->dur_p50 == 16000000 && e->dur_p99 == 32000000);
}

/* A record's own samples (weight 1) and a weighted end's buckets on one edge ranked
 * together: 1 sample of 3 ms, 1 bucket of 1 ms holding 1: p50 1 ms, p99 3 ms. */
static void test_samples_and_buckets(void **state)
{
	struct ks_svcmap_conn c = wend("web", KS_SIDE_CLIENT, 1);
	struct ks_svcmap_bucket dur[1] = { { 1000000, 1 } };
	const struct ks_svcmap_edge *e;

	c.start_ns = T0 - 3000000;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	c = wend("web", KS_SIDE_CLIENT, 1);
	c.dur_hist = dur;
	c.ndur_hist = 1;
	assert_int_equal(ks_svcmap__add(&m, &c), 0);
	assert_int_equal(ks_svcmap__build(&m), 0);
	e = edge("web", "10.0.0.2:7000", 7000);
	assert_int_equal(e->conns, 2);
	assert_int_equal(e->dur_p50, 1000000);
	assert_int_equal(e->dur_p99, 3000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paired_client_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_rtt_and_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samples_and_buckets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
