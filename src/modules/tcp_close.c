// SPDX-License-Identifier: GPL-2.0
/*
 * tcplife's closed sessions (tcp.c hands each close record here): where DNAT sent it
 * (conntrack, tcp_nat.c), the name a DNS answer gave its peer (core/dnsnames.h), the
 * registry's counters and edges per service, and the record itself when streaming; and
 * the DNAT fields every TCP record shares (tcp_rec_nat, tcpconnect's too).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/dnsnames.h"
#include "core/ident.h"
#include "core/module.h"
#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

/* DNAT (tcp_nat.c): the address the client asked for and the real one, in JSON; in the
 * table one column, DNAT, with the one the ends do not show: a client's real server, a
 * server's asked-for address; "?" when conntrack could not be asked. */
void tcp_rec_nat(struct ks_rec *r, const struct tcp_nat_res *nat, enum tcp_nat_fail fail,
		 uint16_t side)
{
	static char orig[TCP_ADDR_STRLEN], real[TCP_ADDR_STRLEN], col[TCP_ADDR_STRLEN + 8];
	const struct tcp_end *other;

	if (fail != TCP_NAT_OK) {
		const char *why = tcp_nat_fail_name(fail);

		ks_rec_str(r, "conntrack_error", NULL, 0, why, strlen(why));
		ks_rec_str(r, NULL, "DNAT", 0, "?", 1);
		return;
	}
	if (!nat || !nat->dnat) {
		ks_rec_str(r, NULL, "DNAT", 0, "-", 1);
		return;
	}
	tcp_addr_str(nat->family, nat->orig.addr, orig, sizeof(orig));
	tcp_addr_str(nat->family, nat->real.addr, real, sizeof(real));
	ks_rec_str(r, "orig_daddr", NULL, 0, orig, strlen(orig));
	ks_rec_uint(r, "orig_dport", NULL, 0, nat->orig.port);
	ks_rec_str(r, "real_daddr", NULL, 0, real, strlen(real));
	ks_rec_uint(r, "real_dport", NULL, 0, nat->real.port);
	other = side == TCP_SIDE_SERVER ? &nat->orig : &nat->real;
	snprintf(col, sizeof(col), nat->family == TCP_AF_INET6 ? "[%s]:%u" : "%s:%u",
		 other == &nat->orig ? orig : real, other->port);
	ks_rec_str(r, NULL, "DNAT", 0, col, strlen(col));
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
	tcp_rec_nat(&r, nat, fail, e->side);
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

/* Where DNAT sent the connection of end @l -> @r, from conntrack; a failure counted. */
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
