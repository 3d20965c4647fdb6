/* SPDX-License-Identifier: GPL-2.0 */
/* Text of tcplife's records: addresses, sides, why a session closed (pure: tested without
 * the kernel). */
#ifndef KSIGHT_TCP_FMT_H
#define KSIGHT_TCP_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

#define TCP_ADDR_STRLEN 46	/* INET6_ADDRSTRLEN */

/* @addr of @family (TCP_AF_INET: its first 4 bytes) as text into @buf (>= TCP_ADDR_STRLEN
 * bytes): "10.0.0.1", "fd00::1"; "?" for another family. Returns @buf. */
const char *tcp_addr_str(uint16_t family, const uint8_t *addr, char *buf, size_t len);

/* "client", "server", "listener", or "unknown" (opened before ksight started). Never
 * NULL. */
const char *tcp_side_name(unsigned int side);

/* "ipv4", "ipv6" or "?". */
const char *tcp_family_name(unsigned int family);

/* The kernel's TCP state name without its TCP_ prefix ("ESTABLISHED", "FIN_WAIT2"), or
 * "?". */
const char *tcp_state_name(unsigned int state);

/*
 * Why a session closed, from what the kernel left at TCP_CLOSE: "refused" (a RST answered
 * the SYN), "rst_received", "timeout", "aborted" (ss -K and the like), "error" (another
 * sk_err: an ICMP error that ended retries), "rst_sent" (closed straight from a state a
 * graceful close leaves through FIN: unread data, SO_LINGER 0, an orphan's abort),
 * "abandoned" (closed while connecting: nothing was sent), "fin", or "close" (a close
 * without either). Never NULL.
 */
const char *tcp_close_reason(const struct tcp_close *e);

/*
 * How a connect ended (tcpconnect): "established", "refused" (a RST answered the SYN),
 * "timeout" (the SYN retries gave up), "abandoned" (closed while connecting), "error"
 * (another error, such as an ICMP unreachable). Never NULL.
 */
const char *tcp_connect_result(const struct tcp_open_ev *e);

/* tcpretrans' kinds: "retransmit", "reset_sent", "reset_received", or "?". */
const char *tcp_retr_kind_name(unsigned int kind);

/*
 * Parse --addr: an IPv4 or IPv6 address into @addr (16 bytes, IPv4 in the first 4).
 * Returns its family (TCP_AF_INET, TCP_AF_INET6), or 0 when @s is neither.
 */
unsigned int tcp_addr_parse(const char *s, uint8_t *addr);

#endif
