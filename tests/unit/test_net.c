// SPDX-License-Identifier: GPL-2.0
/* net: the payload's two forms (hex, display text), the options' checks and the agent's
 * summary line (through the test context, nothing loaded). */
#include "testctx.h"

#include "modules/net_int.h"

static void test_hex_and_text(void **state)
{
	const uint8_t p[] = { 'G', 'E', 'T', ' ', '/', '\r', '\n', 0, 0xff, 0x80, '\\', '\t', 0x7f };
	char hex[2 * sizeof(p) + 1], text[4 * sizeof(p) + 1], small[6];

	net_hex(p, sizeof(p), hex, sizeof(hex));
	assert_string_equal(hex, "474554202f0d0a00ff805c097f");
	net_text(p, sizeof(p), text, sizeof(text));
	assert_string_equal(text, "GET /\\r\\n\\x00\\xff\\x80\\\\\\t\\x7f");
	/* cut at a whole escape, never inside one */
	net_text(p + 4, 4, small, sizeof(small));
	assert_string_equal(small, "/\\r\\n");
	net_hex(p, sizeof(p), small, sizeof(small));
	assert_string_equal(small, "4745");
}

static int configure(const char *const *args, int n, struct net_state *st, char *err,
		     size_t len)
{
	static struct ks_common common;
	const struct ks_opt_table tables[2] = { { net_module.opts, st },
						 { ks_common_opts, &common } };
	const char *pos[KS_OPTS_MAX_POS];
	int npos;

	memset(st, 0, sizeof(*st));
	st->top = 10;
	ks_common_defaults(&common);
	if (ks_opts_parse(tables, 2, n, (char **)args, pos, KS_OPTS_MAX_POS, &npos, err, len))
		return -2;
	return net_module.configure(st, &common, err, len);
}

static void test_options(void **state)
{
	static struct net_state st;
	char err[KS_ERR_LEN];

#define BAD(want, ...)                                                                   \
	do {                                                                             \
		const char *a[] = { __VA_ARGS__ };                                       \
		assert_true(configure(a, sizeof(a) / sizeof(a[0]), &st, err, sizeof(err)) < 0); \
		assert_non_null(strstr(err, want));                                      \
	} while (0)

	BAD("-i nosuchif0: no such interface", "-i", "nosuchif0");
	BAD("nosuchif0", "-i", "lo,nosuchif0");
	BAD("not an interface name", "-i", "lo,");
	BAD("--addr", "--addr", "10.0.0");
	BAD("--payload needs --port", "--payload", "64");
	BAD("--payload", "--payload", "1000", "--port", "80");
	BAD("belong to no task", "-p", "1");
	BAD("exclude", "-i", "lo", "--by", "cgroup");
	BAD("-P", "-P", "--by", "interface");
#undef BAD
	{
		const char *a[] = { "-i", "lo,lo", "--by", "interface", "--addr", "fd00::1",
				    "--port", "53", "--payload", "16" };

		assert_int_equal(configure(a, 10, &st, err, sizeof(err)), 0);
		assert_int_equal(st.nifaces, 1);	/* named twice, attached once */
		assert_string_equal(st.ifaces[0].name, "lo");
		assert_int_equal(st.addr_family, NET_F_IPV6);
		assert_int_equal(st.addr_bin[0], 0xfd);
		assert_int_equal(st.addr_bin[15], 1);
	}
}

/* The agent's line from the registry's deltas: packets and bytes each way per second, the
 * services that moved most bytes. */
static void test_summary(void **state)
{
	char *argv[] = { "-i", "lo", "--by", "interface" };
	const char *a[3] = { "web.service", "in", "tcp/ipv4" }, *b[3] = { "db.service", "out",
									     "tcp/ipv4" };
	size_t la[3] = { 11, 2, 8 }, lb[3] = { 10, 3, 8 };
	struct net_state *st;
	struct tc t;

	tc_open(&t, &net_module, 4, argv);
	st = t.state;
	ks_counter_add(ks_metric_getn(st->m_pkts, a, la), 40);
	ks_counter_add(ks_metric_getn(st->m_bytes, a, la), 4000);
	ks_counter_add(ks_metric_get(st->m_where, "web.service"), 4000);
	ks_counter_add(ks_metric_getn(st->m_pkts, b, lb), 10);
	ks_counter_add(ks_metric_getn(st->m_bytes, b, lb), 96000);
	ks_counter_add(ks_metric_get(st->m_where, "db.service"), 96000);
	t.ctx->pipe.s[1]->kinds = KS_KINDS_ALL;	/* the agent's table takes summaries */
	net_module.summary(t.ctx, t.state, 2.0);
	tc_expect(tc_table(&t), "net       in 20.0/s  out 5.0/s  top: db.service 96.0k, "
				"web.service 4000\n");
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"summary\",\"module\":\"net\",\"in_packets_per_s\":20,"
		  "\"in_per_s\":2000,\"out_packets_per_s\":5,\"out_per_s\":48000,"
		  "\"in_packets\":40,\"in_bytes\":4000,\"out_packets\":10,\"out_bytes\":96000,"
		  "\"top\":{\"db.service\":96000,\"web.service\":4000}}\n");
	tc_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_and_text),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
