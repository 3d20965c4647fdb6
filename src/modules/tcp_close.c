// SPDX-License-Identifier: GPL-2.0
/*
 * tcplife's closed sessions (tcp.c hands each close record here): where DNAT sent it
 * (conntrack, tcp_nat.c), the name a DNS answer gave its peer (core/dnsnames.h), the
 * registry's counters and edges per service, and the record itself when streaming; and
 * the NAT fields every TCP record shares (tcp_rec_nat, tcpconnect's and tcpaccept's too).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/dnsnames.h"
#include "core/ident.h"
#include "core/module.h"
#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of @e into @buf. */
static void end_str(uint16_t family, const struct tcp_end *e, char *buf, size_t len)
{
	char a[TCP_ADDR_STRLEN];

	tcp_addr_str(family, e->addr, a, sizeof(a));
	snprintf(buf, len, family == TCP_AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
}

/* One NAT's two ends, @orig before and @real after it, as fields @names (address, port,
 * address, port); @bufs hold the text until the record is emitted. */
static void rec_ends(struct ks_rec *r, uint16_t family, const struct tcp_end *orig,
		     const struct tcp_end *real, const char *const names[4],
		     char bufs[2][TCP_ADDR_STRLEN])
{
	tcp_addr_str(family, orig->addr, bufs[0], TCP_ADDR_STRLEN);
	tcp_addr_str(family, real->addr, bufs[1], TCP_ADDR_STRLEN);
	ks_rec_str(r, names[0], NULL, 0, bufs[0], strlen(bufs[0]));
	ks_rec_uint(r, names[1], NULL, 0, orig->port);
	ks_rec_str(r, names[2], NULL, 0, bufs[1], strlen(bufs[1]));
	ks_rec_uint(r, names[3], NULL, 0, real->port);
}

/* An end of side @side, local end @local: is it the client's (the one SNAT translated)?
 * A side not known (opened before ksight) is told by its own address. */
static bool is_client(const struct tcp_nat_res *nat, uint16_t side, const struct tcp_end *local)
{
	if (side != TCP_SIDE_NONE)
		return side == TCP_SIDE_CLIENT;
	return local->port == nat->orig_src.port &&
	       !memcmp(local->addr, nat->orig_src.addr, nat->family == TCP_AF_INET ? 4 : 16);
}

/* NAT (tcp_nat.c): DNAT's destination the client asked for and the real one, SNAT's
 * source the client had and the one it was given, in JSON; in the table one column, NAT,
 * with what the ends do not show: a client's real server, a server's asked-for address,
 * "src:" and a server's real client or the source a client was given (comma-joined when
 * both); "-" for none, "?" when conntrack could not be asked. */
void tcp_rec_nat(struct ks_rec *r, const struct tcp_nat_res *nat, enum tcp_nat_fail fail,
		 uint16_t side, const struct tcp_end *local)
{
	static const char *const dnames[4] = { "orig_daddr", "orig_dport", "real_daddr",
					       "real_dport" };
	static const char *const snames[4] = { "orig_saddr", "orig_sport", "real_saddr",
					       "real_sport" };
	static char dbuf[2][TCP_ADDR_STRLEN], sbuf[2][TCP_ADDR_STRLEN];
	static char col[2 * TCP_ADDR_STRLEN + 32];
	size_t n = 0;

	if (fail != TCP_NAT_OK) {
		const char *why = tcp_nat_fail_name(fail);

		ks_rec_str(r, "conntrack_error", NULL, 0, why, strlen(why));
		ks_rec_str(r, NULL, "NAT", 0, "?", 1);
		return;
	}
	if (!nat || (!nat->dnat && !nat->snat)) {
		ks_rec_str(r, NULL, "NAT", 0, "-", 1);
		return;
	}
	if (nat->dnat) {
		rec_ends(r, nat->family, &nat->orig, &nat->real, dnames, dbuf);
		end_str(nat->family, side == TCP_SIDE_SERVER ? &nat->orig : &nat->real, col,
			sizeof(col));
		n = strlen(col);
	}
	if (nat->snat) {
		rec_ends(r, nat->family, &nat->orig_src, &nat->real_src, snames, sbuf);
		n += snprintf(col + n, sizeof(col) - n, n ? ",src:" : "src:");
		end_str(nat->family, is_client(nat, side, local) ? &nat->real_src : &nat->orig_src,
			col + n, sizeof(col) - n);
	}
	ks_rec_str(r, NULL, "NAT", 0, col, strlen(col));
}

/* The agent: the name a DNS answer gave the peer's address, valid when the session began
 * (core/dnsnames.h); NULL: none. */
static const char *close_rdns(const struct tcp_close *e)
{
	struct ks_dnsnames *t = ks_dnsnames_agent();
	bool before = e->flags & TCP_F_BEFORE;

	if (!t || (e->family != TCP_AF_INET && e->family != TCP_AF_INET6))
		return NULL;
	return ks_dnsnames_get(t, e->family == TCP_AF_INET ? AF_INET : AF_INET6, e->remote.addr,
			       before || !e->start_ns ? e->hdr.ts : e->start_ns);
}

static void emit_close(struct ks_ctx *ctx, const struct tcp_close *e,
		       const struct tcp_nat_res *nat, enum tcp_nat_fail fail, const char *rdns)
{
	static char laddr[TCP_ADDR_STRLEN], raddr[TCP_ADDR_STRLEN], pid[16];
	const struct ks_hdr *h = &e->hdr;
	bool before = e->flags & TCP_F_BEFORE;
	const char *side = tcp_side_name(e->side), *fam = tcp_family_name(e->family);
	const char *reason = tcp_close_reason(e);
	struct ks_rec r;

	ks_rec_init(&r, "tcplife", h);
	tcp_rec_owner(&r, h, pid);	/* JSON has the header's */
	ks_rec_str(&r, "side", "SIDE", -7, side, strlen(side));
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	tcp_rec_ends(&r, e->family, &e->local, &e->remote, laddr, raddr);
	if (rdns)
		ks_rec_str(&r, "rdns", NULL, 0, rdns, strlen(rdns));
	ks_rec_add(&r, "tx_bytes", "TX", 9, KS_V_BYTES)->u = e->tx_bytes;
	ks_rec_add(&r, "rx_bytes", "RX", 9, KS_V_BYTES)->u = e->rx_bytes;
	if (before)
		ks_rec_str(&r, NULL, "DUR", 8, "-", 1);
	else
		ks_rec_add(&r, "duration_ns", "DUR", 8, KS_V_NS)->u =
			h->ts > e->start_ns ? h->ts - e->start_ns : 0;
	ks_rec_uint(&r, "retrans", "RETR", 4, e->retrans);
	ks_rec_add(&r, "srtt_ns", "RTT", 7, KS_V_NS)->u = (uint64_t)e->srtt_us * 1000;
	/* established here: the client's connect latency, the server's handshake */
	if ((e->flags & TCP_F_ESTAB) && !before)
		ks_rec_add(&r, "connect_ns", NULL, 0, KS_V_NS)->u = (uint64_t)e->connect_us * 1000;
	ks_rec_str(&r, "reason", "CLOSE", -12, reason, strlen(reason));
	if (e->err)
		ks_rec_add(&r, "error", NULL, 0, KS_V_ERRNO)->i = e->err;
	ks_rec_str(&r, "closed_from", NULL, 0, tcp_state_name(e->oldstate),
		   strlen(tcp_state_name(e->oldstate)));
	ks_rec_add(&r, "fin_sent", NULL, 0, KS_V_BOOL)->u = !!(e->flags & TCP_F_FIN_SENT);
	ks_rec_add(&r, "fin_received", NULL, 0, KS_V_BOOL)->u = !!(e->flags & TCP_F_FIN_RCVD);
	ks_rec_add(&r, "opened_before", NULL, 0, KS_V_BOOL)->u = before;
	/* found by the start-up scan: the bytes before ksight started are not in tx/rx */
	ks_rec_add(&r, "partial", NULL, 0, KS_V_BOOL)->u = !!(e->flags & TCP_F_SEEDED);
	tcp_rec_nat(&r, nat, fail, e->side, &e->local);
	ks_emit(ctx, &r);
}

/* The registry: every close, whatever the outputs, per service. */
static void count_close(struct ks_ctx *ctx, struct tcp_state *st, const struct tcp_close *e,
			const struct tcp_nat_res *nat, const char *rdns)
{
	const char *svc = "(unknown)";

	if (!(e->hdr.flags & KS_HDR_F_NOTASK))
		svc = ks_ident__service(ks_ctx_ident(ctx), &e->hdr);
	ks_counter_add(ks_metric_get(st->m_closed, svc), 1);
	ks_counter_add(ks_metric_get(st->m_tx, svc), e->tx_bytes);
	ks_counter_add(ks_metric_get(st->m_rx, svc), e->rx_bytes);
	tcp_edges_count(st, e, svc, nat, rdns);
}

/* What NAT did to the connection of end @l -> @r, from conntrack; a failure counted. */
enum tcp_nat_fail tcp_ask_nat(struct tcp_state *st, const struct ks_hdr *h, uint32_t netns,
			      uint16_t family, const struct tcp_end *l, const struct tcp_end *r,
			      struct tcp_nat_res *nat)
{
	enum tcp_nat_fail fail;

	fail = tcp_nat_lookup(&st->nat, netns, family, l, r,
			      h->flags & KS_HDR_F_NOTASK ? 0 : (int)h->pid, nat);
	if (fail != TCP_NAT_OK) {
		const char *why = tcp_nat_fail_name(fail);

		ks_counter_add(ks_metric_get(st->m_nat_fail, why), 1);
	}
	return fail;
}

void tcp_close_event(struct ks_ctx *ctx, struct tcp_state *st, const struct tcp_close *e)
{
	enum tcp_nat_fail fail = TCP_NAT_OK;
	struct tcp_nat_res nat = {};
	const char *rdns;

	/* where DNAT sent it, from conntrack (an unknown namespace, 0, is only a record made
	 * without the kernel: the unit tests) */
	if (st->mode == TCP_MODE_LIFE && !st->no_dnat && e->netns)
		fail = tcp_ask_nat(st, &e->hdr, e->netns, e->family, &e->local, &e->remote,
				   &nat);
	rdns = close_rdns(e);
	count_close(ctx, st, e, &nat, rdns);
	if (ks_ctx_streaming(ctx))
		emit_close(ctx, e, &nat, fail, rdns);
}
