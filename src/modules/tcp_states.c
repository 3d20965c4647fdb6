// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates (a variant of the tcp module): every state change of a TCP socket, about its
 * owner (the task that connected, listened or accepted it) where known, both ends, and
 * the time it spent in the state it left, measured in the kernel (bpf/tcp_states.bpf.h).
 */
#include <stdio.h>
#include <string.h>

#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

void tcp_rec_owner(struct ks_rec *r, const struct ks_hdr *h, char *pid)
{
	bool task = !(h->flags & KS_HDR_F_NOTASK);

	if (task)
		snprintf(pid, 16, "%u", h->pid);
	else
		snprintf(pid, 16, "-");
	ks_rec_str(r, NULL, "PID", -7, pid, strlen(pid));
	if (task)
		ks_rec_kstr(r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	else
		ks_rec_str(r, NULL, "COMM", -16, "-", 1);
}

void tcp_rec_ends(struct ks_rec *r, uint16_t family, const struct tcp_end *l,
		  const struct tcp_end *rem, char *lbuf, char *rbuf)
{
	tcp_addr_str(family, l->addr, lbuf, TCP_ADDR_STRLEN);
	ks_rec_str(r, "laddr", "LADDR", -15, lbuf, strlen(lbuf));
	ks_rec_uint(r, "lport", "LPORT", 5, l->port);
	tcp_addr_str(family, rem->addr, rbuf, TCP_ADDR_STRLEN);
	ks_rec_str(r, "raddr", "RADDR", -15, rbuf, strlen(rbuf));
	ks_rec_uint(r, "rport", "RPORT", 5, rem->port);
}

void tcp_state_emit(struct ks_ctx *ctx, const struct tcp_state_ev *e)
{
	static char laddr[TCP_ADDR_STRLEN], raddr[TCP_ADDR_STRLEN], pid[16];
	const char *side = tcp_side_name(e->side), *fam = tcp_family_name(e->family);
	const char *olds = tcp_state_name(e->oldstate), *news = tcp_state_name(e->newstate);
	struct ks_rec r;

	ks_rec_init(&r, "tcpstates", &e->hdr);
	tcp_rec_owner(&r, &e->hdr, pid);
	ks_rec_str(&r, "side", NULL, 0, side, strlen(side));
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	tcp_rec_ends(&r, e->family, &e->local, &e->remote, laddr, raddr);
	ks_rec_str(&r, "old_state", "OLDSTATE", -11, olds, strlen(olds));
	ks_rec_str(&r, "new_state", "NEWSTATE", -11, news, strlen(news));
	if (e->flags & TCP_SF_FIRST)
		ks_rec_str(&r, NULL, "IN_OLD", 8, "-", 1);	/* JSON: no in_old_ns */
	else
		ks_rec_add(&r, "in_old_ns", "IN_OLD", 8, KS_V_NS)->u = e->in_old_ns;
	ks_emit(ctx, &r);
}
