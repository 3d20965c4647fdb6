// SPDX-License-Identifier: GPL-2.0
/* tcpstates' and tcpretrans' decoders (records as the kernel writes them, to exact JSON
 * and table text), tcpretrans -c's per-connection deltas, and the agent's totals of both
 * (through the test context, nothing loaded). */
#include "testctx.h"

#include <errno.h>

#include "modules/tcp_int.h"
#include "tcp.h"

extern const struct ks_module tcp_module;

static void ends_v4(struct tcp_end *l, struct tcp_end *r)
{
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	memcpy(l->addr, (uint8_t[]){ 10, 252, 7, 1 }, 4);
	memcpy(r->addr, (uint8_t[]){ 10, 252, 7, 2 }, 4);
	l->port = 41234;
	r->port = 8080;
}

static void state_ev(struct tcp_state_ev *e, int old, int new, uint64_t in_old)
{
	memset(e, 0, sizeof(*e));
	tc_hdr(&e->hdr, TCP_EV_STATE, sizeof(*e), 3000000000ULL, 42, 43, 4242, "curl");
	e->hdr.flags = KS_HDR_F_OWNER;
	ends_v4(&e->local, &e->remote);
	e->family = TCP_AF_INET;
	e->oldstate = old;
	e->newstate = new;
	e->side = TCP_SIDE_CLIENT;
	e->in_old_ns = in_old;
	e->flags = in_old ? 0 : TCP_SF_FIRST;
}

static void test_state_changes(void **state)
{
	struct tcp_state_ev e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	state_ev(&e, 7, 2, 0);		/* CLOSE -> SYN_SENT: the first seen */
	tc_feed(&t, &e, sizeof(e));
	state_ev(&e, 2, 1, 1500000);	/* SYN_SENT -> ESTABLISHED after 1.5 ms */
	tc_feed(&t, &e, sizeof(e));
	/* an accepted child before accept(): no task */
	state_ev(&e, 10, 3, 0);
	memset(&e.hdr.pid, 0, 8 + sizeof(e.hdr.comm));
	e.hdr.cgroup = 0;
	e.hdr.flags = KS_HDR_F_NOTASK;
	e.side = TCP_SIDE_SERVER;
	tc_feed(&t, &e, sizeof(e));
	tc_feed(&t, &e, sizeof(e) - 1);	/* short: ignored */
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcpstates\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"old_state\":\"CLOSE\",\"new_state\":\"SYN_SENT\"}\n"
		  "{\"type\":\"tcpstates\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"old_state\":\"SYN_SENT\",\"new_state\":\"ESTABLISHED\","
		  "\"in_old_ns\":1500000}\n"
		  "{\"type\":\"tcpstates\",\"side\":\"server\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"old_state\":\"LISTEN\",\"new_state\":\"SYN_RECV\"}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             LADDR           LPORT RADDR           RPORT "
		  "OLDSTATE    NEWSTATE      IN_OLD\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "CLOSE       SYN_SENT           -\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "SYN_SENT    ESTABLISHED    1.5ms\n"
		  "-       -                10.252.7.1      41234 10.252.7.2       8080 "
		  "LISTEN      SYN_RECV           -\n");
	tc_close(&t);
}

static void retr_ev(struct tcp_retr_ev *e, int kind)
{
	memset(e, 0, sizeof(*e));
	tc_hdr(&e->hdr, TCP_EV_RETR, sizeof(*e), 3000000000ULL, 42, 43, 4242, "curl");
	e->hdr.flags = KS_HDR_F_OWNER;
	ends_v4(&e->local, &e->remote);
	e->family = TCP_AF_INET;
	e->kind = kind;
	e->state = 1;
	e->side = TCP_SIDE_CLIENT;
	e->segs = kind == TCP_RK_RETRANS ? 3 : 0;
}

static void test_retransmits_and_resets(void **state)
{
	struct tcp_retr_ev e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	retr_ev(&e, TCP_RK_RETRANS);
	tc_feed(&t, &e, sizeof(e));
	e.err = -ENOBUFS;	/* a retransmission that failed (kernels that say so) */
	e.segs = 1;
	tc_feed(&t, &e, sizeof(e));
	retr_ev(&e, TCP_RK_RST_RCVD);
	e.state = 2;
	tc_feed(&t, &e, sizeof(e));
	/* a closed port's reset: no socket, no task */
	retr_ev(&e, TCP_RK_RST_SENT);
	memset(&e.hdr.pid, 0, 8 + sizeof(e.hdr.comm));
	e.hdr.cgroup = 0;
	e.hdr.flags = KS_HDR_F_NOTASK;
	e.state = 0;
	e.side = TCP_SIDE_NONE;
	tc_feed(&t, &e, sizeof(e));
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcpretrans\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"state\":\"ESTABLISHED\",\"kind\":\"retransmit\",\"segs\":3}\n"
		  "{\"type\":\"tcpretrans\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"state\":\"ESTABLISHED\",\"kind\":\"retransmit\",\"segs\":1,"
		  "\"error\":\"ENOBUFS\"}\n"
		  "{\"type\":\"tcpretrans\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"state\":\"SYN_SENT\",\"kind\":\"reset_received\"}\n"
		  "{\"type\":\"tcpretrans\",\"side\":\"unknown\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"kind\":\"reset_sent\"}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             LADDR           LPORT RADDR           RPORT "
		  "STATE       KIND           SEGS\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "ESTABLISHED retransmit        3\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "ESTABLISHED retransmit        1\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "SYN_SENT    reset_received    -\n"
		  "-       -                10.252.7.1      41234 10.252.7.2       8080 "
		  "-           reset_sent        -\n");
	tc_close(&t);
}

static void row(struct tcp_retr_row *r, uint16_t lport, uint64_t segs, uint64_t rst_rcvd)
{
	memset(r, 0, sizeof(*r));
	ends_v4(&r->k.local, &r->k.remote);
	r->k.local.port = lport;
	r->k.family = TCP_AF_INET;
	r->v.segs = segs;
	r->v.events = segs / 2;
	r->v.rst_rcvd = rst_rcvd;
	r->v.state = 1;
	r->v.side = TCP_SIDE_CLIENT;
}

/* What changed since the last report, busiest first; unchanged and new connections. */
static void test_count_deltas(void **state)
{
	struct tcp_retr_row prev[3], cur[4], out[4];
	size_t n;

	row(&prev[0], 1000, 10, 0);
	row(&prev[1], 2000, 4, 0);
	row(&prev[2], 3000, 0, 1);
	row(&cur[0], 1000, 12, 0);	/* +2 */
	row(&cur[1], 2000, 4, 0);	/* unchanged: not shown */
	row(&cur[2], 3000, 0, 2);	/* +1 reset */
	row(&cur[3], 500, 7, 0);	/* new: +7 */
	tcp_retr_rows_sort(prev, 3);
	tcp_retr_rows_sort(cur, 4);
	n = tcp_retr_rows_delta(cur, 4, prev, 3, out);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].k.local.port, 500);
	assert_int_equal(out[0].v.segs, 7);
	assert_int_equal(out[0].v.events, 3);
	assert_int_equal(out[1].k.local.port, 1000);
	assert_int_equal(out[1].v.segs, 2);
	assert_int_equal(out[1].v.events, 1);
	assert_int_equal(out[2].k.local.port, 3000);
	assert_int_equal(out[2].v.segs, 0);
	assert_int_equal(out[2].v.rst_rcvd, 1);
	/* the first report: everything counts from zero */
	assert_int_equal(tcp_retr_rows_delta(cur, 4, NULL, 0, out), 4);
	assert_int_equal(out[0].v.segs, 12);
}

static void test_count_rows_text(void **state)
{
	struct tcp_retr_row r[2];
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	row(&r[0], 41234, 12, 0);
	r[0].v.owner.pid = 42;
	r[0].v.owner.tid = 42;
	r[0].v.owner.cgroup = 4242;
	memcpy(r[0].v.owner.comm, "curl", 5);
	r[0].v.failed = 1;
	row(&r[1], 41236, 0, 1);
	r[1].v.state = 0;
	r[1].v.side = TCP_SIDE_NONE;
	tcp_retr_emit_rows(t.ctx, r, 2);
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcpretrans_conn\",\"pid\":42,\"tid\":42,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"side\":\"client\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"state\":\"ESTABLISHED\",\"retrans_segs\":12,"
		  "\"retransmits\":6,\"failed_segs\":1,\"resets_sent\":0,"
		  "\"resets_received\":0}\n"
		  "{\"type\":\"tcpretrans_conn\",\"side\":\"unknown\",\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41236,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"retrans_segs\":0,\"retransmits\":0,"
		  "\"failed_segs\":0,\"resets_sent\":0,\"resets_received\":1}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             LADDR           LPORT RADDR           RPORT "
		  "STATE       RETRANS FAILED RST_OUT RST_IN\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 "
		  "ESTABLISHED      12      1       0      0\n"
		  "-       -                10.252.7.1      41236 10.252.7.2       8080 "
		  "-                 0      0       0      1\n");
	tc_close(&t);
}

/* The agent: per-CPU totals merged, their growth into the registry each interval. */
static void test_agent_counts(void **state)
{
	struct tcp_counts pc[2] = {}, cur;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	pc[0].states[1] = 3;	/* ESTABLISHED */
	pc[1].states[1] = 2;
	pc[1].states[7] = 4;	/* CLOSE */
	pc[0].retrans_segs = 10;
	pc[1].retrans_segs = 5;
	pc[1].rst_sent = 1;
	pc[0].rst_rcvd = 2;
	pc[0].children_discarded = 1;
	pc[1].children_discarded = 2;
	tcp_counts_merge(&cur, pc, 2);
	assert_int_equal(cur.children_discarded, 3);
	tcp_agent_add(t.state, &cur);
	assert_int_equal(tc_counter(&t, "ksight_tcp_state_changes_total", "ESTABLISHED"), 5);
	assert_int_equal(tc_counter(&t, "ksight_tcp_state_changes_total", "CLOSE"), 4);
	assert_int_equal(tc_counter(&t, "ksight_tcp_state_changes_total", "LISTEN"), -1);
	assert_int_equal(tc_counter(&t, "ksight_tcp_retransmitted_segments_total", NULL), 15);
	assert_int_equal(tc_counter(&t, "ksight_tcp_resets_sent_total", NULL), 1);
	assert_int_equal(tc_counter(&t, "ksight_tcp_resets_received_total", NULL), 2);
	pc[0].retrans_segs += 4;
	tcp_counts_merge(&cur, pc, 2);
	tcp_agent_add(t.state, &cur);
	assert_int_equal(tc_counter(&t, "ksight_tcp_retransmitted_segments_total", NULL), 19);
	assert_int_equal(tc_counter(&t, "ksight_tcp_state_changes_total", "ESTABLISHED"), 5);
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_changes),
		cmocka_unit_test(test_retransmits_and_resets),
		cmocka_unit_test(test_count_deltas),
		cmocka_unit_test(test_count_rows_text),
		cmocka_unit_test(test_agent_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
