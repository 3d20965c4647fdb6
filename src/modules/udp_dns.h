/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A DNS message decoder (RFC 1035 wire format) for what ksight udp --dns captures: the
 * header, the first question and the answer section. The bytes come from any process on
 * the machine, so they are untrusted: every read is bounded by the buffer, compression
 * pointers must point backwards and are followed at most UDP_DNS_HOPS times, a name is at
 * most 255 wire bytes; anything else stops the decoding with a reason, keeping what was
 * decoded before. Pure: no allocation, no I/O (tests/unit/test_udp_dns.c).
 */
#ifndef KSIGHT_UDP_DNS_H
#define KSIGHT_UDP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A name in presentation form: labels joined by '.', a byte that is not printable ASCII,
 * or is '.' or '\', as \DDD (dig's form). 255 wire bytes need at most 1017 with the NUL. */
#define UDP_DNS_NAME_MAX 1024
#define UDP_DNS_ANS_MAX 16	/* answer records kept; more are counted in ans_dropped */
#define UDP_DNS_HOPS 64		/* compression pointers followed in one name */

#define UDP_DNS_T_A 1
#define UDP_DNS_T_NS 2
#define UDP_DNS_T_CNAME 5
#define UDP_DNS_T_PTR 12
#define UDP_DNS_T_AAAA 28

struct udp_dns_rr {
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	char owner[UDP_DNS_NAME_MAX];	/* the record's name */
	/* A, AAAA: the address's text; CNAME, NS, PTR: the name; else empty */
	char data[UDP_DNS_NAME_MAX];
};

struct udp_dns_msg {
	bool hdr_ok;		/* the 12-byte header was there: the fields below are set */
	uint16_t id;
	bool qr;		/* a response */
	uint8_t opcode;
	uint8_t rcode;
	bool tc;		/* the server truncated it (the client should retry over TCP) */
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_q;		/* the first question was decoded */
	char qname[UDP_DNS_NAME_MAX];
	uint16_t qtype, qclass;
	unsigned int nans;	/* answers decoded into ans[] */
	unsigned int ans_dropped;	/* answers decoded past UDP_DNS_ANS_MAX */
	struct udp_dns_rr ans[UDP_DNS_ANS_MAX];
	const char *err;	/* NULL, or why decoding stopped (a static string) */
};

/*
 * Decode @len bytes at @p into @m (overwritten). Returns 0 when the header, every question
 * and every answer record were read; -1 with m->err set when the message ends early or is
 * malformed, @m then holding what was decoded before that point. Never reads outside
 * @p[0..len).
 */
int udp_dns_parse(const uint8_t *p, size_t len, struct udp_dns_msg *m);

/*
 * The addresses @m (a response, decoded) gives for the name it asked: each A and AAAA
 * answer whose owner is the question's name or a name the answer's CNAMEs lead to from it
 * (names compared without case), with the lowest TTL along that chain, to @fn. None for
 * a query, an error response or one without a question. Returns how many.
 */
unsigned int udp_dns_addrs(const struct udp_dns_msg *m,
			   void (*fn)(const char *addr, uint32_t ttl, void *arg), void *arg);

/* "A", "AAAA", "MX", ... or "TYPE<n>" (RFC 3597) into @buf. Returns @buf or a constant. */
const char *udp_dns_type_name(uint16_t type, char *buf, size_t len);
/* "NOERROR", "NXDOMAIN", ... or "RCODE<n>" into @buf. Returns @buf or a constant. */
const char *udp_dns_rcode_name(unsigned int rcode, char *buf, size_t len);

#endif
