// SPDX-License-Identifier: GPL-2.0
/* drops: the reason names read from a kernel's BTF (a BTF built here, as kernels of
 * different ages have it), protocol names, per-interval deltas, and a report row to exact
 * JSON and table text (through the test context, nothing loaded). */
#include "testctx.h"

#include <bpf/btf.h>
#include <errno.h>

#include "modules/drops_int.h"

extern const struct ks_module drops_module;

/* A BTF with enum skb_drop_reason as 6.x has it (SKB_NOT_DROPPED_YET first, a marker at
 * the end, the subsystem mask) and, with @subsys, enum skb_drop_reason_subsys. */
static struct btf *kernel_btf(bool subsys)
{
	struct btf *btf = btf__new_empty();

	assert_non_null(btf);
	assert_true(btf__add_enum(btf, "skb_drop_reason", 4) > 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_NOT_DROPPED_YET", 0), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_CONSUMED", 1), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NOT_SPECIFIED", 2), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NO_SOCKET", 3), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NETFILTER_DROP", 12), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_MAX", 13), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_MASK", 0xffff0000),
			 0);
	if (subsys) {
		assert_true(btf__add_enum(btf, "skb_drop_reason_subsys", 4) > 0);
		assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_CORE", 0), 0);
		assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_MAC80211_UNUSABLE",
						     1), 0);
		assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_NUM", 2), 0);
	}
	return btf;
}

static void test_reasons_from_btf(void **state)
{
	struct btf *btf = kernel_btf(true);
	struct drops_reasons r;
	char buf[64];
	uint32_t v;

	assert_int_equal(drops_reasons_load(&r, btf), 0);
	assert_true(r.known);
	assert_int_equal(r.n, 13);	/* values 0..12; the markers are no reasons */
	assert_string_equal(drops_reason_name(&r, 3, buf, sizeof(buf)), "NO_SOCKET");
	assert_string_equal(drops_reason_name(&r, 12, buf, sizeof(buf)), "NETFILTER_DROP");
	assert_string_equal(drops_reason_name(&r, 0, buf, sizeof(buf)), "NOT_DROPPED_YET");
	assert_string_equal(drops_reason_name(&r, 1, buf, sizeof(buf)), "CONSUMED");
	/* a value this BTF does not name, the marker, another subsystem's reason */
	assert_string_equal(drops_reason_name(&r, 7, buf, sizeof(buf)), "reason_7");
	assert_string_equal(drops_reason_name(&r, 13, buf, sizeof(buf)), "reason_13");
	assert_string_equal(drops_reason_name(&r, 0x10003, buf, sizeof(buf)),
			    "MAC80211_UNUSABLE/3");
	assert_string_equal(drops_reason_name(&r, 0x50001, buf, sizeof(buf)), "reason_327681");
	assert_string_equal(drops_reason_name(&r, DROPS_REASON_UNKNOWN, buf, sizeof(buf)),
			    "unknown");

	assert_int_equal(drops_reason_value(&r, "NO_SOCKET", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(drops_reason_value(&r, "netfilter_drop", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(drops_reason_value(&r, "SKB_DROP_REASON_NO_SOCKET", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(drops_reason_value(&r, "MAX", &v), -ENOENT);
	assert_int_equal(drops_reason_value(&r, "NO_SUCH", &v), -ENOENT);
	assert_int_equal(drops_reason_value(&r, "", &v), -ENOENT);
	drops_reasons_free(&r);
	drops_reasons_free(&r);		/* twice, and NULL: no harm */
	drops_reasons_free(NULL);
	btf__free(btf);
}

/* 5.17 numbered from NOT_SPECIFIED = 0: the values come from the BTF, not a table. */
static void test_reasons_renumbered(void **state)
{
	struct btf *btf = btf__new_empty();
	struct drops_reasons r;
	char buf[32];
	uint32_t v;

	assert_true(btf__add_enum(btf, "skb_drop_reason", 4) > 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NOT_SPECIFIED", 0), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_NO_SOCKET", 1), 0);
	assert_int_equal(btf__add_enum_value(btf, "SKB_DROP_REASON_MAX", 2), 0);
	assert_int_equal(drops_reasons_load(&r, btf), 0);
	assert_true(r.known);
	assert_string_equal(drops_reason_name(&r, 1, buf, sizeof(buf)), "NO_SOCKET");
	assert_string_equal(drops_reason_name(&r, 0, buf, sizeof(buf)), "NOT_SPECIFIED");
	/* no subsystem enum: a subsystem's reason is its number */
	assert_string_equal(drops_reason_name(&r, 0x10001, buf, sizeof(buf)), "reason_65537");
	assert_int_equal(drops_reason_value(&r, "no_socket", &v), 0);
	assert_int_equal(v, 1);
	drops_reasons_free(&r);
	btf__free(btf);
}

/* Before 5.17 there is no enum: nothing is named, every drop is "unknown". */
static void test_no_reasons(void **state)
{
	struct btf *btf = btf__new_empty();
	struct drops_reasons r;
	char buf[32];
	uint32_t v;

	assert_int_equal(drops_reasons_load(&r, btf), 0);
	assert_false(r.known);
	assert_string_equal(drops_reason_name(&r, DROPS_REASON_UNKNOWN, buf, sizeof(buf)),
			    "unknown");
	assert_string_equal(drops_reason_name(&r, 3, buf, sizeof(buf)), "reason_3");
	assert_int_equal(drops_reason_value(&r, "NO_SOCKET", &v), -ENOENT);
	drops_reasons_free(&r);
	assert_int_equal(drops_reasons_load(&r, NULL), 0);
	assert_false(r.known);
	btf__free(btf);
}

static void test_proto_names(void **state)
{
	char buf[16];

	assert_string_equal(drops_proto_name(0x0800, buf, sizeof(buf)), "IPv4");
	assert_string_equal(drops_proto_name(0x86dd, buf, sizeof(buf)), "IPv6");
	assert_string_equal(drops_proto_name(0x0806, buf, sizeof(buf)), "ARP");
	assert_string_equal(drops_proto_name(0, buf, sizeof(buf)), "-");
	assert_string_equal(drops_proto_name(0x88b5, buf, sizeof(buf)), "0x88b5");
	assert_string_equal(drops_l4_name(17, buf, sizeof(buf)), "UDP");
	assert_string_equal(drops_l4_name(6, buf, sizeof(buf)), "TCP");
	assert_string_equal(drops_l4_name(58, buf, sizeof(buf)), "ICMPv6");
	assert_string_equal(drops_l4_name(0, buf, sizeof(buf)), "");
	assert_string_equal(drops_l4_name(253, buf, sizeof(buf)), "253");
}

static struct drops_row row(uint32_t reason, uint32_t ifindex, uint64_t count, uint64_t bytes)
{
	struct drops_row r = { .k = { .reason = reason, .ifindex = ifindex, .netns = 7,
				      .proto = 0x0800, .l4 = 17 },
			       .v = { .count = count, .bytes = bytes } };

	return r;
}

static void test_delta_and_order(void **state)
{
	struct drops_row prev[] = { row(3, 2, 5, 200), row(12, 2, 4, 160) };
	struct drops_row cur[] = { row(3, 2, 9, 360), row(12, 2, 4, 160), row(3, 5, 1, 40),
				   row(2, 2, 9, 900) };
	struct drops_row out[4];
	size_t n;

	qsort(prev, 2, sizeof(prev[0]), drops_row_cmp_key);
	qsort(cur, 4, sizeof(cur[0]), drops_row_cmp_key);
	n = drops_rows_delta(cur, 4, prev, 2, out);
	assert_int_equal(n, 3);		/* reason 12 did not grow */
	qsort(out, n, sizeof(out[0]), drops_row_cmp_count);
	/* busiest first; equal counts: more bytes first */
	assert_int_equal(out[0].k.reason, 2);
	assert_int_equal(out[0].v.count, 9);
	assert_int_equal(out[1].k.reason, 3);
	assert_int_equal(out[1].k.ifindex, 2);
	assert_int_equal(out[1].v.count, 4);
	assert_int_equal(out[1].v.bytes, 160);
	assert_int_equal(out[2].k.ifindex, 5);
	assert_int_equal(out[2].v.count, 1);
	/* nothing before: everything is new */
	assert_int_equal(drops_rows_delta(cur, 4, NULL, 0, out), 4);
}

static void test_report_rows(void **state)
{
	struct btf *btf = kernel_btf(false);
	struct drops_row r = row(3, 4, 12, 480), sock = row(12, 9, 2, 120);
	struct drops_row other = { .v = { .count = 5, .bytes = 300 } };
	struct drops_state *st;
	struct tc t;

	tc_open(&t, &drops_module, 0, NULL);
	st = t.state;
	assert_int_equal(drops_reasons_load(&st->reasons, btf), 0);
	st->reasons_loaded = true;
	st->self_ns = 7;
	memcpy(r.v.ifname, "veth0", 6);
	memcpy(sock.v.ifname, "eth1", 5);
	sock.k.netns = 123;	/* another namespace, named by its inode */
	sock.k.flags = DROPS_K_SOCK;
	sock.k.cgroup = 4242;
	drops_emit_row(t.ctx, st, &r, false);
	drops_emit_row(t.ctx, st, &sock, false);
	drops_emit_row(t.ctx, st, &other, true);
	tc_expect(tc_no_ts(tc_json(&t)),
		  "{\"type\":\"drops\",\"reason\":\"NO_SOCKET\",\"interface\":\"veth0\","
		  "\"ifindex\":4,\"netns\":7,\"protocol\":\"IPv4\",\"l4\":\"UDP\",\"owner\":\"-\","
		  "\"count\":12,\"bytes\":480}\n"
		  "{\"type\":\"drops\",\"reason\":\"NETFILTER_DROP\",\"interface\":\"eth1\","
		  "\"ifindex\":9,\"netns\":123,\"netns_name\":\"net:[123]\",\"protocol\":\"IPv4\","
		  "\"l4\":\"UDP\",\"owner\":\"cgroup:4242\",\"cgroup\":4242,\"count\":2,"
		  "\"bytes\":120}\n"
		  "{\"type\":\"drops\",\"reason\":\"(other)\",\"count\":5,\"bytes\":300}\n");
	tc_expect(tc_table(&t),
		  "REASON                 IFACE           NETNS        PROTO      OWNER                   DROPS      BYTES\n"
		  "NO_SOCKET              veth0           -            IPv4/UDP   -                          12      480 B\n"
		  "NETFILTER_DROP         eth1            net:[123]    IPv4/UDP   cgroup:4242                 2      120 B\n"
		  "(other)                                                                                    5      300 B\n");
	tc_close(&t);
	btf__free(btf);
}

static void test_bad_filters(void **state)
{
	const struct ks_module *m = &drops_module;
	struct ks_common common;
	char err[KS_ERR_LEN];
	struct drops_state st = { .top = 20 };

	ks_common_defaults(&common);
	st.iface = "ksnosuch0";
	assert_int_equal(m->configure(&st, &common, err, sizeof(err)), -1);
	assert_string_equal(err, "-i: no interface 'ksnosuch0'");
	st.iface = NULL;
	st.netns = "ksnosuchns";
	assert_int_equal(m->configure(&st, &common, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--netns: no network namespace 'ksnosuchns'"));
	st.netns = NULL;
	common.tid = 1;
	assert_int_equal(m->configure(&st, &common, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "-t, -u, -n and --cgroup do not apply"));
	common.tid = 0;
	st.iface = "lo";
	assert_int_equal(m->configure(&st, &common, err, sizeof(err)), 0);
	assert_int_equal(st.ifindex, 1);
	assert_int_equal(st.netns_ino, st.self_ns);
	m->fini(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons_from_btf),
		cmocka_unit_test(test_reasons_renumbered),
		cmocka_unit_test(test_no_reasons),
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_delta_and_order),
		cmocka_unit_test(test_report_rows),
		cmocka_unit_test(test_bad_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
