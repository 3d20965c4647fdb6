// SPDX-License-Identifier: GPL-2.0
/* modules/tcp_fmt.c: addresses, names, why a session closed, --addr parsing. */
#include "testutil.h"

#include <errno.h>

#include "modules/tcp_fmt.h"

static void test_addr_str(void **state)
{
	uint8_t a4[16] = { 10, 252, 7, 2 }, a6[16] = { 0xfd, 0x52, 0, 7 };
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	char buf[TCP_ADDR_STRLEN];

	a6[15] = 2;
	assert_string_equal(tcp_addr_str(TCP_AF_INET, a4, buf, sizeof(buf)), "10.252.7.2");
	assert_string_equal(tcp_addr_str(TCP_AF_INET6, a6, buf, sizeof(buf)), "fd52:7::2");
	/* an IPv4 peer of an IPv6 socket keeps its mapped form, as ss shows it */
	assert_string_equal(tcp_addr_str(TCP_AF_INET6, mapped, buf, sizeof(buf)),
			    "::ffff:192.0.2.1");
	assert_string_equal(tcp_addr_str(0, a4, buf, sizeof(buf)), "?");
	assert_string_equal(tcp_addr_str(TCP_AF_INET6, a6, buf, 4), "?");	/* too small */
}

static void test_names(void **state)
{
	assert_string_equal(tcp_side_name(TCP_SIDE_CLIENT), "client");
	assert_string_equal(tcp_side_name(TCP_SIDE_SERVER), "server");
	assert_string_equal(tcp_side_name(TCP_SIDE_NONE), "unknown");
	assert_string_equal(tcp_side_name(9), "unknown");
	assert_string_equal(tcp_family_name(TCP_AF_INET), "ipv4");
	assert_string_equal(tcp_family_name(TCP_AF_INET6), "ipv6");
	assert_string_equal(tcp_family_name(1), "?");
	assert_string_equal(tcp_state_name(1), "ESTABLISHED");
	assert_string_equal(tcp_state_name(5), "FIN_WAIT2");
	assert_string_equal(tcp_state_name(9), "LAST_ACK");
	assert_string_equal(tcp_state_name(12), "NEW_SYN_RECV");
	assert_string_equal(tcp_state_name(0), "?");
	assert_string_equal(tcp_state_name(13), "?");
	assert_string_equal(tcp_state_name(255), "?");
}

static const char *reason(int err, unsigned int old, unsigned int flags)
{
	struct tcp_close e = { .err = err, .oldstate = old, .flags = flags };

	return tcp_close_reason(&e);
}

static void test_close_reason(void **state)
{
	/* the error the kernel left decides first: a RST or a timeout ended it */
	assert_string_equal(reason(ECONNREFUSED, 2, 0), "refused");
	assert_string_equal(reason(ECONNRESET, 1, 0), "rst_received");
	assert_string_equal(reason(EPIPE, 8, TCP_F_FIN_RCVD), "rst_received");
	assert_string_equal(reason(ETIMEDOUT, 1, 0), "timeout");
	assert_string_equal(reason(ETIMEDOUT, 2, 0), "timeout");
	assert_string_equal(reason(ECONNABORTED, 1, 0), "aborted");
	assert_string_equal(reason(EHOSTUNREACH, 2, 0), "error");
	/* no error: straight from a state a graceful close leaves by FIN means a RST went */
	assert_string_equal(reason(0, 1, 0), "rst_sent");		/* ESTABLISHED */
	assert_string_equal(reason(0, 8, TCP_F_FIN_RCVD), "rst_sent");	/* CLOSE_WAIT */
	assert_string_equal(reason(0, 3, 0), "rst_sent");		/* SYN_RECV */
	assert_string_equal(reason(0, 4, TCP_F_FIN_SENT), "rst_sent");	/* FIN_WAIT1 */
	assert_string_equal(reason(0, 2, 0), "abandoned");		/* SYN_SENT */
	assert_string_equal(reason(0, 5, TCP_F_FIN_SENT | TCP_F_FIN_RCVD), "fin");
	assert_string_equal(reason(0, 9, TCP_F_FIN_SENT | TCP_F_FIN_RCVD), "fin");
	assert_string_equal(reason(0, 11, TCP_F_FIN_SENT), "fin");	/* CLOSING */
	assert_string_equal(reason(0, 5, TCP_F_FIN_SENT), "fin");	/* orphan time-wait */
	assert_string_equal(reason(0, 10, 0), "close");			/* LISTEN */
}

static const char *connect_result(unsigned int st, int err)
{
	struct tcp_open_ev e = { .state = st, .err = err };

	return tcp_connect_result(&e);
}

static void test_connect_result(void **state)
{
	assert_string_equal(connect_result(1, 0), "established");
	assert_string_equal(connect_result(2, ECONNREFUSED), "refused");
	assert_string_equal(connect_result(2, ETIMEDOUT), "timeout");
	assert_string_equal(connect_result(2, EHOSTUNREACH), "error");
	assert_string_equal(connect_result(2, 0), "abandoned");
}

static void test_addr_parse(void **state)
{
	uint8_t a[16], want4[16] = { 192, 0, 2, 1 }, want6[16] = { 0xfd, 0x52, [15] = 1 };

	assert_int_equal(tcp_addr_parse("192.0.2.1", a), TCP_AF_INET);
	assert_memory_equal(a, want4, 16);
	assert_int_equal(tcp_addr_parse("fd52::1", a), TCP_AF_INET6);
	assert_memory_equal(a, want6, 16);
	assert_int_equal(tcp_addr_parse("10.0.0", a), 0);
	assert_int_equal(tcp_addr_parse("10.0.0.256", a), 0);
	assert_int_equal(tcp_addr_parse("fd00::1::2", a), 0);
	assert_int_equal(tcp_addr_parse("example.com", a), 0);
	assert_int_equal(tcp_addr_parse("", a), 0);
	assert_int_equal(tcp_addr_parse(" 10.0.0.1", a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_close_reason),
		cmocka_unit_test(test_connect_result),
		cmocka_unit_test(test_addr_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
