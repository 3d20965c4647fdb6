// SPDX-License-Identifier: GPL-2.0
/*
 * core/dnsnames.c: the agent's address -> DNS name table. A name holds for its TTL, at
 * least the floor (a 0-TTL answer names the connection made right after it); a newer
 * answer replaces it; the budget evicts the least recently used and counts it; IPv4-mapped
 * IPv6 addresses are their IPv4 ones; bad input is refused.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>

#include "core/dnsnames.h"

#define S 1000000000ULL
#define T0 (1000 * S)

static const char *get(struct ks_dnsnames *t, const char *addr, uint64_t at)
{
	uint8_t a[16];
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, addr, a), 1);
	return ks_dnsnames_get(t, af, a, at);
}

static void test_ttl_and_floor(void **state)
{
	struct ks_dnsnames *t = ks_dnsnames_new(8);

	assert_non_null(t);
	assert_null(get(t, "10.0.0.1", T0));	/* empty */
	assert_int_equal(ks_dnsnames_put(t, "10.0.0.1", "db.example.test", 60, T0), 0);
	assert_string_equal(get(t, "10.0.0.1", T0), "db.example.test");
	assert_string_equal(get(t, "10.0.0.1", T0 + 60 * S), "db.example.test");
	assert_null(get(t, "10.0.0.1", T0 + 60 * S + 1));	/* expired */
	assert_null(get(t, "10.0.0.2", T0));			/* never named */
	/* a 0-TTL answer: the floor */
	assert_int_equal(ks_dnsnames_put(t, "fd00::5", "zero.test", 0, T0), 0);
	assert_string_equal(get(t, "fd00::5", T0 + KS_DNSNAMES_FLOOR_NS), "zero.test");
	assert_null(get(t, "fd00::5", T0 + KS_DNSNAMES_FLOOR_NS + 1));
	/* a connection made before the answer, looked up after it came: named */
	assert_string_equal(get(t, "10.0.0.1", T0 - 5 * S), "db.example.test");
	/* a newer answer replaces the name and the time */
	assert_int_equal(ks_dnsnames_put(t, "10.0.0.1", "cdn.example.test", 1, T0 + 100 * S), 0);
	assert_string_equal(get(t, "10.0.0.1", T0 + 100 * S), "cdn.example.test");
	assert_null(get(t, "10.0.0.1", T0 + 106 * S));
	/* the mapped form of an IPv4 address is that address, both ways */
	assert_string_equal(get(t, "::ffff:10.0.0.1", T0 + 100 * S), "cdn.example.test");
	assert_int_equal(ks_dnsnames_put(t, "::ffff:10.0.0.7", "m.test", 60, T0), 0);
	assert_string_equal(get(t, "10.0.0.7", T0), "m.test");
	/* bad input */
	assert_int_equal(ks_dnsnames_put(t, "10.0.0", "x", 60, T0), -EINVAL);
	assert_int_equal(ks_dnsnames_put(t, "10.0.0.9", "", 60, T0), -EINVAL);
	assert_int_equal(ks_dnsnames_put(t, "10.0.0.9", NULL, 60, T0), -EINVAL);
	assert_null(ks_dnsnames_get(t, 99, "\x0a\0\0\1", T0));
	/* the largest TTL does not wrap */
	assert_int_equal(ks_dnsnames_put(t, "10.0.0.8", "long.test", UINT32_MAX, T0), 0);
	assert_string_equal(get(t, "10.0.0.8", T0 + 100000 * S), "long.test");
	ks_dnsnames_free(t);
}

static void test_budget_evicts_least_recent(void **state)
{
	struct ks_dnsnames *t = ks_dnsnames_new(100);
	struct ks_dnsnames_stats st;
	char a[32], n[32];

	assert_non_null(t);
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250);
		snprintf(n, sizeof(n), "h%d.test", i);
		assert_int_equal(ks_dnsnames_put(t, a, n, 60, T0), 0);
	}
	ks_dnsnames_stats(t, &st);
	assert_int_equal(st.entries, 100);
	assert_int_equal(st.evicted, 0);
	/* use the oldest: the second oldest is now the least recently used */
	assert_string_equal(get(t, "10.1.0.0", T0), "h0.test");
	for (int i = 100; i < 150; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250);
		snprintf(n, sizeof(n), "h%d.test", i);
		assert_int_equal(ks_dnsnames_put(t, a, n, 60, T0), 0);
	}
	ks_dnsnames_stats(t, &st);
	assert_int_equal(st.entries, 100);
	assert_int_equal(st.evicted, 50);
	assert_int_equal(st.added, 150);
	assert_string_equal(get(t, "10.1.0.0", T0), "h0.test");	/* kept: used */
	for (int i = 1; i <= 50; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250);
		assert_null(get(t, a, T0));	/* evicted: the 50 least recently used */
	}
	for (int i = 51; i < 150; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250);
		snprintf(n, sizeof(n), "h%d.test", i);
		assert_string_equal(get(t, a, T0), n);
	}
	/* refreshing an address evicts nothing */
	assert_int_equal(ks_dnsnames_put(t, "10.1.0.99", "again.test", 60, T0), 0);
	ks_dnsnames_stats(t, &st);
	assert_int_equal(st.evicted, 50);
	/* 10000 addresses through a table of 100: bounded, all counted */
	for (int i = 0; i < 10000; i++) {
		snprintf(a, sizeof(a), "10.2.%d.%d", i / 250, i % 250);
		assert_int_equal(ks_dnsnames_put(t, a, "many.test", 60, T0), 0);
	}
	ks_dnsnames_stats(t, &st);
	assert_int_equal(st.entries, 100);
	assert_int_equal(st.evicted, 50 + 10000);
	assert_string_equal(get(t, "10.2.39.249", T0), "many.test");
	ks_dnsnames_free(t);
}

static void test_agent_table(void **state)
{
	assert_null(ks_dnsnames_agent());
	assert_non_null(ks_dnsnames_agent_make(4));
	assert_ptr_equal(ks_dnsnames_agent_make(4), ks_dnsnames_agent());
	ks_dnsnames_agent_free();
	assert_null(ks_dnsnames_agent());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_and_floor),
		cmocka_unit_test(test_budget_evicts_least_recent),
		cmocka_unit_test(test_agent_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
