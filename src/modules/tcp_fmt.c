// SPDX-License-Identifier: GPL-2.0
#include "modules/tcp_fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *tcp_addr_str(uint16_t family, const uint8_t *addr, char *buf, size_t len)
{
	int af = family == TCP_AF_INET ? AF_INET : family == TCP_AF_INET6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *tcp_side_name(unsigned int side)
{
	switch (side) {
	case TCP_SIDE_CLIENT:
		return "client";
	case TCP_SIDE_SERVER:
		return "server";
	case TCP_SIDE_LISTENER:
		return "listener";
	default:
		return "unknown";
	}
}

const char *tcp_family_name(unsigned int family)
{
	return family == TCP_AF_INET ? "ipv4" : family == TCP_AF_INET6 ? "ipv6" : "?";
}

const char *tcp_state_name(unsigned int state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT",	 [3] = "SYN_RECV",   [4] = "FIN_WAIT1",
		[5] = "FIN_WAIT2",   [6] = "TIME_WAIT",	 [7] = "CLOSE",	     [8] = "CLOSE_WAIT",
		[9] = "LAST_ACK",    [10] = "LISTEN",	 [11] = "CLOSING",   [12] = "NEW_SYN_RECV",
	};

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "?";
}

/* The kernel's TCP state numbers (include/net/tcp_states.h), stable since Linux 2.0. */
enum { ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_CLOSE_WAIT = 8 };

const char *tcp_close_reason(const struct tcp_close *e)
{
	switch (e->err) {
	case 0:
		break;
	case ECONNREFUSED:
		return "refused";
	case ECONNRESET:
	case EPIPE:	/* a RST in CLOSE_WAIT */
		return "rst_received";
	case ETIMEDOUT:
		return "timeout";
	case ECONNABORTED:
		return "aborted";
	default:
		return "error";
	}
	switch (e->oldstate) {
	case ST_ESTABLISHED:
	case ST_CLOSE_WAIT:
	case ST_SYN_RECV:
	case ST_FIN_WAIT1:
		return "rst_sent";
	case ST_SYN_SENT:
		return "abandoned";
	}
	if (e->flags & (TCP_F_FIN_SENT | TCP_F_FIN_RCVD))
		return "fin";
	return "close";
}

const char *tcp_connect_result(const struct tcp_open_ev *e)
{
	if (e->state == ST_ESTABLISHED)
		return "established";
	switch (e->err) {
	case 0:
		return "abandoned";
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timeout";
	default:
		return "error";
	}
}

const char *tcp_retr_kind_name(unsigned int kind)
{
	switch (kind) {
	case TCP_RK_RETRANS:
		return "retransmit";
	case TCP_RK_RST_SENT:
		return "reset_sent";
	case TCP_RK_RST_RCVD:
		return "reset_received";
	default:
		return "?";
	}
}

unsigned int tcp_addr_parse(const char *s, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return TCP_AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return TCP_AF_INET6;
	return 0;
}
