// SPDX-License-Identifier: GPL-2.0
/* udp --dns: captured datagrams as the kernel writes them, to exact JSON (a query, its
 * answer with the latency from the query, the server's side, garbage), and the options'
 * checks (through the test context, nothing loaded). */
#include "testctx.h"

#include "modules/udp_int.h"

static const uint8_t q_wire[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 's', 'v', 'c', 6, 'k', 's', 'i', 'g', 'h', 't', 4, 't', 'e', 's', 't', 0,
	0, 1, 0, 1,
};

static const uint8_t r_wire[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	3, 's', 'v', 'c', 6, 'k', 's', 'i', 'g', 'h', 't', 4, 't', 'e', 's', 't', 0,
	0, 1, 0, 1,
	0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7,
	0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 7,
};

static struct udp_dns_ev *ev(uint64_t ts, bool tx, uint64_t sock, const uint8_t *data,
			     size_t len)
{
	static struct udp_dns_ev e;

	memset(&e, 0, sizeof(e));
	tc_hdr(&e.hdr, UDP_EV_DNS, sizeof(e), ts, 42, 42, 7, "resolver");
	e.sock = sock;
	e.family = UDP_AF_INET;
	memcpy(e.raddr, (uint8_t[]){ 10, 9, 0, 53 }, 4);
	e.rport = 53;
	e.lport = 40000;
	e.flags = tx ? UDP_DNS_F_TX : 0;
	e.len = len;
	e.cap = len;
	memcpy(e.data, data, len);
	return &e;
}

#define HDR(ts, dir)                                                                      \
	"{\"type\":\"udp_dns\",\"ts\":\"1970-01-01T00:00:0" ts "Z\",\"pid\":42,\"tid\":42," \
	"\"comm\":\"resolver\",\"service\":\"resolver\",\"cgroup\":7,\"dir\":\"" dir "\","  \
	"\"family\":\"ipv4\",\"raddr\":\"10.9.0.53\",\"rport\":53,\"lport\":40000,"

static void test_query_and_answer(void **state)
{
	char *argv[] = { "--dns" };
	struct tc t;
	char *table;

	tc_open(&t, &udp_module, 1, argv);
	tc_feed(&t, ev(1000000000ULL, true, 0xabc0, q_wire, sizeof(q_wire)),
		sizeof(struct udp_dns_ev));
	tc_feed(&t, ev(1002500000ULL, false, 0xabc0, r_wire, sizeof(r_wire)),
		sizeof(struct udp_dns_ev));
	tc_expect(tc_json(&t),
		  HDR("1.000000000", "send") "\"len\":33,\"captured\":33,\"qr\":\"query\","
		  "\"id\":4660,\"qtype\":\"A\",\"name\":\"svc.ksight.test\"}\n"
		  HDR("1.002500000", "recv") "\"len\":77,\"captured\":77,\"qr\":\"resp\","
		  "\"id\":4660,\"qtype\":\"A\",\"name\":\"svc.ksight.test\",\"rcode\":\"NOERROR\","
		  "\"latency_ns\":2500000,\"answers\":[\"10.9.8.7\",\"fd00::7\"]}\n");
	table = tc_table(&t);
	assert_non_null(strstr(table, "svc.ksight.test"));
	assert_non_null(strstr(table, "NOERROR"));
	assert_non_null(strstr(table, "2.5ms"));
	assert_non_null(strstr(table, "10.9.8.7 fd00::7"));
	free(table);
	tc_close(&t);
}

/* Another socket's answer, or a second answer, gets no latency; a server's side does. */
static void test_pairing(void **state)
{
	char *argv[] = { "--dns" };
	struct tc t;
	char *json;

	tc_open(&t, &udp_module, 1, argv);
	tc_feed(&t, ev(1000000000ULL, true, 0xabc0, q_wire, sizeof(q_wire)),
		sizeof(struct udp_dns_ev));
	tc_feed(&t, ev(1001000000ULL, false, 0xdef0, r_wire, sizeof(r_wire)),
		sizeof(struct udp_dns_ev));
	tc_feed(&t, ev(1002000000ULL, false, 0xabc0, r_wire, sizeof(r_wire)),
		sizeof(struct udp_dns_ev));
	tc_feed(&t, ev(1003000000ULL, false, 0xabc0, r_wire, sizeof(r_wire)),
		sizeof(struct udp_dns_ev));
	/* the server: receives the query, sends the answer */
	tc_feed(&t, ev(1004000000ULL, false, 0x5e0, q_wire, sizeof(q_wire)),
		sizeof(struct udp_dns_ev));
	tc_feed(&t, ev(1004000500ULL, true, 0x5e0, r_wire, sizeof(r_wire)),
		sizeof(struct udp_dns_ev));
	json = tc_json(&t);
	{
		char *lines[6], *save = NULL, *p = json;

		for (int i = 0; i < 6; i++) {
			lines[i] = strtok_r(p, "\n", &save);
			p = NULL;
			assert_non_null(lines[i]);
		}
		assert_null(strstr(lines[1], "latency_ns"));
		assert_non_null(strstr(lines[2], "\"latency_ns\":2000000,"));
		assert_null(strstr(lines[3], "latency_ns"));
		assert_non_null(strstr(lines[5], "\"dir\":\"send\""));
		assert_non_null(strstr(lines[5], "\"latency_ns\":500,"));
	}
	free(json);
	tc_close(&t);
}

/* What is not DNS, or cut by the capture, says so; nothing is read past cap. */
static void test_garbage_and_cut(void **state)
{
	char *argv[] = { "--dns" };
	struct udp_dns_ev *e;
	struct tc t;

	tc_open(&t, &udp_module, 1, argv);
	tc_feed(&t, ev(1000000000ULL, false, 1, (const uint8_t *)"hello", 5),
		sizeof(struct udp_dns_ev));
	e = ev(1000000000ULL, false, 1, r_wire, sizeof(r_wire));
	e->len = 1400;
	e->cap = 40;
	tc_feed(&t, e, sizeof(*e));
	e = ev(1000000000ULL, true, 1, r_wire, 0);
	e->len = 33;
	e->flags |= UDP_DNS_F_FAULT;
	tc_feed(&t, e, sizeof(*e));
	tc_expect(tc_json(&t),
		  HDR("1.000000000", "recv") "\"len\":5,\"captured\":5,"
		  "\"error\":\"shorter than a DNS header\"}\n"
		  HDR("1.000000000", "recv") "\"len\":1400,\"captured\":40,\"qr\":\"resp\","
		  "\"id\":4660,\"qtype\":\"A\",\"name\":\"svc.ksight.test\",\"rcode\":\"NOERROR\","
		  "\"answers\":[],\"error\":\"truncated answer\",\"capture_cut\":true}\n"
		  HDR("1.000000000", "send") "\"len\":33,\"captured\":0,"
		  "\"error\":\"shorter than a DNS header\",\"capture_cut\":true,"
		  "\"unreadable\":true}\n");
	/* a record shorter than the layout is ignored */
	tc_feed(&t, e, sizeof(*e) - 8);
	tc_expect(tc_json(&t), "");
	tc_close(&t);
}

static void test_bad_options(void **state)
{
	static struct ks_common common;
	struct udp_state st = { .dns = true, .per_proc = true };
	char err[KS_ERR_LEN];

	ks_common_defaults(&common);
	assert_int_equal(udp_module.configure(&st, &common, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--dns"));
	st.per_proc = false;
	common.interval = 1;
	assert_int_equal(udp_module.configure(&st, &common, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "interval"));
	st.dns = false;
	assert_int_equal(udp_module.configure(&st, &common, err, sizeof(err)), 0);
}

/* The agent's line from the registry's deltas: datagram rates, the top senders, and in
 * JSON the byte rates and the interval's exact counts. */
static void test_summary(void **state)
{
	struct udp_state *st;
	struct tc t;

	tc_open(&t, &udp_module, 0, NULL);
	st = t.state;
	ks_counter_add(ks_metric_get(st->m_txd, "dnsmasq"), 30);
	ks_counter_add(ks_metric_get(st->m_txb, "dnsmasq"), 3000);
	ks_counter_add(ks_metric_get(st->m_txd, "chronyd"), 2);
	ks_counter_add(ks_metric_get(st->m_txb, "chronyd"), 96);
	ks_counter_add(ks_metric_get(st->m_rxd, "dnsmasq"), 31);
	ks_counter_add(ks_metric_get(st->m_rxb, "dnsmasq"), 1240);
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;	/* the agent's table takes summaries */
	udp_module.summary(t.ctx, t.state, 2.0);
	tc_expect(tc_table(&t), "udp       sent 16.0/s  recv 15.5/s  top: dnsmasq 30, chronyd 2\n");
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"summary\",\"module\":\"udp\",\"sent_datagrams_per_s\":16,"
		  "\"sent_per_s\":1548,\"received_datagrams_per_s\":15.5,"
		  "\"received_per_s\":620,\"sent_datagrams\":32,\"sent_bytes\":3096,"
		  "\"received_datagrams\":31,\"received_bytes\":1240,"
		  "\"top\":{\"dnsmasq\":30,\"chronyd\":2}}\n");
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_and_answer),
		cmocka_unit_test(test_pairing),
		cmocka_unit_test(test_garbage_and_cut),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
