// SPDX-License-Identifier: GPL-2.0
/*
 * modules/udp_dns.c: DNS messages as captured from any process, so untrusted. Well-formed
 * queries and responses decode exactly; truncated and malicious ones (compression loops,
 * pointers out of bounds or forward, bad label types, lengths past the end, garbage)
 * stop with a reason and never read outside the buffer: each message is copied into a
 * heap block of exactly its length, which the ASan build (make asan) checks byte by byte.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "modules/udp_dns.h"

struct wire {
	uint8_t b[4096];
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put8(struct wire *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct wire *w, uint16_t v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put32(struct wire *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

/* "svc.ksight.test" as labels */
static void put_name(struct wire *w, const char *dotted)
{
	const char *s = dotted;

	while (*s) {
		size_t l = strcspn(s, ".");

		put8(w, l);
		put(w, s, l);
		s += l + (s[l] == '.');
	}
	put8(w, 0);
}

static void header(struct wire *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	w->n = 0;
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, 0);
	put16(w, 0);
}

/* Decode @w from a heap copy of exactly its length. */
static int parse(const struct wire *w, size_t len, struct udp_dns_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, w->b, len);
	rc = udp_dns_parse(copy, len, m);
	free(copy);
	return rc;
}

static struct udp_dns_msg *msg(void)
{
	static struct udp_dns_msg *m;

	if (!m)
		m = malloc(sizeof(*m));
	assert_non_null(m);
	return m;
}

static void query(struct wire *w)
{
	header(w, 0x1234, 0x0100, 1, 0);	/* RD */
	put_name(w, "svc.ksight.test");
	put16(w, UDP_DNS_T_A);
	put16(w, 1);
}

/* The answer to query(): a CNAME to itself's sibling, two A records and an AAAA, names
 * compressed to the question's (offset 12) as servers write them. */
static void response(struct wire *w)
{
	static const uint8_t a1[4] = { 10, 9, 8, 7 }, a2[4] = { 10, 9, 8, 6 };
	static const uint8_t a6[16] = { 0xfd, 0, [15] = 7 };
	size_t cname_at;

	header(w, 0x1234, 0x8180, 1, 4);	/* QR RD RA, NOERROR */
	put_name(w, "svc.ksight.test");
	put16(w, UDP_DNS_T_A);
	put16(w, 1);
	/* svc.ksight.test CNAME www.ksight.test (www + pointer to "ksight.test" at 16) */
	put16(w, 0xc00c);
	put16(w, UDP_DNS_T_CNAME);
	put16(w, 1);
	put32(w, 300);
	put16(w, 6);
	cname_at = w->n;
	put8(w, 3);
	put(w, "www", 3);
	put16(w, 0xc010);
	for (int i = 0; i < 2; i++) {
		put16(w, 0xc000 | cname_at);
		put16(w, UDP_DNS_T_A);
		put16(w, 1);
		put32(w, 60);
		put16(w, 4);
		put(w, i ? a2 : a1, 4);
	}
	put16(w, 0xc000 | cname_at);
	put16(w, UDP_DNS_T_AAAA);
	put16(w, 1);
	put32(w, 60);
	put16(w, 16);
	put(w, a6, 16);
}

static void test_query(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	query(&w);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_null(m->err);
	assert_true(m->hdr_ok && m->has_q && !m->qr && !m->tc);
	assert_int_equal(m->id, 0x1234);
	assert_string_equal(m->qname, "svc.ksight.test");
	assert_int_equal(m->qtype, UDP_DNS_T_A);
	assert_int_equal(m->qclass, 1);
	assert_int_equal(m->nans, 0);
}

static void test_response(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	response(&w);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_null(m->err);
	assert_true(m->qr);
	assert_int_equal(m->rcode, 0);
	assert_int_equal(m->ancount, 4);
	assert_int_equal(m->nans, 4);
	assert_int_equal(m->ans[0].type, UDP_DNS_T_CNAME);
	assert_string_equal(m->ans[0].data, "www.ksight.test");
	assert_int_equal(m->ans[0].ttl, 300);
	assert_string_equal(m->ans[1].data, "10.9.8.7");
	assert_string_equal(m->ans[2].data, "10.9.8.6");
	assert_int_equal(m->ans[3].type, UDP_DNS_T_AAAA);
	assert_string_equal(m->ans[3].data, "fd00::7");
}

/* Every prefix of a response: no read past its end, and an error for each but the whole. */
static void test_every_truncation(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	response(&w);
	for (size_t len = 0; len < w.n; len++) {
		assert_int_equal(parse(&w, len, m), -1);
		assert_non_null(m->err);
		assert_true(m->hdr_ok == (len >= 12));
	}
	assert_int_equal(parse(&w, 11, m), -1);
	assert_string_equal(m->err, "shorter than a DNS header");
	assert_int_equal(parse(&w, 14, m), -1);
	assert_string_equal(m->err, "truncated name");
	/* cut inside the answers: the question and the answers before the cut are kept */
	assert_int_equal(parse(&w, w.n - 1, m), -1);
	assert_string_equal(m->err, "truncated answer");
	assert_string_equal(m->qname, "svc.ksight.test");
	assert_int_equal(m->nans, 3);
}

/* A label then a pointer back to it: a.a.a... forever, stopped by the hop limit. */
static void test_compression_loop(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	header(&w, 1, 0, 1, 0);
	put8(&w, 1);
	put8(&w, 'a');
	put16(&w, 0xc00c);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "compression loop");
	assert_false(m->has_q);

	/* longer labels reach the name limit first */
	header(&w, 1, 0, 1, 0);
	put8(&w, 63);
	for (int i = 0; i < 63; i++)
		put8(&w, 'x');
	put16(&w, 0xc00c);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "name longer than 255 bytes");
}

static void test_bad_pointers(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	/* to itself */
	header(&w, 1, 0, 1, 0);
	put16(&w, 0xc00c);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "compression pointer not backwards");
	/* far past the end */
	header(&w, 1, 0, 1, 0);
	put16(&w, 0xffff);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "compression pointer not backwards");
	/* a pointer cut in half at the end of the message */
	header(&w, 1, 0, 1, 0);
	put8(&w, 0xc0);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "truncated name");
	/* backwards into the header: decodes whatever is there, within bounds (bytes 0-2
	 * are 01 00 00: a one-byte label holding 0, then the root) */
	header(&w, 0x0100, 0, 1, 0);
	put16(&w, 0xc000);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_string_equal(m->qname, "\\000");
	/* the 0x40 and 0x80 label types are not defined for names */
	header(&w, 1, 0, 1, 0);
	put8(&w, 0x41);
	put8(&w, 'a');
	put8(&w, 0);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "unknown label type");
}

static void test_lengths_past_the_end(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	/* a label longer than what is left */
	header(&w, 1, 0, 1, 0);
	put8(&w, 20);
	put(&w, "abc", 3);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "truncated name");
	/* an rdlength past the end */
	query(&w);
	w.b[7] = 1;	/* ancount 1 */
	put16(&w, 0xc00c);
	put16(&w, UDP_DNS_T_A);
	put16(&w, 1);
	put32(&w, 1);
	put16(&w, 0xffff);
	put(&w, "\1\2\3\4", 4);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "truncated answer");
	assert_int_equal(m->nans, 0);
	/* counts far above what the message holds */
	query(&w);
	w.b[4] = w.b[6] = 0xff;
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_non_null(m->err);
	/* an A record whose length is not 4: the type kept, no address made up */
	query(&w);
	w.b[7] = 1;
	put16(&w, 0xc00c);
	put16(&w, UDP_DNS_T_A);
	put16(&w, 1);
	put32(&w, 1);
	put16(&w, 3);
	put(&w, "\1\2\3", 3);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(m->nans, 1);
	assert_string_equal(m->ans[0].data, "");
}

static void test_escaped_names(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	header(&w, 1, 0, 1, 0);
	put8(&w, 3);
	put(&w, "a.b", 3);
	put8(&w, 3);
	put(&w, "\0\\ ", 3);
	put8(&w, 0);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_string_equal(m->qname, "a\\.b.\\000\\\\\\032");
	/* the root */
	header(&w, 1, 0, 1, 0);
	put8(&w, 0);
	put32(&w, 0x00020001);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_string_equal(m->qname, ".");
	/* the longest name: 255 wire bytes of unprintable bytes fit the text buffer */
	header(&w, 1, 0, 1, 0);
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 61;

		put8(&w, n);
		for (int i = 0; i < n; i++)
			put8(&w, 0xff);
	}
	put8(&w, 0);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(strlen(m->qname), 4 * 250 + 3);
	/* one byte more is refused */
	w.n = 12;
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 62;

		put8(&w, n);
		for (int i = 0; i < n; i++)
			put8(&w, 0xff);
	}
	put8(&w, 0);
	put32(&w, 0x00010001);
	assert_int_equal(parse(&w, w.n, m), -1);
	assert_string_equal(m->err, "name longer than 255 bytes");
}

static void test_many_answers(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w;

	query(&w);
	w.b[2] = 0x81;
	w.b[3] = 0x83;	/* NXDOMAIN (a server may still send records) */
	w.b[7] = 20;
	for (int i = 0; i < 20; i++) {
		put16(&w, 0xc00c);
		put16(&w, UDP_DNS_T_A);
		put16(&w, 1);
		put32(&w, 1);
		put16(&w, 4);
		put32(&w, 0x0a000000 + i);
	}
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(m->rcode, 3);
	assert_int_equal(m->nans, UDP_DNS_ANS_MAX);
	assert_int_equal(m->ans_dropped, 20 - UDP_DNS_ANS_MAX);
	assert_string_equal(m->ans[15].data, "10.0.0.15");
}

/* Random bytes, and random corruptions of a real response: never a crash or a read past
 * the end (ASan), always a verdict. */
static void test_garbage(void **state)
{
	struct udp_dns_msg *m = msg();
	struct wire w, good;

	srand(15);
	response(&good);
	for (int i = 0; i < 20000; i++) {
		size_t len = rand() % 600;

		if (i % 2) {
			w = good;
			for (int k = 0; k < 1 + rand() % 4; k++)
				w.b[rand() % good.n] = rand();
			len = len % (good.n + 1);
		} else {
			for (size_t k = 0; k < len; k++)
				w.b[k] = rand();
		}
		w.n = len;
		if (parse(&w, len, m))
			assert_non_null(m->err);
		else
			assert_null(m->err);
	}
}

static void test_names_of_codes(void **state)
{
	char buf[16];

	assert_string_equal(udp_dns_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(udp_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(udp_dns_type_name(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(udp_dns_type_name(999, buf, sizeof(buf)), "TYPE999");
	assert_string_equal(udp_dns_rcode_name(0, buf, sizeof(buf)), "NOERROR");
	assert_string_equal(udp_dns_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(udp_dns_rcode_name(15, buf, sizeof(buf)), "RCODE15");
}

struct got {
	char addr[8][64];
	uint32_t ttl[8];
	int n;
};

static void got_one(const char *addr, uint32_t ttl, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < 8);
	snprintf(g->addr[g->n], sizeof(g->addr[0]), "%s", addr);
	g->ttl[g->n++] = ttl;
}

/* The addresses a response gives for the name asked: through the CNAME (the lowest TTL
 * on the way), none for records whose owner the chain does not reach, a query, an error. */
static void test_addresses_for_the_name_asked(void **state)
{
	static const uint8_t a3[4] = { 192, 0, 2, 1 };
	struct udp_dns_msg *m = msg();
	struct got g = { .n = 0 };
	struct wire w;

	response(&w);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 3);
	assert_string_equal(g.addr[0], "10.9.8.7");
	assert_string_equal(g.addr[1], "10.9.8.6");
	assert_string_equal(g.addr[2], "fd00::7");
	assert_int_equal(g.ttl[0], 60);		/* CNAME 300, A 60 */
	/* a record of another name in the answer: not the question's */
	w.b[7] = 5;	/* ancount */
	put_name(&w, "other.ksight.test");
	put16(&w, UDP_DNS_T_A);
	put16(&w, 1);
	put32(&w, 60);
	put16(&w, 4);
	put(&w, a3, 4);
	assert_int_equal(parse(&w, w.n, m), 0);
	g.n = 0;
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 3);
	/* the CNAME with a TTL of 7: the addresses behind it hold for 7 */
	response(&w);
	w.b[12 + 17 + 4 + 2 + 2 + 2 + 2] = 0;	/* the CNAME's TTL's low bytes: 7 */
	w.b[12 + 17 + 4 + 2 + 2 + 2 + 3] = 7;
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(m->ans[0].ttl, 7);
	g.n = 0;
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 3);
	assert_int_equal(g.ttl[0], 7);
	/* names compare without case: the question asked in capitals */
	response(&w);
	memcpy(w.b + 13, "SVC", 3);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_string_equal(m->qname, "SVC.ksight.test");
	g.n = 0;
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 3);
	/* an error response, a query: nothing */
	response(&w);
	w.b[3] = 0x83;	/* NXDOMAIN */
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 0);
	query(&w);
	assert_int_equal(parse(&w, w.n, m), 0);
	assert_int_equal(udp_dns_addrs(m, got_one, &g), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_compression_loop),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_lengths_past_the_end),
		cmocka_unit_test(test_escaped_names),
		cmocka_unit_test(test_many_answers),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_names_of_codes),
		cmocka_unit_test(test_addresses_for_the_name_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
