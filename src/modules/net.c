// SPDX-License-Identifier: GPL-2.0
/*
 * net: `ksight net`, traffic counted in the kernel (bpf/net.bpf.c) per interface (TC
 * clsact on the interfaces of -i, all by default) and per cgroup (cgroup_skb on the
 * cgroup v2 root or --cgroup): packets and bytes each way by family and protocol, packet
 * sizes, the top remote ends (net_rows.c); --payload keeps the first bytes of the last
 * packets with --port at one end (net_payload.c). The agent counts per service only
 * (cgroup_skb on the root): it leaves the host's interfaces alone.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attachments.h"
#include "core/cgroup.h"
#include "core/module.h"
#include "modules/net_int.h"
#include "net.skel.h"

static const char *const net_by_names[] = { "both", "interface", "cgroup", NULL };
static const char *const net_tc_modes[] = { "auto", "tcx", "legacy", NULL };

#define OFF(f) offsetof(struct net_state, f)

static const struct ks_opt net_opts[] = {
	{ "interface", 'i', KS_OPT_STR, OFF(ifaces_arg), "IFACE[,IFACE]",
	  "count on these interfaces (default: every interface of this network namespace)",
	  0, 1024 },
	{ "by", 0, KS_OPT_CHOICE, OFF(by), "VIEW",
	  "both (default), interface (TC only) or cgroup (cgroup_skb only)", 0, 0, net_by_names },
	{ "per-cgroup", 'P', KS_OPT_FLAG, OFF(per_cgroup), NULL,
	  "remote ends per cgroup (counted by the cgroup view)" },
	{ "port", 0, KS_OPT_UINT, OFF(port), "PORT",
	  "only packets with this TCP or UDP port at either end (checked in the kernel)", 1,
	  65535 },
	{ "addr", 0, KS_OPT_STR, OFF(addr), "ADDR",
	  "only packets with this IPv4 or IPv6 address at either end", 0, 64 },
	{ "payload", 0, KS_OPT_UINT, OFF(payload), "N",
	  "keep the first N (<= 256) payload bytes of the last 1024 packets with --port", 1,
	  NET_PAYLOAD_MAX },
	{ "top", 0, KS_OPT_UINT, OFF(top), "N", "remote ends shown per report (default 10)", 1,
	  1000 },
	{ "tc-mode", 0, KS_OPT_CHOICE, OFF(tc_mode), "MODE",
	  "auto (tcx links where the kernel has them), tcx or legacy (clsact filters)", 0, 0,
	  net_tc_modes },
	{ 0 },
};

static const struct ks_slot net_slots[] = {
	{ "count on interfaces",
	  { { KS_FAM_TC, { { "net__tc_in", "" }, { "net__tc_out", "" } } } } },
	{ "count per cgroup",
	  { { KS_FAM_CGROUP, { { "net__cg_in", "skb" }, { "net__cg_out", "skb" } } } } },
	{ 0 },
};

static const struct ks_evtype net_types[] = {
	{ NET_EV_TRAFFIC, "net", true },
	{ NET_EV_REMOTE, "net_remote", true },
	{ NET_EV_PAYLOAD, "net_payload", true },
	{ 0 },
};

static const struct net_state net_defaults = { .top = 10 };

static const struct ks_metric_desc net_pkts_desc = {
	.name = "ksight_net_packets_total",
	.help = "Packets per interface or service (where), direction and protocol",
	.type = KS_METRIC_COUNTER,
	.labels = { "where", "direction", "protocol" },
	.budget = 512,
	.idle = 60,
};

static const struct ks_metric_desc net_bytes_desc = {
	.name = "ksight_net_bytes_total",
	.help = "Bytes per interface (with link headers) or service (IP packets), direction "
		"and protocol",
	.type = KS_METRIC_COUNTER,
	.labels = { "where", "direction", "protocol" },
	.budget = 512,
	.idle = 60,
};

static const struct ks_metric_desc net_where_desc = {
	.name = "ksight_net_where_bytes_total",
	.help = "Bytes both ways per interface or service (where)",
	.type = KS_METRIC_COUNTER,
	.labels = { "where" },
	.budget = 256,
	.idle = 60,
};

static int add_iface(struct net_state *st, const char *name, size_t n, char *err, size_t len)
{
	char buf[IF_NAMESIZE];
	unsigned int idx;

	if (!n || n >= IF_NAMESIZE) {
		snprintf(err, len, "-i: '%.*s' is not an interface name", (int)(n > 40 ? 40 : n),
			 name);
		return -1;
	}
	memcpy(buf, name, n);
	buf[n] = 0;
	idx = if_nametoindex(buf);
	if (!idx) {
		snprintf(err, len, "-i %s: no such interface", buf);
		return -1;
	}
	for (int i = 0; i < st->nifaces; i++)
		if (st->ifaces[i].ifindex == idx)
			return 0;
	if (st->nifaces == NET_IFACES_MAX) {
		snprintf(err, len, "-i: more than %d interfaces", NET_IFACES_MAX);
		return -1;
	}
	st->ifaces[st->nifaces].ifindex = idx;
	memcpy(st->ifaces[st->nifaces++].name, buf, n + 1);
	return 0;
}

/* Every interface of this network namespace (the first NET_IFACES_MAX). */
static int all_ifaces(struct net_state *st, char *err, size_t len)
{
	struct if_nameindex *all = if_nameindex();

	if (!all) {
		snprintf(err, len, "cannot list the interfaces: %s", strerror(errno));
		return -1;
	}
	for (struct if_nameindex *i = all; i->if_index && st->nifaces < NET_IFACES_MAX; i++) {
		st->ifaces[st->nifaces].ifindex = i->if_index;
		snprintf(st->ifaces[st->nifaces++].name, IF_NAMESIZE, "%s", i->if_name);
	}
	if_freenameindex(all);
	return 0;
}

static int parse_ifaces(struct net_state *st, char *err, size_t len)
{
	const char *s = st->ifaces_arg;

	if (!s)
		return all_ifaces(st, err, len);
	while (s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		if (add_iface(st, s, n, err, len))
			return -1;
		s = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int net_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct net_state *st = state;
	char why[256];

	if (common->pid || common->tid || common->uid != KS_UNSET || common->comm) {
		snprintf(err, len, "-p, -t, -u and -n do not apply: packets at TC and cgroup_skb "
			 "belong to no task (use --cgroup)");
		return -1;
	}
	if (st->addr) {
		memset(st->addr_bin, 0, sizeof(st->addr_bin));
		if (inet_pton(AF_INET, st->addr, st->addr_bin) == 1)
			st->addr_family = NET_F_IPV4;
		else if (inet_pton(AF_INET6, st->addr, st->addr_bin) == 1)
			st->addr_family = NET_F_IPV6;
		else {
			snprintf(err, len, "--addr: '%s' is not an IPv4 or IPv6 address", st->addr);
			return -1;
		}
	}
	if (st->payload && !st->port) {
		snprintf(err, len, "--payload needs --port: whose packets to keep");
		return -1;
	}
	if (st->ifaces_arg && st->by == NET_BY_CGROUP) {
		snprintf(err, len, "-i and --by cgroup exclude each other");
		return -1;
	}
	if (st->per_cgroup && st->by == NET_BY_IFACE) {
		snprintf(err, len, "-P counts remote ends per cgroup: not with --by interface");
		return -1;
	}
	if (net_by_iface(st) && parse_ifaces(st, err, len))
		return -1;
	if (net_by_cgroup(st)) {
		int e = common->cgroup ? ks_cgroup2_path(common->cgroup, st->cgroup,
							  sizeof(st->cgroup), why, sizeof(why))
				       : ks_cgroup2_root(st->cgroup, sizeof(st->cgroup));

		if (e && common->cgroup) {
			snprintf(err, len, "--cgroup: %s", why);
			return -1;
		}
		if (e && st->by == NET_BY_CGROUP) {
			snprintf(err, len, "--by cgroup: no cgroup v2 hierarchy is mounted");
			return -1;
		}
		if (e) {	/* both by default: the interfaces alone, said once */
			fprintf(stderr, "net: no cgroup v2 hierarchy mounted: counting per "
					"interface only\n");
			st->by = NET_BY_IFACE;
		}
	}
	return 0;
}

static void net_agent_defaults(void *state)
{
	struct net_state *st = state;

	st->agent = true;
	st->by = NET_BY_CGROUP;
}

static bool net_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct net_state *st = state;

	return slot == &net_slots[0] ? net_by_iface(st) : net_by_cgroup(st);
}

static int net_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct net_bpf *skel = vskel;
	struct net_state *st = state;

	skel->rodata->net_port = st->port;
	skel->rodata->net_addr_family = st->addr_family;
	memcpy((void *)skel->rodata->net_addr, st->addr_bin, sizeof(st->addr_bin));
	/* remote ends and payloads from one view only, or each packet counts twice */
	skel->rodata->net_remote_via =
		st->per_cgroup || !net_by_iface(st) ? NET_VIA_CGROUP : NET_VIA_IFACE;
	skel->rodata->net_remote_cgroup = st->per_cgroup;
	skel->rodata->net_payload_via = net_by_iface(st) ? NET_VIA_IFACE : NET_VIA_CGROUP;
	skel->rodata->net_payload_cap = st->payload;
	if (!st->payload)
		bpf_map__set_max_entries(skel->maps.net_payload, 1);
	if (st->agent) {	/* per service only: no remote ends */
		skel->rodata->net_remotes_on = false;
		bpf_map__set_max_entries(skel->maps.net_remotes, 1);
	}
	return 0;
}

/* Bytes of link header before the IP header: Ethernet and the loopback have 14, devices
 * of other types (tun, WireGuard, IP tunnels) hand TC the IP packet. */
static uint32_t l2_len(const char *ifname)
{
	char path[64];
	unsigned int type = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", ifname);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &type) != 1)
			type = 1;
		fclose(f);
	}
	return type == 1 || type == 772 ? 14 : 0;	/* ARPHRD_ETHER, ARPHRD_LOOPBACK */
}

static int net_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct net_bpf *skel = vskel;
	struct net_state *st = state;
	int err = 0;

	if (net_by_iface(st)) {
		for (int i = 0; i < st->nifaces && !err; i++) {
			uint32_t idx = st->ifaces[i].ifindex, l2 = l2_len(st->ifaces[i].name);

			bpf_map_update_elem(bpf_map__fd(skel->maps.net_l2), &idx, &l2, BPF_ANY);
			err = ks_attach_tc(ctx, skel->progs.net__tc_in, st->ifaces[i].name,
					   KS_TC_INGRESS, st->tc_mode) ?:
			      ks_attach_tc(ctx, skel->progs.net__tc_out, st->ifaces[i].name,
					   KS_TC_EGRESS, st->tc_mode);
		}
	}
	if (!err && net_by_cgroup(st)) {
		if (!st->cgroup[0] && ks_cgroup2_root(st->cgroup, sizeof(st->cgroup)))
			snprintf(st->cgroup, sizeof(st->cgroup), "/sys/fs/cgroup");
		err = ks_attach_cgroup(ctx, skel->progs.net__cg_in, st->cgroup) ?:
		      ks_attach_cgroup(ctx, skel->progs.net__cg_out, st->cgroup);
	}
	return err;
}

static void net_started(struct ks_ctx *ctx, void *state)
{
	net_rows_started(ctx, state);
}

static void net_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	net_rows_report(ctx, state, vskel);
	if (((struct net_state *)state)->payload)
		net_payload_report(ctx, state, vskel);
}

static void net_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	net_rows_collect(ctx, state, vskel);
}

static int net_init(struct ks_ctx *ctx, void *state)
{
	struct net_state *st = state;

	st->m_pkts = ks_ctx_metric(ctx, &net_pkts_desc);
	st->m_bytes = ks_ctx_metric(ctx, &net_bytes_desc);
	st->m_where = ks_ctx_metric(ctx, &net_where_desc);
	return st->m_pkts && st->m_bytes && st->m_where ? 0 : -errno;
}

/* The agent's line: packets and bytes per second each way, the busiest services. */
static void net_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct net_state *st = state;
	uint64_t pk[2] = { 0, 0 }, by[2] = { 0, 0 };
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	/* the overflow series has no labels: counted as "in" (its budget is ample) */
	for (const struct ks_series *s = ks_series_first(st->m_pkts); s; s = ks_series_next(s))
		pk[s->label[1] && !strcmp(s->label[1], "out")] += ks_counter_delta(s);
	for (const struct ks_series *s = ks_series_first(st->m_bytes); s; s = ks_series_next(s))
		by[s->label[1] && !strcmp(s->label[1], "out")] += ks_counter_delta(s);
	ks_rec_summary(&r, "net");
	ks_rec_rate(&r, "in_packets_per_s", "in", pk[0], secs);
	ks_rec_add(&r, "in_per_s", NULL, 0, KS_V_BYTE_RATE)->d = secs > 0 ? by[0] / secs : 0;
	ks_rec_rate(&r, "out_packets_per_s", "out", pk[1], secs);
	ks_rec_add(&r, "out_per_s", NULL, 0, KS_V_BYTE_RATE)->d = secs > 0 ? by[1] / secs : 0;
	ks_rec_uint(&r, "in_packets", NULL, 0, pk[0]);
	ks_rec_uint(&r, "in_bytes", NULL, 0, by[0]);
	ks_rec_uint(&r, "out_packets", NULL, 0, pk[1]);
	ks_rec_uint(&r, "out_bytes", NULL, 0, by[1]);
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_where, 0);
	ks_emit(ctx, &r);
}

static void net_fini(void *state)
{
	net_rows_free(state);
}

KS_BPF_OBJECT(net);

const struct ks_module net_module = {
	.name = "net",
	.id = KS_MOD_net,
	.bpf = &net_bpf_obj,
	.brief = "Traffic by direction, protocol, size and remote end, per interface and cgroup",
	.usage = "  ksight net                          # every interface and cgroup, at Ctrl-C\n"
		 "  ksight net 5 3                      # what changed, every 5 s, 3 times\n"
		 "  ksight net -i eth0,lo --by interface  # TC on these two interfaces only\n"
		 "  ksight net --by cgroup -P            # per service, remote ends per service\n"
		 "  ksight net --cgroup system.slice    # the cgroup view below system.slice\n"
		 "  ksight net --port 443 --addr 10.0.0.5  # only packets of that end\n"
		 "  ksight net --port 6379 --payload 64 # the first 64 bytes of Redis packets\n"
		 "  ksight net --json                   # the same as JSON lines\n",
	.opts = net_opts,
	.state_size = sizeof(struct net_state),
	.defaults = &net_defaults,
	.positional = true,
	.slots = net_slots,
	.types = net_types,
	.configure = net_configure,
	.want_slot = net_want_slot,
	.agent_defaults = net_agent_defaults,
	.init = net_init,
	.setup = net_setup,
	.attach = net_attach,
	.started = net_started,
	.report = net_report,
	.collect = net_collect,
	.summary = net_summary,
	.fini = net_fini,
};
