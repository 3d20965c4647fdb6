// SPDX-License-Identifier: GPL-2.0
/*
 * tcpretrans (a variant of the tcp module): each retransmission, with the segments it
 * carried, and each reset sent or received, about the connection's owner where known,
 * with both ends and the socket's state; with -c the same counted per connection in the
 * kernel (tcp_retr_conns) and printed each interval as what changed since the last report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/maps.h"
#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

void tcp_retr_emit(struct ks_ctx *ctx, const struct tcp_retr_ev *e)
{
	static char laddr[TCP_ADDR_STRLEN], raddr[TCP_ADDR_STRLEN], pid[16];
	const char *kind = tcp_retr_kind_name(e->kind), *fam = tcp_family_name(e->family);
	const char *state = e->state ? tcp_state_name(e->state) : "-";
	const char *side = tcp_side_name(e->side);
	struct ks_rec r;

	ks_rec_init(&r, "tcpretrans", &e->hdr);
	tcp_rec_owner(&r, &e->hdr, pid);
	ks_rec_str(&r, "side", NULL, 0, side, strlen(side));
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	tcp_rec_ends(&r, e->family, &e->local, &e->remote, laddr, raddr);
	if (e->state)
		ks_rec_str(&r, "state", "STATE", -11, state, strlen(state));
	else
		ks_rec_str(&r, NULL, "STATE", -11, state, strlen(state));	/* no socket */
	ks_rec_str(&r, "kind", "KIND", -14, kind, strlen(kind));
	if (e->kind == TCP_RK_RETRANS)
		ks_rec_uint(&r, "segs", "SEGS", 4, e->segs);
	else
		ks_rec_str(&r, NULL, "SEGS", 4, "-", 1);
	if (e->err)
		ks_rec_add(&r, "error", NULL, 0, KS_V_ERRNO)->i = -e->err;
	ks_emit(ctx, &r);
}

void tcp_retr_emit_rows(struct ks_ctx *ctx, const struct tcp_retr_row *rows, size_t n)
{
	static char laddr[TCP_ADDR_STRLEN], raddr[TCP_ADDR_STRLEN], pid[16];

	for (size_t i = 0; i < n; i++) {
		const struct tcp_retr_row *p = &rows[i];
		const struct ks_owner *o = &p->v.owner;
		struct ks_hdr h = { .pid = o->pid, .tid = o->tid, .uid = o->uid,
				    .cgroup = o->cgroup };
		const char *state = p->v.state ? tcp_state_name(p->v.state) : "-";
		const char *side = tcp_side_name(p->v.side);
		struct ks_rec r;

		memcpy(h.comm, o->comm, sizeof(h.comm));
		h.ts = ks_clock_mono_now();	/* the report's time */
		h.flags = o->pid ? KS_HDR_F_OWNER : KS_HDR_F_NOTASK;
		ks_rec_init(&r, "tcpretrans_conn", &h);
		r.kind = KS_K_REPORT;
		tcp_rec_owner(&r, &h, pid);
		ks_rec_str(&r, "side", NULL, 0, side, strlen(side));
		ks_rec_str(&r, "family", NULL, 0, tcp_family_name(p->k.family),
			   strlen(tcp_family_name(p->k.family)));
		tcp_rec_ends(&r, p->k.family, &p->k.local, &p->k.remote, laddr, raddr);
		ks_rec_str(&r, p->v.state ? "state" : NULL, "STATE", -11, state, strlen(state));
		ks_rec_add(&r, "retrans_segs", "RETRANS", 7, KS_V_COUNT)->u = p->v.segs;
		ks_rec_add(&r, "retransmits", NULL, 0, KS_V_COUNT)->u = p->v.events;
		ks_rec_add(&r, "failed_segs", "FAILED", 6, KS_V_COUNT)->u = p->v.failed;
		ks_rec_add(&r, "resets_sent", "RST_OUT", 7, KS_V_COUNT)->u = p->v.rst_sent;
		ks_rec_add(&r, "resets_received", "RST_IN", 6, KS_V_COUNT)->u = p->v.rst_rcvd;
		ks_emit(ctx, &r);
	}
}

void tcp_retr_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map)
{
	struct tcp_retr_key *keys = calloc(TCP_RETR_CONNS, sizeof(*keys));
	struct tcp_retr_val *vals = calloc(TCP_RETR_CONNS, sizeof(*vals));
	struct tcp_retr_row *rows = calloc(TCP_RETR_CONNS, sizeof(*rows)), *delta = NULL;
	uint64_t total = 0;
	size_t n, nd;

	if (!keys || !vals || !rows)
		goto out;
	n = ks_map_dump(map, keys, vals, TCP_RETR_CONNS);
	for (size_t i = 0; i < n; i++) {
		rows[i].k = keys[i];
		rows[i].v = vals[i];
		total += vals[i].events + vals[i].failed + vals[i].rst_sent + vals[i].rst_rcvd;
	}
	ks_ctx_aggregated(ctx, TCP_EV_RETR_CONN, total);
	tcp_retr_rows_sort(rows, n);
	delta = calloc(n ? n : 1, sizeof(*delta));
	if (!delta)
		goto out;
	nd = tcp_retr_rows_delta(rows, n, st->retr_prev, st->nretr_prev, delta);
	tcp_retr_emit_rows(ctx, delta, nd);
	tcp_retr_free(st);
	st->retr_prev = realloc(rows, (n ? n : 1) * sizeof(*rows)); /* the next report's base */
	st->nretr_prev = st->retr_prev ? n : 0;
	if (!st->retr_prev)
		free(rows);
	rows = NULL;
out:
	free(delta);
	free(rows);
	free(vals);
	free(keys);
}

void tcp_retr_free(struct tcp_state *st)
{
	free(st->retr_prev);
	st->retr_prev = NULL;
	st->nretr_prev = 0;
}
