// SPDX-License-Identifier: GPL-2.0
#include "modules/udp_dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HDR_LEN 12
#define NAME_WIRE_MAX 255

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append @c to @out in presentation form; @o is the length so far. Returns the new one. */
static size_t put_char(char *out, size_t o, uint8_t c)
{
	if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
		out[o++] = c;
	} else if (c == '.' || c == '\\') {
		out[o++] = '\\';
		out[o++] = c;
	} else {
		out[o++] = '\\';
		out[o++] = '0' + c / 100;
		out[o++] = '0' + c / 10 % 10;
		out[o++] = '0' + c % 10;
	}
	return o;
}

/*
 * The name at @off of @p[0..len) into @out (UDP_DNS_NAME_MAX bytes). *next is where the
 * name ends in place: after its root label, or after its first compression pointer.
 * Returns 0, or -1 with *err set.
 */
static int read_name(const uint8_t *p, size_t len, size_t off, char *out, size_t *next,
		     const char **err)
{
	size_t pos = off, o = 0, wire = 1;	/* the root label's length byte */
	bool jumped = false;
	int hops = 0;

	out[0] = 0;
	for (;;) {
		uint8_t l;

		if (pos >= len) {
			*err = "truncated name";
			return -1;
		}
		l = p[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len) {
				*err = "truncated name";
				return -1;
			}
			ptr = (size_t)(l & 0x3f) << 8 | p[pos + 1];
			/* only backwards: a pointer forward or to itself could loop */
			if (ptr >= pos) {
				*err = "compression pointer not backwards";
				return -1;
			}
			if (++hops > UDP_DNS_HOPS) {
				*err = "compression loop";
				return -1;
			}
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			pos = ptr;
			continue;
		}
		if (l & 0xc0) {
			*err = "unknown label type";
			return -1;
		}
		if (!l)
			break;
		wire += 1 + l;
		if (wire > NAME_WIRE_MAX) {
			*err = "name longer than 255 bytes";
			return -1;
		}
		if (pos + 1 + l > len) {
			*err = "truncated name";
			return -1;
		}
		if (o)
			out[o++] = '.';
		/* at most 4 bytes a byte and 254 label bytes: fits (see UDP_DNS_NAME_MAX) */
		for (size_t i = 0; i < l; i++)
			o = put_char(out, o, p[pos + 1 + i]);
		pos += 1 + l;
	}
	if (!jumped)
		*next = pos + 1;
	if (!o)
		out[o++] = '.';	/* the root */
	out[o] = 0;
	return 0;
}

/* The data of record @rr, @rdlen bytes at @off (within the message, checked). */
static void rr_data(const uint8_t *p, size_t off, uint16_t rdlen, struct udp_dns_rr *rr)
{
	const char *ignored;
	size_t next;

	rr->data[0] = 0;
	switch (rr->type) {
	case UDP_DNS_T_A:
		if (rdlen == 4)
			inet_ntop(AF_INET, p + off, rr->data, sizeof(rr->data));
		break;
	case UDP_DNS_T_AAAA:
		if (rdlen == 16)
			inet_ntop(AF_INET6, p + off, rr->data, sizeof(rr->data));
		break;
	case UDP_DNS_T_CNAME:
	case UDP_DNS_T_NS:
	case UDP_DNS_T_PTR:
		/* a name in the record, which may point back into the message; the record's
		 * own bounds are the message's (the length was checked against it) */
		if (read_name(p, off + rdlen, off, rr->data, &next, &ignored))
			rr->data[0] = 0;
		break;
	}
}

int udp_dns_parse(const uint8_t *p, size_t len, struct udp_dns_msg *m)
{
	char scratch[UDP_DNS_NAME_MAX];
	size_t off = HDR_LEN;

	memset(m, 0, offsetof(struct udp_dns_msg, ans));
	m->err = NULL;
	if (len < HDR_LEN) {
		m->err = "shorter than a DNS header";
		return -1;
	}
	m->hdr_ok = true;
	m->id = get16(p);
	m->qr = p[2] >> 7;
	m->opcode = (p[2] >> 3) & 0xf;
	m->tc = (p[2] >> 1) & 1;
	m->rcode = p[3] & 0xf;
	m->qdcount = get16(p + 4);
	m->ancount = get16(p + 6);
	m->nscount = get16(p + 8);
	m->arcount = get16(p + 10);
	for (unsigned int i = 0; i < m->qdcount; i++) {
		char *name = i ? scratch : m->qname;

		if (read_name(p, len, off, name, &off, &m->err))
			return -1;
		if (off + 4 > len) {
			m->err = "truncated question";
			return -1;
		}
		if (!i) {
			m->qtype = get16(p + off);
			m->qclass = get16(p + off + 2);
			m->has_q = true;
		}
		off += 4;
	}
	for (unsigned int i = 0; i < m->ancount; i++) {
		uint16_t type, class, rdlen;
		uint32_t ttl;

		char *owner = m->nans < UDP_DNS_ANS_MAX ? m->ans[m->nans].owner : scratch;

		if (read_name(p, len, off, owner, &off, &m->err))
			return -1;
		if (off + 10 > len) {
			m->err = "truncated answer";
			return -1;
		}
		type = get16(p + off);
		class = get16(p + off + 2);
		ttl = get32(p + off + 4);
		rdlen = get16(p + off + 8);
		off += 10;
		if (off + rdlen > len) {
			m->err = "truncated answer";
			return -1;
		}
		if (m->nans < UDP_DNS_ANS_MAX) {
			struct udp_dns_rr *a = &m->ans[m->nans++];

			a->type = type;
			a->class = class;
			a->ttl = ttl;
			rr_data(p, off, rdlen, a);
		} else {
			m->ans_dropped++;
		}
		off += rdlen;
	}
	return 0;
}

/* The names reached from the question through CNAMEs: at most the answers' count + 1. */
struct chain {
	const char *name[UDP_DNS_ANS_MAX + 1];
	uint32_t ttl[UDP_DNS_ANS_MAX + 1];	/* the lowest TTL on the way to it */
	unsigned int n;
};

static long chain_find(const struct chain *c, const char *name)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (!strcasecmp(c->name[i], name))
			return i;
	return -1;
}

unsigned int udp_dns_addrs(const struct udp_dns_msg *m,
			   void (*fn)(const char *addr, uint32_t ttl, void *arg), void *arg)
{
	struct chain c = { .name = { m->qname }, .ttl = { UINT32_MAX }, .n = 1 };
	unsigned int found = 0;
	bool grew = true;

	if (!m->hdr_ok || !m->qr || m->rcode || !m->has_q)
		return 0;
	/* CNAMEs may come in any order: again until no new name joins */
	while (grew) {
		grew = false;
		for (unsigned int i = 0; i < m->nans; i++) {
			const struct udp_dns_rr *rr = &m->ans[i];
			long from;

			if (rr->type != UDP_DNS_T_CNAME || !rr->data[0] ||
			    (from = chain_find(&c, rr->owner)) < 0 || chain_find(&c, rr->data) >= 0)
				continue;
			c.name[c.n] = rr->data;
			c.ttl[c.n++] = rr->ttl < c.ttl[from] ? rr->ttl : c.ttl[from];
			grew = true;
		}
	}
	for (unsigned int i = 0; i < m->nans; i++) {
		const struct udp_dns_rr *rr = &m->ans[i];
		long at;

		if ((rr->type != UDP_DNS_T_A && rr->type != UDP_DNS_T_AAAA) || !rr->data[0] ||
		    (at = chain_find(&c, rr->owner)) < 0)
			continue;
		fn(rr->data, rr->ttl < c.ttl[at] ? rr->ttl : c.ttl[at], arg);
		found++;
	}
	return found;
}

const char *udp_dns_type_name(uint16_t type, char *buf, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ 1, "A" },	{ 2, "NS" },	 { 5, "CNAME" },  { 6, "SOA" },	   { 12, "PTR" },
		{ 15, "MX" },	{ 16, "TXT" },	 { 28, "AAAA" },  { 33, "SRV" },   { 35, "NAPTR" },
		{ 41, "OPT" },	{ 43, "DS" },	 { 46, "RRSIG" }, { 48, "DNSKEY" }, { 64, "SVCB" },
		{ 65, "HTTPS" }, { 255, "ANY" }, { 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

const char *udp_dns_rcode_name(unsigned int rcode, char *buf, size_t len)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP",	"REFUSED", "YXDOMAIN", "YXRRSET",
					     "NXRRSET", "NOTAUTH", "NOTZONE" };

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
