// SPDX-License-Identifier: GPL-2.0
/* tcplife's decoder: session records as the kernel writes them, to exact JSON and table
 * text, and the registry's per-service counts (through the test context, nothing loaded). */
#include "testctx.h"

#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "modules/tcp_int.h"
#include "tcp.h"

extern const struct ks_module tcp_module;

static void client_v4(struct tcp_close *e)
{
	memset(e, 0, sizeof(*e));
	tc_hdr(&e->hdr, TCP_EV_CLOSE, sizeof(*e), 3000000000ULL, 42, 43, 4242, "curl");
	e->hdr.flags = KS_HDR_F_OWNER;
	e->start_ns = 2750000000ULL;
	e->tx_bytes = 1 << 20;
	e->rx_bytes = 256 << 10;
	memcpy(e->local.addr, (uint8_t[]){ 10, 252, 7, 1 }, 4);
	memcpy(e->remote.addr, (uint8_t[]){ 10, 252, 7, 2 }, 4);
	e->local.port = 41234;
	e->remote.port = 8080;
	e->retrans = 3;
	e->srtt_us = 125;
	e->connect_us = 180;
	e->flags = TCP_F_OWNER | TCP_F_ESTAB | TCP_F_FIN_SENT | TCP_F_FIN_RCVD | TCP_F_FIN_ACKED;
	e->family = TCP_AF_INET;
	e->side = TCP_SIDE_CLIENT;
	e->oldstate = 5;
}

static void test_client_session(void **state)
{
	struct tcp_close e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	tc_feed(&t, &e, sizeof(e));
	tc_expect(tc_json(&t),
		  "{\"type\":\"tcplife\",\"ts\":\"1970-01-01T00:00:03.000000000Z\",\"pid\":42,"
		  "\"tid\":43,\"comm\":\"curl\",\"service\":\"curl\",\"cgroup\":4242,"
		  "\"side\":\"client\",\"family\":\"ipv4\",\"laddr\":\"10.252.7.1\","
		  "\"lport\":41234,\"raddr\":\"10.252.7.2\",\"rport\":8080,\"tx_bytes\":1048576,"
		  "\"rx_bytes\":262144,\"duration_ns\":250000000,\"retrans\":3,"
		  "\"srtt_ns\":125000,\"connect_ns\":180000,\"reason\":\"fin\","
		  "\"closed_from\":\"FIN_WAIT2\","
		  "\"fin_sent\":true,\"fin_received\":true,\"opened_before\":false,\"partial\":false}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             SIDE    LADDR           LPORT RADDR           RPORT"
		  "        TX        RX      DUR RETR     RTT CLOSE        NAT\n"
		  "42      curl             client  10.252.7.1      41234 10.252.7.2       8080"
		  "  1.00 MiB   256 KiB    250ms    3   125us fin          -\n");
	assert_int_equal(tc_counter(&t, "ksight_tcp_sessions_closed_total", "curl"), 1);
	assert_int_equal(tc_counter(&t, "ksight_tcp_sent_bytes_total", "curl"), 1 << 20);
	assert_int_equal(tc_counter(&t, "ksight_tcp_received_bytes_total", "curl"), 256 << 10);
	tc_close(&t);
}

/* Opened before ksight, closed by a RST in softirq: about no task, no duration. */
static void test_unowned_v6_reset(void **state)
{
	struct tcp_close e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	memset(&e.hdr.pid, 0, 8 + sizeof(e.hdr.comm));
	e.hdr.cgroup = 0;
	e.hdr.flags = KS_HDR_F_NOTASK;
	e.start_ns = 0;
	e.family = TCP_AF_INET6;
	memset(e.local.addr, 0, 16);
	memset(e.remote.addr, 0, 16);
	e.local.addr[0] = e.remote.addr[0] = 0xfd;
	e.local.addr[15] = 1;
	e.remote.addr[15] = 2;
	e.flags = TCP_F_BEFORE;
	e.side = TCP_SIDE_NONE;
	e.err = ECONNRESET;
	e.oldstate = 1;
	e.srtt_us = 0;
	tc_feed(&t, &e, sizeof(e));
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcplife\",\"side\":\"unknown\",\"family\":\"ipv6\","
		  "\"laddr\":\"fd00::1\",\"lport\":41234,\"raddr\":\"fd00::2\",\"rport\":8080,"
		  "\"tx_bytes\":1048576,\"rx_bytes\":262144,\"retrans\":3,\"srtt_ns\":0,"
		  "\"reason\":\"rst_received\",\"error\":\"ECONNRESET\","
		  "\"closed_from\":\"ESTABLISHED\",\"fin_sent\":false,\"fin_received\":false,"
		  "\"opened_before\":true,\"partial\":false}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             SIDE    LADDR           LPORT RADDR           RPORT"
		  "        TX        RX      DUR RETR     RTT CLOSE        NAT\n"
		  "-       -                unknown fd00::1         41234 fd00::2          8080"
		  "  1.00 MiB   256 KiB        -    3     0ns rst_received -\n");
	assert_int_equal(tc_counter(&t, "ksight_tcp_sessions_closed_total", "(unknown)"), 1);
	tc_close(&t);
}

/* A session whose network namespace no longer exists (nor anything in it): conntrack
 * cannot be asked; the record says so, the table shows "?", the registry counts it. */
static void test_dnat_unknown_netns(void **state)
{
	struct tcp_close e;
	char *json, *table;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	e.netns = 1;		/* no namespace has inode 1 */
	e.hdr.pid = e.hdr.tid = 0x7ffffff0;	/* nor is there such a process */
	tc_feed(&t, &e, sizeof(e));
	json = tc_json(&t);
	table = tc_table(&t);
	assert_non_null(strstr(json, ",\"partial\":false,\"conntrack_error\":\"no_netns\"}\n"));
	assert_null(strstr(json, "orig_daddr"));
	assert_non_null(strstr(table, "fin          ?\n"));
	free(json);
	free(table);
	assert_int_equal(tc_counter(&t, "ksight_tcp_conntrack_failures_total", "no_netns"), 1);
	tc_close(&t);
}

/* A record shorter than a session is ignored, not read past its end. */
/* Opened before ksight and found by the start-up scan: about its owner, partial. */
static void test_seeded_session(void **state)
{
	struct tcp_close e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	e.start_ns = 0;
	e.flags = TCP_F_OWNER | TCP_F_ESTAB | TCP_F_BEFORE | TCP_F_SEEDED;
	e.side = TCP_SIDE_NONE;
	tc_feed(&t, &e, sizeof(e));
	const char *j = tc_json(&t);

	assert_non_null(strstr(j, "\"pid\":42,"));
	assert_non_null(strstr(j, "\"side\":\"unknown\","));
	assert_null(strstr(j, "duration_ns"));
	assert_non_null(strstr(j, "\"opened_before\":true,\"partial\":true}\n"));
	tc_close(&t);
}

static void test_short_record(void **state)
{
	struct tcp_close e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	tc_feed(&t, &e, sizeof(e) - 8);
	tc_expect(tc_json(&t), "");
	assert_int_equal(tc_counter(&t, "ksight_tcp_sessions_closed_total", "curl"), -1);
	tc_close(&t);
}

static void test_summary(void **state)
{
	struct tcp_close e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	client_v4(&e);
	for (int i = 0; i < 10; i++)
		tc_feed(&t, &e, sizeof(e));
	memcpy(e.hdr.comm, "nginx\0", 6);
	e.hdr.pid = 7;
	e.tx_bytes = 100;
	e.rx_bytes = 1;
	tc_feed(&t, &e, sizeof(e));
	free(tc_json(&t));
	free(tc_table(&t));
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;	/* the agent's table takes summaries */
	tcp_module.summary(t.ctx, t.state, 2.0);
	tc_expect(tc_table(&t), "tcp       closed 5.5/s  sent 5.00 MiB/s  recv 1.25 MiB/s  "
				"top: curl 10, nginx 1\n");
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"summary\",\"module\":\"tcp\",\"closed_per_s\":5.5,"
		  "\"sent_per_s\":5242930,\"received_per_s\":1310720.5,\"closed\":11,"
		  "\"sent_bytes\":10485860,\"received_bytes\":2621441,\"retrans_segs\":0,"
		  "\"resets_sent\":0,\"resets_received\":0,\"top\":{\"curl\":10,\"nginx\":1}}\n");
	tc_close(&t);
}

static void open_ev(struct tcp_open_ev *e, uint16_t type)
{
	memset(e, 0, sizeof(*e));
	tc_hdr(&e->hdr, type, sizeof(*e), 3000000000ULL, 42, 43, 4242, "curl");
	e->hdr.flags = KS_HDR_F_OWNER;
	e->lat_ns = 1500000;
	memcpy(e->local.addr, (uint8_t[]){ 10, 252, 7, 1 }, 4);
	memcpy(e->remote.addr, (uint8_t[]){ 10, 252, 7, 2 }, 4);
	e->local.port = 41234;
	e->remote.port = 8080;
	e->family = TCP_AF_INET;
	e->state = 1;	/* ESTABLISHED */
}

static void test_connect_and_accept(void **state)
{
	struct tcp_open_ev e;
	struct tc t;

	tc_open(&t, &tcp_module, 0, NULL);
	open_ev(&e, TCP_EV_CONNECT);
	tc_feed(&t, &e, sizeof(e));
	e.state = 2;	/* SYN_SENT: it failed */
	e.err = ECONNREFUSED;
	tc_feed(&t, &e, sizeof(e));
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcpconnect\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"latency_ns\":1500000,\"result\":\"established\"}\n"
		  "{\"type\":\"tcpconnect\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"latency_ns\":1500000,\"result\":\"refused\","
		  "\"error\":\"ECONNREFUSED\"}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             LADDR           LPORT RADDR           RPORT      LAT RESULT\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080    1.5ms established\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080    1.5ms refused\n");
	open_ev(&e, TCP_EV_ACCEPT);
	tc_feed(&t, &e, sizeof(e));
	tc_feed(&t, &e, sizeof(e) - 1);	/* short: ignored */
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"tcpaccept\",\"pid\":42,\"tid\":43,\"comm\":\"curl\","
		  "\"service\":\"curl\",\"cgroup\":4242,\"family\":\"ipv4\","
		  "\"laddr\":\"10.252.7.1\",\"lport\":41234,\"raddr\":\"10.252.7.2\","
		  "\"rport\":8080,\"queued_ns\":1500000}\n");
	tc_expect(tc_table(&t),
		  "PID     COMM             LADDR           LPORT RADDR           RPORT QUEUED\n"
		  "42      curl             10.252.7.1      41234 10.252.7.2       8080 1.5ms\n");
	/* opens are no sessions: the registry's session counts stay empty */
	assert_int_equal(tc_counter(&t, "ksight_tcp_sessions_closed_total", "curl"), -1);
	tc_close(&t);
}

/* /proc/PID/task/TID/syscall as the accepts waiting at start are found by (tcp_late.c) */
static void test_late_is_accept(void **unused)
{
	char line[128];

	(void)unused;
	snprintf(line, sizeof(line), "%d 0x3 0x0 0x0 0x80000 0x0 0x0 0x7ffd9a0c 0x7f01b2c3\n",
		 SYS_accept4);
	assert_int_equal(tcp_late_is_accept(line), 3);
	snprintf(line, sizeof(line), "%d 0x1a 0x0 0x0 0x0 0x0 0x0 0x7ffd9a0c 0x7f01b2c3\n",
		 SYS_accept);
	assert_int_equal(tcp_late_is_accept(line), 26);
	snprintf(line, sizeof(line), "%d 0x3 0x0 0x0 0x0 0x0 0x0 0x7ffd9a0c 0x7f01b2c3\n",
		 SYS_accept4 + 1);
	assert_int_equal(tcp_late_is_accept(line), -1);
	assert_int_equal(tcp_late_is_accept("running\n"), -1);
	assert_int_equal(tcp_late_is_accept("-1 0x7ffd9a0c 0x7f01b2c3\n"), -1);
	assert_int_equal(tcp_late_is_accept(""), -1);
	snprintf(line, sizeof(line), "%dx 0x3\n", SYS_accept);	/* no number */
	assert_int_equal(tcp_late_is_accept(line), -1);
	snprintf(line, sizeof(line), "%d 0xffffffffff 0x0\n", SYS_accept);	/* no fd */
	assert_int_equal(tcp_late_is_accept(line), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_accept),
		cmocka_unit_test(test_client_session),
		cmocka_unit_test(test_seeded_session),
		cmocka_unit_test(test_unowned_v6_reset),
		cmocka_unit_test(test_dnat_unknown_netns),
		cmocka_unit_test(test_short_record),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_late_is_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
