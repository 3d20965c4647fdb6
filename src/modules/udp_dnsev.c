// SPDX-License-Identifier: GPL-2.0
/*
 * udp --dns: each datagram to or from port 53 the kernel captured, decoded (udp_dns.c)
 * into one record: the question's name and type, and for a response its code, its A and
 * AAAA addresses, its CNAME targets and the latency from its query. A query and its
 * response are paired by socket and DNS id, the query sent and the response received
 * (a client: the time the server took, as the client saw it) or the query received and
 * the response sent (a server: its own time).
 */
#include <stdio.h>
#include <string.h>

#include "core/dnsnames.h"
#include "core/metrics.h"
#include "modules/udp_int.h"

/* Remember query @e (id @id) for its response; the oldest query gives its slot. */
static void pend_add(struct udp_state *st, const struct udp_dns_ev *e, uint16_t id)
{
	struct udp_pending *p = &st->pend[st->pend_next];

	st->pend_next = (st->pend_next + 1) % UDP_PENDING;
	p->sock = e->sock;
	p->ts = e->hdr.ts;
	p->id = id;
	p->tx = e->flags & UDP_DNS_F_TX;
	p->used = true;
}

/* The time since the query response @e answers, taken out of the table; 0 if unknown. */
static uint64_t pend_take(struct udp_state *st, const struct udp_dns_ev *e, uint16_t id)
{
	bool tx = e->flags & UDP_DNS_F_TX;

	for (size_t i = 0; i < UDP_PENDING; i++) {
		struct udp_pending *p = &st->pend[i];

		if (!p->used || p->sock != e->sock || p->id != id || p->tx == tx)
			continue;
		p->used = false;
		return e->hdr.ts > p->ts ? e->hdr.ts - p->ts : 1;
	}
	return 0;
}

/* @m's addresses and CNAME targets as NUL-separated lists in @addrs and @cnames (each
 * @len bytes); their lengths without the last NUL in *na and *nc. */
static void answers(const struct udp_dns_msg *m, char *addrs, char *cnames, size_t len,
		    uint32_t *na, uint32_t *nc)
{
	size_t oa = 0, oc = 0;

	for (unsigned int i = 0; i < m->nans; i++) {
		const struct udp_dns_rr *rr = &m->ans[i];
		bool addr = rr->type == UDP_DNS_T_A || rr->type == UDP_DNS_T_AAAA;
		char *out = addr ? addrs : cnames;
		size_t *o = addr ? &oa : &oc, n = strlen(rr->data);

		if ((!addr && rr->type != UDP_DNS_T_CNAME) || !n || *o + n + 1 > len)
			continue;
		memcpy(out + *o, rr->data, n + 1);
		*o += n + 1;
	}
	*na = oa ? oa - 1 : 0;
	*nc = oc ? oc - 1 : 0;
}

void udp_dns_event(struct ks_ctx *ctx, struct udp_state *st, const struct udp_dns_ev *e)
{
	static char raddr[64], addrs[2048], cnames[2048], tbuf[16], rbuf[16], pid[16];
	const struct udp_dns_msg *m = st->msg;
	bool tx = e->flags & UDP_DNS_F_TX;
	uint32_t cap = e->cap < UDP_DNS_CAP ? e->cap : UDP_DNS_CAP;
	const char *fam = e->family == UDP_AF_INET    ? "ipv4"
			  : e->family == UDP_AF_INET6 ? "ipv6"
						      : "-";
	uint64_t lat = 0;
	uint32_t na = 0, nc = 0;
	struct ks_val *v;
	struct ks_rec r;

	udp_dns_parse(e->data, cap, st->msg);
	if (m->hdr_ok && !m->qr)
		pend_add(st, e, m->id);
	else if (m->hdr_ok)
		lat = pend_take(st, e, m->id);
	if (!ks_ctx_streaming(ctx))
		return;
	ks_rec_init(&r, "udp_dns", &e->hdr);
	snprintf(pid, sizeof(pid), "%u", e->hdr.pid);
	ks_rec_str(&r, NULL, "PID", -7, pid, strlen(pid));	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -16, e->hdr.comm, sizeof(e->hdr.comm), false);
	ks_rec_str(&r, "dir", "DIR", -4, tx ? "send" : "recv", 4);
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	udp_addr_str(e->family, e->raddr, raddr, sizeof(raddr));
	ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
	ks_rec_uint(&r, "rport", "RPORT", 5, e->rport);
	ks_rec_uint(&r, "lport", "LPORT", 5, e->lport);
	ks_rec_uint(&r, "len", NULL, 0, e->len);
	ks_rec_uint(&r, "captured", NULL, 0, cap);
	if (m->hdr_ok) {
		ks_rec_str(&r, "qr", "QR", -5, m->qr ? "resp" : "query", m->qr ? 4 : 5);
		ks_rec_uint(&r, "id", "ID", 5, m->id);
		if (m->opcode)
			ks_rec_uint(&r, "opcode", NULL, 0, m->opcode);
	} else {
		ks_rec_str(&r, NULL, "QR", -5, "?", 1);
		ks_rec_str(&r, NULL, "ID", 5, "-", 1);
	}
	if (m->has_q) {
		const char *t = udp_dns_type_name(m->qtype, tbuf, sizeof(tbuf));

		ks_rec_str(&r, "qtype", "TYPE", -5, t, strlen(t));
		ks_rec_str(&r, "name", "NAME", -30, m->qname, strlen(m->qname));
	} else {
		ks_rec_str(&r, NULL, "TYPE", -5, "-", 1);
		ks_rec_str(&r, NULL, "NAME", -30, "-", 1);
	}
	if (m->hdr_ok && m->qr) {
		const char *rc = udp_dns_rcode_name(m->rcode, rbuf, sizeof(rbuf));

		ks_rec_str(&r, "rcode", "RCODE", -8, rc, strlen(rc));
	} else {
		ks_rec_str(&r, NULL, "RCODE", -8, "-", 1);
	}
	if (lat)
		ks_rec_add(&r, "latency_ns", "LAT", 8, KS_V_NS)->u = lat;
	else
		ks_rec_str(&r, NULL, "LAT", 8, "-", 1);
	answers(m, addrs, cnames, sizeof(addrs), &na, &nc);
	if (m->hdr_ok && m->qr) {
		v = ks_rec_add(&r, "answers", "ANSWERS", 0, KS_V_ARGV);
		v->s.p = addrs;
		v->s.n = na;
		if (nc) {
			v = ks_rec_add(&r, "cnames", NULL, 0, KS_V_ARGV);
			v->s.p = cnames;
			v->s.n = nc;
		}
		if (m->ans_dropped)
			ks_rec_uint(&r, "answers_dropped", NULL, 0, m->ans_dropped);
		if (m->tc)
			ks_rec_add(&r, "truncated", NULL, 0, KS_V_BOOL)->u = 1;
	} else {
		ks_rec_str(&r, NULL, "ANSWERS", 0, "-", 1);
	}
	if (m->err)
		ks_rec_str(&r, "error", NULL, 0, m->err, strlen(m->err));
	if (cap < e->len)
		ks_rec_add(&r, "capture_cut", NULL, 0, KS_V_BOOL)->u = 1;
	if (e->flags & UDP_DNS_F_FAULT)
		ks_rec_add(&r, "unreadable", NULL, 0, KS_V_BOOL)->u = 1;
	ks_emit(ctx, &r);
}

struct feed {
	struct udp_state *st;
	uint64_t ts;
	const char *name;
};

static void feed_one(const char *addr, uint32_t ttl, void *arg)
{
	struct feed *f = arg;

	ks_dnsnames_put(f->st->names, addr, f->name, ttl, f->ts);
}

void udp_dns_feed(struct ks_ctx *ctx, struct udp_state *st, const struct udp_dns_ev *e)
{
	uint32_t cap = e->cap < UDP_DNS_CAP ? e->cap : UDP_DNS_CAP;
	struct feed f = { st, e->hdr.ts, st->msg->qname };

	(void)ctx;
	/* the kernel captures only received datagrams from port 53 in the agent */
	if (!st->names || (e->flags & UDP_DNS_F_TX))
		return;
	udp_dns_parse(e->data, cap, st->msg);	/* what decoded before an error counts */
	if (!st->msg->hdr_ok || !st->msg->qr)
		return;
	ks_counter_add(ks_metric_get(st->m_dns_answers, NULL), 1);
	udp_dns_addrs(st->msg, feed_one, &f);
}

void udp_dns_names_collect(struct udp_state *st)
{
	struct ks_dnsnames_stats s;

	if (!st->names)
		return;
	ks_dnsnames_stats(st->names, &s);
	ks_gauge_set(ks_metric_get(st->m_dns_names, NULL), (double)s.entries);
	ks_counter_set(ks_metric_get(st->m_dns_added, NULL), s.added);
	ks_counter_set(ks_metric_get(st->m_dns_evicted, NULL), s.evicted);
}
