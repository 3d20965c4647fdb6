// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt (a variant of the tcp module): the smoothed RTT each established socket has each
 * time it takes in a segment (tcp:tcp_probe), counted in the kernel in log2 histograms of
 * us (tcp_rtts), one per remote address, per local port or one overall; printed each
 * interval, or at the end, as what was added since the last report, with p50/p90/p99.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/maps.h"
#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

/* @h minus what the last report showed of the same key; the new totals are kept. */
static void rtt_delta(struct tcp_state *st, const struct tcp_rtt_key *k, struct tcp_rtt_hist *h)
{
	struct tcp_rtt_hist cur = *h;

	for (size_t j = 0; j < st->nrtt_prev; j++) {
		struct tcp_rtt_hist *p = &st->rtt_prev[j];

		if (memcmp(&st->rtt_prev_keys[j], k, sizeof(*k)))
			continue;
		for (int s = 0; s < TCP_RTT_SLOTS; s++)
			h->slots[s] -= p->slots[s];
		h->count -= p->count;
		h->sum -= p->sum;
		*p = cur;
		return;
	}
	{
		struct tcp_rtt_key *nk = realloc(st->rtt_prev_keys,
						 (st->nrtt_prev + 1) * sizeof(*nk));
		struct tcp_rtt_hist *nh;

		if (!nk)
			return;
		st->rtt_prev_keys = nk;
		nh = realloc(st->rtt_prev, (st->nrtt_prev + 1) * sizeof(*nh));
		if (!nh)
			return;
		st->rtt_prev = nh;
		nk[st->nrtt_prev] = *k;
		nh[st->nrtt_prev++] = cur;
	}
}

static void rtt_emit(struct ks_ctx *ctx, const struct tcp_state *st, const struct tcp_rtt_key *k,
		     const struct tcp_rtt_hist *h)
{
	static char addr[TCP_ADDR_STRLEN];
	const struct ks_histv hv = { .slots = h->slots, .nslots = TCP_RTT_SLOTS, .unit = "usecs",
				     .unit_ns = 1e3 };
	const char *fam = tcp_family_name(k->family);
	struct ks_rec r;

	ks_rec_init(&r, "tcprtt", NULL);
	r.style = KS_REC_BLOCK;
	if (st->rtt_by == TCP_RTT_BY_RADDR) {
		tcp_addr_str(k->family, k->addr, addr, sizeof(addr));
		ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
		ks_rec_str(&r, "raddr", "remote address", 0, addr, strlen(addr));
	} else if (st->rtt_by == TCP_RTT_BY_LPORT) {
		ks_rec_uint(&r, "lport", "local port", 0, k->port);
	}
	ks_rec_uint(&r, "count", NULL, 0, h->count);
	ks_rec_uint(&r, "sum_us", NULL, 0, h->sum);
	ks_rec_add(&r, "hist", "srtt", 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

void tcp_rtt_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map)
{
	struct tcp_rtt_key *keys = calloc(TCP_RTT_KEYS, sizeof(*keys));
	struct tcp_rtt_hist *h = calloc(TCP_RTT_KEYS, sizeof(*h));
	uint64_t total = 0;
	size_t n, *order = NULL;

	if (!keys || !h)
		goto out;
	n = ks_map_dump(map, keys, h, TCP_RTT_KEYS);
	for (size_t i = 0; i < n; i++) {
		total += h[i].count;
		rtt_delta(st, &keys[i], &h[i]);
	}
	ks_ctx_aggregated(ctx, TCP_EV_RTT, total);
	order = calloc(n ? n : 1, sizeof(*order));
	if (!order)
		goto out;
	/* most samples first (an insertion sort: a few hundred keys at most in practice) */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		for (; j > 0 && h[order[j - 1]].count < h[i].count; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (size_t i = 0; i < n; i++)
		if (h[order[i]].count)
			rtt_emit(ctx, st, &keys[order[i]], &h[order[i]]);
out:
	free(order);
	free(h);
	free(keys);
}

void tcp_rtt_free(struct tcp_state *st)
{
	free(st->rtt_prev_keys);
	free(st->rtt_prev);
	st->rtt_prev_keys = NULL;
	st->rtt_prev = NULL;
	st->nrtt_prev = 0;
}
