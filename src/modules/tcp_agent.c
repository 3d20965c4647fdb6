// SPDX-License-Identifier: GPL-2.0
/*
 * The tcp module in the agent (tcplife's mode): besides the sessions, the state changes by
 * the state entered, retransmitted segments and resets each way, counted per CPU in the
 * kernel by the hooks that tcpstates and tcpretrans stream from (tcp_agent_counts), and
 * brought into the registry each interval.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"

static const struct ks_metric_desc tcp_states_desc = {
	.name = "ksight_tcp_state_changes_total",
	.help = "TCP state changes, by the state entered",
	.type = KS_METRIC_COUNTER,
	.labels = { "state" },
};

static const struct ks_metric_desc tcp_retrans_desc = {
	.name = "ksight_tcp_retransmitted_segments_total",
	.help = "TCP segments retransmitted (TcpRetransSegs, but those that failed to go out)",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc tcp_rst_sent_desc = {
	.name = "ksight_tcp_resets_sent_total",
	.help = "TCP resets sent",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc tcp_rst_rcvd_desc = {
	.name = "ksight_tcp_resets_received_total",
	.help = "TCP resets received",
	.type = KS_METRIC_COUNTER,
};

int tcp_agent_init(struct ks_ctx *ctx, struct tcp_state *st)
{
	st->m_states = ks_ctx_metric(ctx, &tcp_states_desc);
	st->m_retrans = ks_ctx_metric(ctx, &tcp_retrans_desc);
	st->m_rst_sent = ks_ctx_metric(ctx, &tcp_rst_sent_desc);
	st->m_rst_rcvd = ks_ctx_metric(ctx, &tcp_rst_rcvd_desc);
	return st->m_states && st->m_retrans && st->m_rst_sent && st->m_rst_rcvd ? 0 : -errno;
}

void tcp_counts_merge(struct tcp_counts *out, const struct tcp_counts *percpu,
		      unsigned int ncpu)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int c = 0; c < ncpu; c++) {
		const struct tcp_counts *p = &percpu[c];

		for (int s = 0; s < TCP_NSTATES; s++)
			out->states[s] += p->states[s];
		out->retrans_segs += p->retrans_segs;
		out->retrans_failed += p->retrans_failed;
		out->rst_sent += p->rst_sent;
		out->rst_rcvd += p->rst_rcvd;
		out->children_discarded += p->children_discarded;
	}
}

void tcp_agent_add(struct tcp_state *st, const struct tcp_counts *cur)
{
	const struct tcp_counts *p = &st->counts_prev;

	for (int s = 1; s < TCP_NSTATES; s++)
		if (cur->states[s] > p->states[s])
			ks_counter_add(ks_metric_get(st->m_states, tcp_state_name(s)),
				       cur->states[s] - p->states[s]);
	ks_counter_add(ks_metric_get(st->m_retrans, NULL), cur->retrans_segs - p->retrans_segs);
	ks_counter_add(ks_metric_get(st->m_rst_sent, NULL), cur->rst_sent - p->rst_sent);
	ks_counter_add(ks_metric_get(st->m_rst_rcvd, NULL), cur->rst_rcvd - p->rst_rcvd);
	st->counts_prev = *cur;
}

int tcp_counts_read(struct bpf_map *map, struct tcp_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct tcp_counts *pc;
	uint32_t zero = 0;
	int err;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	pc = calloc(ncpu, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	err = bpf_map__lookup_elem(map, &zero, sizeof(zero), pc, ncpu * sizeof(*pc), 0);
	if (!err)
		tcp_counts_merge(out, pc, ncpu);
	free(pc);
	return err;
}

void tcp_agent_collect(struct ks_ctx *ctx, struct tcp_state *st, struct bpf_map *map)
{
	struct tcp_counts cur;

	(void)ctx;
	if (tcp_counts_read(map, &cur))
		return;
	st->discarded = cur.children_discarded;
	tcp_agent_add(st, &cur);
}
