// SPDX-License-Identifier: GPL-2.0
/*
 * udp: `ksight udp`, UDP datagrams and bytes per process and remote endpoint, both
 * directions, IPv4 and IPv6, counted in the kernel at the return of the calls that move
 * them (bpf/udp.sys.bpf.h) and printed as a table each interval (udp_flows.c); -P one row
 * per process. --dns streams the datagrams to and from port 53 instead, decoded
 * (udp_dnsev.c). The agent counts datagrams and bytes per service.
 */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/dnsnames.h"
#include "core/module.h"
#include "modules/udp_int.h"
#include "udp.skel.h"

static const struct ks_opt udp_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct udp_state, per_proc), NULL,
	  "one row per process (counted so in the kernel), no endpoints" },
	{ "port", 0, KS_OPT_UINT, offsetof(struct udp_state, port), "PORT",
	  "only datagrams with this local or remote port (checked in the kernel)", 1, 65535 },
	{ "addr", 0, KS_OPT_STR, offsetof(struct udp_state, addr), "ADDR",
	  "only datagrams with this IPv4 or IPv6 address as the remote end or the socket's",
	  0, 64 },
	{ "ipv4", '4', KS_OPT_FLAG, offsetof(struct udp_state, v4), NULL,
	  "only datagrams with an IPv4 remote end" },
	{ "ipv6", '6', KS_OPT_FLAG, offsetof(struct udp_state, v6), NULL,
	  "only datagrams with an IPv6 remote end" },
	{ "dns", 0, KS_OPT_FLAG, offsetof(struct udp_state, dns), NULL,
	  "stream DNS (port 53) queries and answers, decoded, instead of counting" },
	{ 0 },
};

static const int udp_sock_calls[] = { SYS_sendto,  SYS_recvfrom, SYS_sendmsg,
				      SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg,
				      -1 };
static const int udp_rw_calls[] = { SYS_read, SYS_write, SYS_readv, SYS_writev, -1 };

#define X(sys) { "udp__" #sys "_fexit", "__x64_sys_" #sys }

static const struct ks_slot udp_slots[] = {
	{
		.name = "see sends and receives",
		.alts = {
			{ KS_FAM_FENTRY, { X(sendto), X(recvfrom), X(sendmsg), X(recvmsg),
					   X(sendmmsg), X(recvmmsg) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, udp_sock_calls },
		},
	},
	{
		.name = "see reads and writes",
		.alts = {
			{ KS_FAM_FENTRY, { X(read), X(write), X(readv), X(writev) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, udp_rw_calls },
		},
	},
	{ 0 },
};

static const struct ks_evtype udp_types[] = {
	{ UDP_EV_FLOW, "udp", true },
	{ UDP_EV_DNS, "udp_dns" },
	{ 0 },
};

#define UDP_METRIC(var, what, dir, text)                                                  \
	static const struct ks_metric_desc var = {                                        \
		.name = "ksight_udp_" dir "_" what "_total",                              \
		.help = "UDP " what " " text ", by service",                              \
		.type = KS_METRIC_COUNTER,                                                \
		.labels = { "service" },                                                  \
		.idle = 60,                                                               \
	}

UDP_METRIC(udp_txd_desc, "datagrams", "sent", "sent");
UDP_METRIC(udp_txb_desc, "bytes", "sent", "sent (payload)");
UDP_METRIC(udp_rxd_desc, "datagrams", "received", "received");
UDP_METRIC(udp_rxb_desc, "bytes", "received", "received (payload)");

/* the agent's address -> DNS name table (core/dnsnames.h) */
static const struct ks_metric_desc dns_names_desc = {
	.name = "ksight_dns_names",
	.help = "Addresses the DNS answers seen name now (the table's entries)",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc dns_added_desc = {
	.name = "ksight_dns_names_added_total",
	.help = "Addresses put in the name table from DNS answers (new or refreshed)",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc dns_evicted_desc = {
	.name = "ksight_dns_names_evicted_total",
	.help = "Addresses the name table's budget pushed out (least recently used first)",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc dns_answers_desc = {
	.name = "ksight_dns_responses_total",
	.help = "DNS responses received by the processes watched, decoded for names",
	.type = KS_METRIC_COUNTER,
};

/* @s as an IPv4 or IPv6 address into @addr (16 bytes); its UDP_AF_*, or 0. */
static unsigned int addr_parse(const char *s, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return UDP_AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return UDP_AF_INET6;
	return 0;
}

static int udp_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct udp_state *st = state;

	if (st->v4 && st->v6) {
		snprintf(err, len, "-4 and -6 exclude each other (neither: both families)");
		return -1;
	}
	if (st->addr) {
		st->addr_family = addr_parse(st->addr, st->addr_bin);
		if (!st->addr_family) {
			snprintf(err, len, "--addr: '%s' is not an IPv4 or IPv6 address", st->addr);
			return -1;
		}
		if ((st->v4 && st->addr_family != UDP_AF_INET) ||
		    (st->v6 && st->addr_family != UDP_AF_INET6)) {
			snprintf(err, len, "--addr %s is not of the family -%c asks for", st->addr,
				 st->v4 ? '4' : '6');
			return -1;
		}
	}

	if (st->dns && st->per_proc) {
		snprintf(err, len, "--dns and -P exclude each other (DNS messages, or counts)");
		return -1;
	}
	if (st->dns && common->interval) {
		snprintf(err, len, "an interval only makes sense without --dns (use --duration)");
		return -1;
	}
	return 0;
}

/*
 * The agent counts through the socket calls only: routing every read() and write() of the
 * machine to this module would cost each one a tail call and an fd look-up, for the few
 * connected UDP sockets that use them. `ksight udp` sees those too. It decodes the DNS
 * responses its processes receive (from port 53: the kernel captures only those, and
 * reads no recvmmsg buffers for them), to name the addresses they give: the map's remote
 * nodes carry the name (core/dnsnames.h, docs/map.md). Its
 * metrics are per service; it counts per flow (process, local port, remote end) for the
 * service map's UDP edges (udp_flow records, when an output such as the store takes
 * events); rows leave the table when their process exits, or idle once it is filling
 * (udp_flows.c), and a full table counts what it refuses as lost (the map then marks
 * the interval's UDP edges incomplete).
 */
static void udp_agent_defaults(void *state)
{
	struct udp_state *st = state;

	st->agent = true;
}

static bool udp_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct udp_state *st = state;

	return !(st->agent && slot == &udp_slots[1]);
}

static int udp_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct udp_bpf *skel = vskel;
	struct udp_state *st = state;

	skel->rodata->udp_port = st->port;
	skel->rodata->udp_per_proc = st->per_proc;
	skel->rodata->udp_count = !st->dns;
	skel->rodata->udp_dns = st->dns || st->agent;
	skel->rodata->udp_dns_resp = st->agent && !st->dns;
	skel->rodata->udp_family = st->v4 ? UDP_AF_INET : st->v6 ? UDP_AF_INET6 : 0;
	skel->rodata->udp_addr_family = st->addr_family;
	memcpy((void *)skel->rodata->udp_addr, st->addr_bin, sizeof(st->addr_bin));
	if (st->dns)
		bpf_map__set_max_entries(skel->maps.udp_flows, 1);
	return 0;
}

static void udp_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct udp_state *st = state;

	if (h->type != UDP_EV_DNS || size < sizeof(struct udp_dns_ev))
		return;
	if (st->agent)
		udp_dns_feed(ctx, st, (const void *)h);
	else
		udp_dns_event(ctx, st, (const void *)h);
}

static void udp_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct udp_bpf *skel = vskel;
	struct udp_state *st = state;

	if (!st->dns)
		udp_flows_report(ctx, st, skel->maps.udp_flows);
}

static void udp_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct udp_bpf *skel = vskel;

	udp_flows_collect(ctx, state, skel->maps.udp_flows);
	udp_dns_names_collect(state);
}

/* A process's rows leave the kernel's table once reported. */
static void udp_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct udp_state *st = state;

	if (!st->dns && h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);	/* dropped after the next report */
}

static int udp_init(struct ks_ctx *ctx, void *state)
{
	struct udp_state *st = state;
	int err;

	st->msg = malloc(sizeof(*st->msg));
	if (!st->msg)
		return -ENOMEM;
	udp_flows_init(st);
	st->m_txd = ks_ctx_metric(ctx, &udp_txd_desc);
	st->m_txb = ks_ctx_metric(ctx, &udp_txb_desc);
	st->m_rxd = ks_ctx_metric(ctx, &udp_rxd_desc);
	st->m_rxb = ks_ctx_metric(ctx, &udp_rxb_desc);
	if (!st->m_txd || !st->m_txb || !st->m_rxd || !st->m_rxb)
		return -errno;
	if (!st->agent)
		return 0;
	if ((err = udp_edges_init(ctx, st)))
		return err;
	st->names = ks_dnsnames_agent_make(KS_DNSNAMES_MAX);
	st->m_dns_names = ks_ctx_metric(ctx, &dns_names_desc);
	st->m_dns_added = ks_ctx_metric(ctx, &dns_added_desc);
	st->m_dns_evicted = ks_ctx_metric(ctx, &dns_evicted_desc);
	st->m_dns_answers = ks_ctx_metric(ctx, &dns_answers_desc);
	return st->names && st->m_dns_names && st->m_dns_added && st->m_dns_evicted &&
	       st->m_dns_answers ? 0 : -ENOMEM;
}

/* The agent's line: datagrams each way per second and the services that sent most of
 * them; in JSON also the byte rates and the interval's exact counts. */
static void udp_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct udp_state *st = state;
	uint64_t txd = ks_metric_delta(st->m_txd), txb = ks_metric_delta(st->m_txb);
	uint64_t rxd = ks_metric_delta(st->m_rxd), rxb = ks_metric_delta(st->m_rxb);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "udp");
	ks_rec_rate(&r, "sent_datagrams_per_s", "sent", txd, secs);
	ks_rec_add(&r, "sent_per_s", NULL, 0, KS_V_BYTE_RATE)->d = secs > 0 ? txb / secs : 0;
	ks_rec_rate(&r, "received_datagrams_per_s", "recv", rxd, secs);
	ks_rec_add(&r, "received_per_s", NULL, 0, KS_V_BYTE_RATE)->d = secs > 0 ? rxb / secs : 0;
	ks_rec_uint(&r, "sent_datagrams", NULL, 0, txd);
	ks_rec_uint(&r, "sent_bytes", NULL, 0, txb);
	ks_rec_uint(&r, "received_datagrams", NULL, 0, rxd);
	ks_rec_uint(&r, "received_bytes", NULL, 0, rxb);
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_txd, 0);
	ks_emit(ctx, &r);
}

static void udp_fini(void *state)
{
	struct udp_state *st = state;

	udp_flows_free(st);
	if (st->names)
		ks_dnsnames_agent_free();
	st->names = NULL;
	free(st->msg);
	st->msg = NULL;
}

KS_BPF_OBJECT(udp);

const struct ks_module udp_module = {
	.name = "udp",
	.id = KS_MOD_udp,
	.bpf = &udp_bpf_obj,
	.brief = "UDP datagrams and bytes per process and remote endpoint; DNS decoded",
	.usage = "  ksight udp                       # per process and remote end, at Ctrl-C\n"
		 "  ksight udp 5 3                   # what changed, every 5 s, 3 times\n"
		 "  ksight udp -P 10                 # one row per process, every 10 s\n"
		 "  ksight udp --port 443 -p 1234    # process 1234's datagrams with port 443\n"
		 "  ksight udp -6 --addr fd00::53    # IPv6, with fd00::53 at one end\n"
		 "  ksight udp --dns                 # DNS queries and answers, with latency\n"
		 "  ksight udp --dns --json          # the same as JSON lines\n",
	.opts = udp_opts,
	.state_size = sizeof(struct udp_state),
	.positional = true,
	.slots = udp_slots,
	.types = udp_types,
	.configure = udp_configure,
	.want_slot = udp_want_slot,
	.agent_defaults = udp_agent_defaults,
	.init = udp_init,
	.setup = udp_setup,
	.proc = udp_proc,
	.event = udp_event,
	.report = udp_report,
	.collect = udp_collect,
	.summary = udp_summary,
	.fini = udp_fini,
};
