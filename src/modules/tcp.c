// SPDX-License-Identifier: GPL-2.0
/*
 * tcp: `ksight tcplife`, every TCP session when it closes, from the connection table the
 * kernel builds as connections are created (bpf/tcp.bpf.c): the owner (the task that
 * connected, or that accepted), both ends, the application's bytes each way, duration,
 * retransmitted segments, smoothed RTT and why it closed. -P counts per process in the
 * kernel instead (tcp_proc.c). The agent counts sessions and bytes per service.
 * Its variants tcpconnect and tcpaccept report connections as they open (tcp_open.c),
 * tcpstates every state change (tcp_states.c), tcpretrans retransmits and resets
 * (tcp_retrans.c), tcprtt RTT histograms (tcp_rtt.c); the agent also counts state changes,
 * retransmits and resets (tcp_agent.c).
 */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/ident.h"
#include "core/iter.h"
#include "core/module.h"
#include "modules/tcp_fmt.h"
#include "modules/tcp_int.h"
#include "tcp.skel.h"

/* tcprtt --by, indexed by TCP_RTT_BY_* */
static const char *const tcp_rtt_by_names[] = { "raddr", "lport", "all", NULL };

static const struct ks_opt tcp_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct tcp_state, per_proc), NULL,
	  "tcplife: count closed sessions per process in the kernel; a table each interval" },
	{ "latency", 'L', KS_OPT_FLAG, offsetof(struct tcp_state, lat), NULL,
	  "tcpconnect: connect latency as a histogram counted in the kernel (failures stream)" },
	{ "count", 'c', KS_OPT_FLAG, offsetof(struct tcp_state, count), NULL,
	  "tcpretrans: count per connection in the kernel; a table each interval" },
	{ "by", 0, KS_OPT_STR, offsetof(struct tcp_state, by), "KEY",
	  "tcprtt: a histogram per remote address (raddr, default), per local port (lport), "
	  "or one (all)", 0, 16 },
	{ "port", 0, KS_OPT_UINT, offsetof(struct tcp_state, port), "PORT",
	  "only sessions with this port at either end (checked in the kernel)", 1, 65535 },
	{ "addr", 0, KS_OPT_STR, offsetof(struct tcp_state, addr), "ADDR",
	  "only sessions with this IPv4 or IPv6 address at either end", 0, 64 },
	{ "ipv4", '4', KS_OPT_FLAG, offsetof(struct tcp_state, v4), NULL, "only IPv4 sessions" },
	{ "ipv6", '6', KS_OPT_FLAG, offsetof(struct tcp_state, v6), NULL, "only IPv6 sessions" },
	{ "no-dnat", 0, KS_OPT_FLAG, offsetof(struct tcp_state, no_dnat), NULL,
	  "tcplife: do not ask conntrack where a DNAT'd session really went" },
	{ "dnat", 0, KS_OPT_FLAG, offsetof(struct tcp_state, dnat), NULL,
	  "tcpconnect, tcpaccept: ask conntrack what DNAT and SNAT did to each connection "
	  "(tcplife does)" },
	{ 0 },
};

static const int tcp_accepts[] = { SYS_accept, SYS_accept4, -1 };

static const struct ks_slot tcp_slots[] = {
	{
		.name = "see state changes",
		.alts = {
			/* each with its backup, attached after it (bpf/tcp_backup.bpf.h) */
			{ KS_FAM_TP_BTF, { { "tcp__state_btf", "inet_sock_set_state" },
					   { "tcp__backup_btf", "inet_sock_set_state" } } },
			{ KS_FAM_RAW_TP, { { "tcp__state_raw", "inet_sock_set_state" },
					   { "tcp__backup_raw", "inet_sock_set_state" } } },
			{ KS_FAM_TP, { { "tcp__state_tp", "sock/inet_sock_set_state" } } },
		},
	},
	{
		.name = "owners of accepts",
		.alts = {
			{ KS_FAM_FENTRY, { { "tcp__accept_fexit", "inet_csk_accept" } } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, tcp_accepts },
		},
	},
	{
		.name = "see retransmits",
		.alts = {
			{ KS_FAM_TP_BTF, { { "tcp__retrans_btf", "tcp_retransmit_skb" } } },
			{ KS_FAM_RAW_TP, { { "tcp__retrans_raw", "tcp_retransmit_skb" } } },
			{ KS_FAM_TP, { { "tcp__retrans_tp", "tcp/tcp_retransmit_skb" } } },
		},
	},
	{
		.name = "see resets sent",
		.alts = {
			{ KS_FAM_TP_BTF, { { "tcp__rst_sent_btf", "tcp_send_reset" } } },
			{ KS_FAM_RAW_TP, { { "tcp__rst_sent_raw", "tcp_send_reset" } } },
			{ KS_FAM_TP, { { "tcp__rst_sent_tp", "tcp/tcp_send_reset" } } },
		},
	},
	{
		.name = "see resets received",
		.alts = {
			{ KS_FAM_TP_BTF, { { "tcp__rst_rcvd_btf", "tcp_receive_reset" } } },
			{ KS_FAM_RAW_TP, { { "tcp__rst_rcvd_raw", "tcp_receive_reset" } } },
			{ KS_FAM_TP, { { "tcp__rst_rcvd_tp", "tcp/tcp_receive_reset" } } },
		},
	},
	{
		.name = "see RTT samples",
		.alts = {
			{ KS_FAM_TP_BTF, { { "tcp__rtt_btf", "tcp_probe" } } },
			{ KS_FAM_RAW_TP, { { "tcp__rtt_raw", "tcp_probe" } } },
			{ KS_FAM_TP, { { "tcp__rtt_tp", "tcp/tcp_probe" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype tcp_types[] = {
	{ TCP_EV_CLOSE, "tcplife" },
	{ TCP_EV_CONN, "tcp_conn_table", true },
	{ TCP_EV_PROC, "tcplife_proc", true },
	{ TCP_EV_CONNECT, "tcpconnect" },
	{ TCP_EV_ACCEPT, "tcpaccept" },
	{ TCP_EV_LAT, "tcpconnect_latency", true },
	{ TCP_EV_STATE, "tcpstates" },
	{ TCP_EV_RETR, "tcpretrans" },
	{ TCP_EV_RETR_CONN, "tcpretrans_conn", true },
	{ TCP_EV_RTT, "tcprtt", true },
	{ 0 },
};

static const struct ks_metric_desc tcp_closed_desc = {
	.name = "ksight_tcp_sessions_closed_total",
	.help = "TCP sessions closed, by the service that opened or accepted them",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc tcp_tx_desc = {
	.name = "ksight_tcp_sent_bytes_total",
	.help = "Application bytes sent over TCP sessions that closed, by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc tcp_rx_desc = {
	.name = "ksight_tcp_received_bytes_total",
	.help = "Application bytes received over TCP sessions that closed, by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc tcp_nat_fail_desc = {
	.name = "ksight_tcp_conntrack_failures_total",
	.help = "Closed TCP sessions (and tcpconnect's, tcpaccept's with --dnat) conntrack "
		"could not be asked about (NAT unknown), by reason: no_netns, socket, query",
	.type = KS_METRIC_COUNTER,
	.labels = { "reason" },
};

/* The option that makes each command count, for an interval. */
static const char *interval_flag(int mode)
{
	switch (mode) {
	case TCP_MODE_CONNECT:
		return "-L";
	case TCP_MODE_RETRANS:
		return "-c";
	case TCP_MODE_LIFE:
		return "-P";
	default:
		return "a counting option (tcplife -P, tcpconnect -L, tcpretrans -c)";
	}
}

static int tcp_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct tcp_state *st = state;

	if (st->v4 && st->v6) {
		snprintf(err, len, "-4 and -6 exclude each other (neither: both families)");
		return -1;
	}
	if (st->addr) {
		st->addr_family = tcp_addr_parse(st->addr, st->addr_bin);
		if (!st->addr_family) {
			snprintf(err, len, "--addr: '%s' is not an IPv4 or IPv6 address", st->addr);
			return -1;
		}
		if ((st->v4 && st->addr_family != TCP_AF_INET) ||
		    (st->v6 && st->addr_family != TCP_AF_INET6)) {
			snprintf(err, len, "--addr %s is not of the family -%c asks for", st->addr,
				 st->v4 ? '4' : '6');
			return -1;
		}
	}
	if (st->per_proc && st->mode != TCP_MODE_LIFE) {
		snprintf(err, len, "-P is tcplife's (sessions per process)");
		return -1;
	}
	if (st->no_dnat && st->mode != TCP_MODE_LIFE) {
		snprintf(err, len, "--no-dnat is tcplife's (conntrack's view of DNAT)");
		return -1;
	}
	if (st->dnat && st->mode != TCP_MODE_CONNECT && st->mode != TCP_MODE_ACCEPT) {
		snprintf(err, len, "--dnat is tcpconnect's and tcpaccept's (tcplife asks "
			 "conntrack unless --no-dnat)");
		return -1;
	}
	if (st->lat && st->mode != TCP_MODE_CONNECT) {
		snprintf(err, len, "-L is tcpconnect's (connect latency)");
		return -1;
	}
	if (st->count && st->mode != TCP_MODE_RETRANS) {
		snprintf(err, len, "-c is tcpretrans' (counts per connection)");
		return -1;
	}
	/* a string, not a choice: given to another command, even its default is refused */
	if (st->by && st->mode != TCP_MODE_RTT) {
		snprintf(err, len, "--by is tcprtt's (what a histogram gathers)");
		return -1;
	}
	for (st->rtt_by = 0; st->by && tcp_rtt_by_names[st->rtt_by]; st->rtt_by++)
		if (!strcmp(st->by, tcp_rtt_by_names[st->rtt_by]))
			break;
	if (st->by && !tcp_rtt_by_names[st->rtt_by]) {
		snprintf(err, len, "--by: '%s' is not one of raddr|lport|all", st->by);
		return -1;
	}
	if (!st->by)
		st->rtt_by = TCP_RTT_BY_RADDR;
	st->owners = common->pid || common->tid || common->uid != KS_UNSET || common->comm ||
		     common->cgroup;
	/* tcplife's owners, tcprtt's owner filters; the scan cannot check --cgroup for
	 * another task than the current one */
	st->seed = (st->mode == TCP_MODE_LIFE || (st->mode == TCP_MODE_RTT && st->owners)) &&
		   !common->cgroup;
	if (common->interval && !st->per_proc && !st->lat && !st->count &&
	    st->mode != TCP_MODE_RTT) {
		snprintf(err, len, "an interval only makes sense with %s (use --duration)",
			 interval_flag(st->mode));
		return -1;
	}
	return 0;
}

/* tcpconnect needs no accept: no syscall hook at all. Retransmits and resets are
 * tcpretrans', and tcplife's for the agent's counts (they are rare: cheap). tcprtt needs
 * tcp_probe, and the connection table (its state changes, accepts) only to know owners
 * for an owner filter. */
static bool tcp_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct tcp_state *st = state;

	if (slot == &tcp_slots[5])
		return st->mode == TCP_MODE_RTT;
	if (st->mode == TCP_MODE_RTT)
		return slot < &tcp_slots[2] && st->owners;
	if (slot == &tcp_slots[1])
		return st->mode != TCP_MODE_CONNECT;
	if (slot >= &tcp_slots[2])
		return st->mode == TCP_MODE_RETRANS || st->mode == TCP_MODE_LIFE;
	return true;
}

static int tcp_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct tcp_bpf *skel = vskel;
	struct tcp_state *st = state;

	skel->rodata->tcp_port = st->port;
	skel->rodata->tcp_family = st->v4 ? TCP_AF_INET : st->v6 ? TCP_AF_INET6 : 0;
	skel->rodata->tcp_addr_family = st->addr_family;
	memcpy((void *)skel->rodata->tcp_addr, st->addr_bin, sizeof(st->addr_bin));
	skel->rodata->tcp_per_proc = st->per_proc;
	skel->rodata->tcp_accept_ret = tcp_accept_ret_index(ks_ctx_btf(ctx));
	skel->rodata->tcp_mode = st->mode;
	skel->rodata->tcp_lat_hist = st->lat;
	skel->rodata->tcp_retr_count = st->count;
	skel->rodata->tcp_retr_err = tcp_tp_has_more_args(ks_ctx_btf(ctx),
							  "btf_trace_tcp_retransmit_skb", 2);
	skel->rodata->tcp_count = st->mode == TCP_MODE_LIFE;
	skel->rodata->tcp_rtt_by = st->rtt_by;
	if (st->seed)
		bpf_program__set_autoload(skel->progs.tcp__seed_iter, true);
	/* the core marks the chosen alternatives before setup: fexit misses the accepts
	 * already waiting (tcp_late.c) */
	if (bpf_program__autoload(skel->progs.tcp__accept_fexit))
		bpf_program__set_autoload(skel->progs.tcp__accept_late, true);
	else
		bpf_map__set_max_entries(skel->maps.tcp_late, 1);
	st->late_map = skel->maps.tcp_late;
	if (!st->per_proc)
		bpf_map__set_max_entries(skel->maps.tcp_procs, 1);
	if (!st->count)
		bpf_map__set_max_entries(skel->maps.tcp_retr_conns, 1);
	if (st->mode != TCP_MODE_RTT)
		bpf_map__set_max_entries(skel->maps.tcp_rtts, 1);
	return 0;
}

static const char *tcp_cmd(const struct tcp_state *st)
{
	static const char *const names[] = { "tcplife", "tcpconnect", "tcpaccept",
					     "tcpstates", "tcpretrans", "tcprtt" };

	return st->mode >= 0 && st->mode <= TCP_MODE_RTT ? names[st->mode] : "tcp";
}

/* Once the hooks are attached: where the accept hook is fexit, the accept() calls already
 * waiting are watched at sys_exit instead (tcp_late.c); tcplife's connections already open
 * enter the table with their owners (without the scan they stay owner-less "opened
 * before"). */
static int tcp_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct tcp_bpf *skel = vskel;
	struct tcp_state *st = state;
	int err;

	if (bpf_program__autoload(skel->progs.tcp__accept_late)) {
		st->late = tcp_late_start(skel->progs.tcp__accept_late, skel->maps.tcp_late,
					  ks_ctx_common(ctx)->pid, &err);
		if (err)
			fprintf(stderr, "ksight %s: no owners for the connections of the accept() "
				"calls waiting at start (sys_exit: %s)\n", tcp_cmd(st),
				strerror(-err));
	}
	if (!st->seed)
		return 0;
	err = ks_iter_once(skel->progs.tcp__seed_iter);
	if (err)
		fprintf(stderr, "ksight %s: no owners for the connections open at start "
			"(the BPF task_file iterator failed: %s)\n",
			st->mode == TCP_MODE_RTT ? "tcprtt" : "tcplife", strerror(-err));
	return 0;
}

static void tcp_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct tcp_state *st = state;

	st->late = tcp_late_check(st->late, st->late_map);

	if ((h->type == TCP_EV_CONNECT || h->type == TCP_EV_ACCEPT) &&
	    size >= sizeof(struct tcp_open_ev)) {
		const struct tcp_open_ev *o = (const void *)h;
		bool ask = st->dnat;
		enum tcp_nat_fail fail = TCP_NAT_OK;
		struct tcp_nat_res nat = {};

		/* the entry exists once the SYN went out, or came in (an unknown namespace,
		 * 0: see tcp_close_event) */
		if (ask && o->netns)
			fail = tcp_ask_nat(st, h, o->netns, o->family, &o->local, &o->remote, &nat);
		tcp_open_emit(ctx, o, ask ? &nat : NULL, fail);
		return;
	}
	if (h->type == TCP_EV_STATE && size >= sizeof(struct tcp_state_ev)) {
		tcp_state_emit(ctx, (const void *)h);
		return;
	}
	if (h->type == TCP_EV_RETR && size >= sizeof(struct tcp_retr_ev)) {
		tcp_retr_emit(ctx, (const void *)h);
		return;
	}
	if (h->type == TCP_EV_CLOSE && size >= sizeof(struct tcp_close))
		tcp_close_event(ctx, st, (const void *)h);
}

static void tcp_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct tcp_bpf *skel = vskel;
	struct tcp_state *st = state;
	struct tcp_counts n;

	st->late = tcp_late_check(st->late, st->late_map);
	if (!tcp_counts_read(skel->maps.tcp_agent_counts, &n))
		st->discarded = n.children_discarded;
	if (st->per_proc)
		tcp_proc_report(ctx, st, skel->maps.tcp_procs);
	if (st->lat)
		tcp_lat_report(ctx, st, skel->maps.tcp_lats);
	if (st->count)
		tcp_retr_report(ctx, st, skel->maps.tcp_retr_conns);
	if (st->mode == TCP_MODE_RTT)
		tcp_rtt_report(ctx, st, skel->maps.tcp_rtts);
}

static void tcp_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct tcp_bpf *skel = vskel;
	struct tcp_state *st = state;

	/* the agent: no namespace kept alive by an idle conntrack socket */
	tcp_nat_sweep(&st->nat);
	st->late = tcp_late_check(st->late, st->late_map);

	tcp_agent_collect(ctx, state, skel->maps.tcp_agent_counts);
}

static int tcp_init(struct ks_ctx *ctx, void *state)
{
	struct tcp_state *st = state;

	st->m_closed = ks_ctx_metric(ctx, &tcp_closed_desc);
	st->m_tx = ks_ctx_metric(ctx, &tcp_tx_desc);
	st->m_rx = ks_ctx_metric(ctx, &tcp_rx_desc);
	st->m_nat_fail = ks_ctx_metric(ctx, &tcp_nat_fail_desc);
	if (!st->m_closed || !st->m_tx || !st->m_rx || !st->m_nat_fail)
		return -errno;
	return tcp_agent_init(ctx, st) ?: tcp_edges_init(ctx, st);
}

/* The agent's line: sessions closed and bytes each way per second, the services that
 * closed most; in JSON also the interval's exact counts. */
static void tcp_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct tcp_state *st = state;
	uint64_t n = ks_metric_delta(st->m_closed), tx = ks_metric_delta(st->m_tx);
	uint64_t rx = ks_metric_delta(st->m_rx);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "tcp");
	ks_rec_rate(&r, "closed_per_s", "closed", n, secs);
	ks_rec_add(&r, "sent_per_s", "sent", 0, KS_V_BYTE_RATE)->d = secs > 0 ? tx / secs : 0;
	ks_rec_add(&r, "received_per_s", "recv", 0, KS_V_BYTE_RATE)->d = secs > 0 ? rx / secs : 0;
	ks_rec_uint(&r, "closed", NULL, 0, n);
	ks_rec_uint(&r, "sent_bytes", NULL, 0, tx);
	ks_rec_uint(&r, "received_bytes", NULL, 0, rx);
	ks_rec_uint(&r, "retrans_segs", NULL, 0, ks_metric_delta(st->m_retrans));
	ks_rec_uint(&r, "resets_sent", NULL, 0, ks_metric_delta(st->m_rst_sent));
	ks_rec_uint(&r, "resets_received", NULL, 0, ks_metric_delta(st->m_rst_rcvd));
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_closed, 0);
	ks_emit(ctx, &r);
}

static void tcp_fini(void *state)
{
	struct tcp_state *st = state;
	struct tcp_nat *n = &st->nat;
	uint64_t failed = n->failed[TCP_NAT_NO_NETNS] + n->failed[TCP_NAT_SOCKET] +
			  n->failed[TCP_NAT_QUERY];

	bool open = st->mode == TCP_MODE_CONNECT || st->mode == TCP_MODE_ACCEPT;

	/* nothing silently lost: the sessions whose NAT is not known (each record says) */
	if (failed)
		fprintf(stderr, "ksight %s: conntrack could not be asked about %llu "
			"%s (namespace gone %llu, no socket %llu, query failed %llu); "
			"%llu asked, %llu DNAT'd, %llu SNAT'd\n",
			st->mode == TCP_MODE_CONNECT ? "tcpconnect" :
			st->mode == TCP_MODE_ACCEPT ? "tcpaccept" : "tcplife",
			(unsigned long long)failed,
			!open ? "sessions" : st->mode == TCP_MODE_CONNECT ? "connects" : "accepts",
			(unsigned long long)n->failed[TCP_NAT_NO_NETNS],
			(unsigned long long)n->failed[TCP_NAT_SOCKET],
			(unsigned long long)n->failed[TCP_NAT_QUERY],
			(unsigned long long)n->asked, (unsigned long long)n->dnat,
			(unsigned long long)n->snat);
	/* not sessions, and left out of every record: said, so that a count that differs
	 * from the kernel's children can be explained */
	if (st->discarded && (st->mode == TCP_MODE_LIFE || st->mode == TCP_MODE_STATES))
		fprintf(stderr, "ksight %s: %llu accepted socket%s the kernel made and closed in "
			"the handshake (never connections: another CPU's copy won, or the route back "
			"failed), not shown\n",
			tcp_cmd(st), (unsigned long long)st->discarded,
			st->discarded == 1 ? "" : "s");
	bpf_link__destroy(st->late);
	tcp_nat_free(n);
	tcp_proc_free(state);
	tcp_retr_free(state);
	tcp_rtt_free(state);
}

KS_BPF_OBJECT(tcp);

static const struct ks_variant tcp_variants[] = {
	{ "tcpconnect", "every TCP connect: owner, ends, latency; refused and timed out ones",
	  "  ksight tcpconnect                # every connect, established or failed\n"
	  "  ksight tcpconnect -L --port 443  # connect latency as a histogram\n"
	  "  ksight tcpconnect -L 5 3         # the histogram every 5 s, 3 times\n"
	  "  ksight tcpconnect --dnat         # and where DNAT really sent each one\n",
	  TCP_MODE_CONNECT },
	{ "tcpaccept", "every TCP connection accepted: the accepting task, ends, time queued",
	  "  ksight tcpaccept                 # every accept, system-wide\n"
	  "  ksight tcpaccept --port 80 -p 1234\n"
	  "  ksight tcpaccept --dnat          # and the real client of each SNAT'd one\n",
	  TCP_MODE_ACCEPT },
	{ "tcpstates", "every TCP state change: owner, ends, the time in the previous state",
	  "  ksight tcpstates                 # every change, IPv4 and IPv6\n"
	  "  ksight tcpstates --port 443 -6   # IPv6 sockets with port 443 at one end\n"
	  "  ksight tcpstates -p 1234 --json  # the sockets process 1234 connected, listened\n"
	  "                                   # on or accepted\n",
	  TCP_MODE_STATES },
	{ "tcpretrans", "TCP retransmits (segments) and resets sent and received, per connection",
	  "  ksight tcpretrans                # each retransmit and reset as it happens\n"
	  "  ksight tcpretrans -c 5           # counts per connection, every 5 s\n"
	  "  ksight tcpretrans -c --port 443 10 6   # ... every 10 s, 6 times\n"
	  "  ksight tcpretrans --addr 10.0.0.7 --json\n",
	  TCP_MODE_RETRANS },
	{ "tcprtt", "TCP smoothed RTT histograms (tcp:tcp_probe), per remote address or port",
	  "  ksight tcprtt                    # a histogram per remote address, at Ctrl-C\n"
	  "  ksight tcprtt --by lport 5 3     # per local port, every 5 s, 3 times\n"
	  "  ksight tcprtt --by all --port 443 -6   # one histogram of IPv6 port 443\n"
	  "  ksight tcprtt -p 1234 --json     # the connections process 1234 opened or accepted\n",
	  TCP_MODE_RTT },
	{ 0 },
};

const struct ks_module tcp_module = {
	.name = "tcplife",
	.id = KS_MOD_tcp,
	.bpf = &tcp_bpf_obj,
	.brief = "every TCP session as it closes: owner, ends, bytes, duration, why it closed",
	.usage = "  ksight tcplife                   # every session, both sides, as it closes\n"
		 "  ksight tcplife --port 443 -6     # IPv6 sessions with port 443 at one end\n"
		 "  ksight tcplife -p 1234 --json    # sessions process 1234 opened or accepted\n"
		 "  ksight tcplife --addr 10.0.0.7   # sessions with 10.0.0.7 at one end\n"
		 "  ksight tcplife -P 10 6           # per process, every 10 s, 6 times\n",
	.opts = tcp_opts,
	.state_size = sizeof(struct tcp_state),
	.positional = true,
	.slots = tcp_slots,
	.types = tcp_types,
	.variants = tcp_variants,
	.mode_off = offsetof(struct tcp_state, mode),
	.configure = tcp_configure,
	.want_slot = tcp_want_slot,
	.init = tcp_init,
	.setup = tcp_setup,
	.attach = tcp_attach,
	.event = tcp_event,
	.report = tcp_report,
	.collect = tcp_collect,
	.summary = tcp_summary,
	.fini = tcp_fini,
};
