/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcplife's, tcpconnect's and tcpaccept's NAT view (tcp_nat.c): for a closed session, a
 * connect or an accept, what conntrack in its network namespace says about its ends: the
 * destination the client asked for and the one DNAT sent it to, the source the client
 * had and the one SNAT (or masquerade) gave it. A GET through libnetfilter_conntrack, on
 * one ctnetlink socket per network namespace, opened there once.
 */
#ifndef KSIGHT_TCP_NAT_H
#define KSIGHT_TCP_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"

/* Why a lookup gave no answer (counted; the record says it). */
enum tcp_nat_fail {
	TCP_NAT_OK,		/* asked: NAT'd or not */
	TCP_NAT_NO_NETNS,	/* its network namespace is gone, or was never found */
	TCP_NAT_SOCKET,		/* no ctnetlink socket there (setns, socket failed) */
	TCP_NAT_QUERY,		/* the query failed (an error other than "no entry") */
	TCP_NAT_NFAIL,
};

struct tcp_nat_res {
	bool dnat;		/* conntrack says this connection's destination was DNAT'd */
	uint16_t family;	/* TCP_AF_* of the addresses below: the session's (an
				 * IPv4-mapped socket's are written ::ffff:a.b.c.d too) */
	struct tcp_end orig;	/* the destination the client asked for */
	struct tcp_end real;	/* the one DNAT sent it to (the server's own end) */
	bool snat;		/* conntrack says this connection's source was SNAT'd */
	struct tcp_end orig_src;	/* the client's own end (the one its socket has) */
	struct tcp_end real_src;	/* the one SNAT gave it (what the server sees) */
};

struct tcp_nat_ns;

struct tcp_nat {
	struct tcp_nat_ns *ns;	/* one per network namespace seen */
	unsigned int nns, cap;
	struct tcp_nat_res *out;	/* the lookup under way (the query's callback fills it) */
	int64_t sweep_ns;	/* when to look for idle sockets next */
	uint64_t asked, dnat, snat;	/* lookups made, DNAT'd and SNAT'd connections found */
	uint64_t failed[TCP_NAT_NFAIL];
};

/* Look up the connection of end @local -> @remote (TCP_AF_* @family; a client's, a
 * server's or one whose side is not known) in network namespace @netns's conntrack.
 * @pid: its owner, or 0 (where to find the namespace first). Returns TCP_NAT_OK with
 * @out filled (out->dnat, ->snat false: no entry, or not NAT'd), or why it could not ask
 * (counted in @n). */
enum tcp_nat_fail tcp_nat_lookup(struct tcp_nat *n, uint32_t netns, uint16_t family,
				 const struct tcp_end *local, const struct tcp_end *remote,
				 int pid, struct tcp_nat_res *out);

/* "no_netns", "socket", "query". */
const char *tcp_nat_fail_name(enum tcp_nat_fail f);

/* Close the sockets unused for 10 s (each holds its namespace alive); lookups do it too,
 * at most once a second. */
void tcp_nat_sweep(struct tcp_nat *n);

/* Close the sockets. */
void tcp_nat_free(struct tcp_nat *n);

#endif
