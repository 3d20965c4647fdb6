// SPDX-License-Identifier: GPL-2.0
/*
 * tcpconnect and tcpaccept (the tcp module's variants): each connection opened, about the
 * task that connected or accepted it, with the connect's latency (SYN sent to established)
 * or the time an accepted connection waited for accept(); a connect that failed with its
 * error; with -L the connect latency as a histogram counted in the kernel.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

void tcp_open_emit(struct ks_ctx *ctx, const struct tcp_open_ev *e,
		   const struct tcp_nat_res *nat, enum tcp_nat_fail fail)
{
	static char laddr[TCP_ADDR_STRLEN], raddr[TCP_ADDR_STRLEN];
	const struct ks_hdr *h = &e->hdr;
	bool connect = h->type == TCP_EV_CONNECT;
	const char *fam = tcp_family_name(e->family), *res = tcp_connect_result(e);
	struct ks_rec r;

	ks_rec_init(&r, connect ? "tcpconnect" : "tcpaccept", h);
	ks_rec_uint(&r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	tcp_addr_str(e->family, e->local.addr, laddr, sizeof(laddr));
	ks_rec_str(&r, "laddr", "LADDR", -15, laddr, strlen(laddr));
	ks_rec_uint(&r, "lport", "LPORT", 5, e->local.port);
	tcp_addr_str(e->family, e->remote.addr, raddr, sizeof(raddr));
	ks_rec_str(&r, "raddr", "RADDR", -15, raddr, strlen(raddr));
	ks_rec_uint(&r, "rport", "RPORT", 5, e->remote.port);
	if (!connect) {
		ks_rec_add(&r, "queued_ns", "QUEUED", 0, KS_V_NS)->u = e->lat_ns;
		if (nat)
			tcp_rec_nat(&r, nat, fail, TCP_SIDE_SERVER, &e->local);
		ks_emit(ctx, &r);
		return;
	}
	ks_rec_add(&r, "latency_ns", "LAT", 8, KS_V_NS)->u = e->lat_ns;
	ks_rec_str(&r, "result", "RESULT", 0, res, strlen(res));
	if (e->err)
		ks_rec_add(&r, "error", NULL, 0, KS_V_ERRNO)->i = e->err;
	if (nat)
		tcp_rec_nat(&r, nat, fail, TCP_SIDE_CLIENT, &e->local);
	ks_emit(ctx, &r);
}

void tcp_lat_report(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map)
{
	static struct tcp_lat_hist d;
	const struct ks_histv hv = { .slots = d.slots, .nslots = TCP_LAT_SLOTS, .unit = "usecs",
				     .unit_ns = 1e3 };
	struct tcp_lat_hist cur;
	uint32_t zero = 0;
	struct ks_rec r;

	if (bpf_map__lookup_elem(map, &zero, sizeof(zero), &cur, sizeof(cur), 0))
		return;
	ks_ctx_aggregated(ctx, TCP_EV_LAT, cur.count);
	for (int i = 0; i < TCP_LAT_SLOTS; i++)
		d.slots[i] = cur.slots[i] - st->lat_prev.slots[i];
	d.count = cur.count - st->lat_prev.count;
	d.sum = cur.sum - st->lat_prev.sum;
	st->lat_prev = cur;
	if (!d.count)
		return;
	ks_rec_init(&r, "tcpconnect_latency", NULL);
	r.style = KS_REC_BLOCK;
	ks_rec_uint(&r, "count", NULL, 0, d.count);
	ks_rec_uint(&r, "sum_ns", NULL, 0, d.sum);
	ks_rec_add(&r, "hist", "connect latency", 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}
