// SPDX-License-Identifier: GPL-2.0
/*
 * drops: `ksight drops`, packets the kernel dropped, counted in the kernel per (reason,
 * interface, protocol, owner of the packet's socket) from skb:kfree_skb (bpf/drops.bpf.c),
 * and printed each interval busiest first with the reasons named as the running kernel
 * names them (its BTF). The agent counts them in ksight_drops_total.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drops.skel.h"
#include "modules/drops_int.h"

static const struct ks_opt drops_opts[] = {
	{ "interface", 'i', KS_OPT_STR, offsetof(struct drops_state, iface), "IFACE",
	  "only packets on this interface (in --netns, else in ksight's namespace)", 0, 64 },
	{ "netns", 0, KS_OPT_STR, offsetof(struct drops_state, netns), "NS",
	  "only this network namespace: a name (ip netns), a path, or a PID's", 0, 256 },
	{ "reason", 0, KS_OPT_STR, offsetof(struct drops_state, reason), "NAME",
	  "only this drop reason (NO_SOCKET, NETFILTER_DROP, ...; as the kernel names them)",
	  0, 96 },
	{ "top", 0, KS_OPT_UINT, offsetof(struct drops_state, top), "N",
	  "rows per report, busiest first; the rest in one (other) row (default 20, 0: all)", 0,
	  1000000 },
	{ 0 },
};

static const struct drops_state drops_defaults = { .top = 20 };

static const struct ks_slot drops_slots[] = {
	{
		.name = "see dropped packets",
		.alts = {
			{ KS_FAM_TP_BTF, { { "drops__kfree_btf", "kfree_skb" } } },
			{ KS_FAM_RAW_TP, { { "drops__kfree_raw", "kfree_skb" } } },
			{ KS_FAM_TP, { { "drops__kfree_tp", "skb/kfree_skb" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype drops_types[] = {
	{ DROPS_EV_ROW, "drops", true },
	{ 0 },
};

static const struct ks_metric_desc drops_desc = {
	.name = "ksight_drops_total",
	.help = "Packets the kernel dropped, by reason, interface and protocol",
	.type = KS_METRIC_COUNTER,
	.labels = { "reason", "interface", "protocol" },
	.budget = 256,
	.idle = 60,
};

static int load_reasons(struct drops_state *st, struct btf *btf)
{
	int err;

	if (st->reasons_loaded)
		return 0;
	err = drops_reasons_load(&st->reasons, btf);
	st->reasons_loaded = !err;
	return err;
}

static int configure_reason(struct drops_state *st, char *err, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf) {
		snprintf(err, len, "--reason: cannot read the kernel's BTF to name the reasons");
		return -1;
	}
	if (load_reasons(st, btf)) {
		btf__free(btf);
		snprintf(err, len, "--reason: out of memory");
		return -1;
	}
	btf__free(btf);
	if (!st->reasons.known) {
		snprintf(err, len, "--reason: this kernel's drops carry no reason "
				   "(skb:kfree_skb has none before 5.17)");
		return -1;
	}
	if (drops_reason_value(&st->reasons, st->reason, &st->reason_val)) {
		snprintf(err, len, "--reason: this kernel has no drop reason '%s' "
				   "(NO_SOCKET, NETFILTER_DROP, ...)", st->reason);
		return -1;
	}
	return 0;
}

static int drops_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct drops_state *st = state;
	char nspath[300];

	if (common->tid || common->uid != KS_UNSET || common->comm || common->cgroup) {
		snprintf(err, len, "a dropped packet has no task: -t, -u, -n and --cgroup do not "
				   "apply (-p PID: the packets of PID's sockets)");
		return -1;
	}
	st->pid = common->pid;
	st->self_ns = drops_self_netns();
	if (st->netns && drops_netns_resolve(st->netns, nspath, sizeof(nspath), &st->netns_ino,
					     err, len))
		return -1;
	if (st->iface) {
		if (drops_ifindex(st->netns ? nspath : NULL, st->iface, &st->ifindex, err, len))
			return -1;
		if (!st->netns)
			st->netns_ino = st->self_ns;
	}
	if (st->reason && configure_reason(st, err, len)) {
		drops_reasons_free(&st->reasons);
		st->reasons_loaded = false;
		return -1;
	}
	return 0;
}

/* The kfree_skb tracepoint's arguments after its (void *__data): (skb, location) until
 * 5.16, then the reason (5.17), then the receiving socket (6.11). 0 without BTF. */
static int kfree_skb_args(struct btf *btf)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);
	if (id < 0)
		return 0;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);	/* pointer */
	if (!t || !btf_is_ptr(t))
		return 0;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : 0;
}

static int drops_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct drops_bpf *skel = vskel;
	struct drops_state *st = state;
	struct btf *btf = ks_ctx_btf(ctx);
	int nargs = kfree_skb_args(btf);

	if (load_reasons(st, btf))
		return -ENOMEM;
	if (!st->self_ns)	/* the agent configures nothing */
		st->self_ns = drops_self_netns();
	skel->rodata->drops_reason_arg = nargs >= 3 && st->reasons.known;
	skel->rodata->drops_rx_sk_arg = nargs >= 4;
	skel->rodata->drops_want_reason = st->reason != NULL;
	skel->rodata->drops_reason = st->reason_val;
	skel->rodata->drops_ifindex = st->ifindex;
	skel->rodata->drops_netns = st->netns_ino;
	skel->rodata->drops_pid_socks = st->pid != 0;
	if (!st->pid)
		bpf_map__set_max_entries(skel->maps.drops_socks, 1);
	st->skel = skel;
	return 0;
}

/* -p: the process's sockets, at start and at every report (sockets it opens later are
 * seen from the next interval on). */
static void drops_started(struct ks_ctx *ctx, void *state)
{
	struct drops_state *st = state;
	struct drops_bpf *skel = st->skel;

	if (st->pid && skel)
		drops_pid_sockets(st->pid, skel->maps.drops_socks);
}

static void drops_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct drops_bpf *skel = vskel;
	struct drops_state *st = state;

	if (st->pid)
		drops_pid_sockets(st->pid, skel->maps.drops_socks);
	drops_report_rows(ctx, st, skel->maps.drops_rows);
}

/* Agent: the kernel's rows since the last interval into the registry. */
static void drops_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	drops_collect_rows(ctx, state, ((struct drops_bpf *)vskel)->maps.drops_rows);
}

static int drops_init(struct ks_ctx *ctx, void *state)
{
	struct drops_state *st = state;

	st->m_drops = ks_ctx_metric(ctx, &drops_desc);
	return st->m_drops ? 0 : -errno;
}

/* `ksight status`: whether this kernel names its drops. */
static void drops_status(struct ks_ctx *ctx, char *buf, size_t len)
{
	struct btf *btf = ks_ctx_btf(ctx);
	int nargs = kfree_skb_args(btf);

	if (btf && btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM) >= 0 &&
	    nargs >= 3)
		snprintf(buf, len, "drop reasons: named from this kernel's BTF%s",
			 nargs >= 4 ? "; owner also from the receiving socket" : "");
	else
		snprintf(buf, len, "drop reasons: none (skb:kfree_skb has no reason before 5.17): "
				   "every kfree_skb() is counted as 'unknown', some are no drops");
}

static void drops_fini(void *state)
{
	struct drops_state *st = state;

	drops_reasons_free(&st->reasons);
	st->reasons_loaded = false;
	free(st->prev);
	st->prev = NULL;
	st->nprev = 0;
}

KS_BPF_OBJECT(drops);

const struct ks_module drops_module = {
	.name = "drops",
	.id = KS_MOD_drops,
	.bpf = &drops_bpf_obj,
	.brief = "packets the kernel dropped: by reason, interface, protocol and socket owner",
	.usage = "  ksight drops                         # every drop, a table at Ctrl-C\n"
		 "  ksight drops 1 10                    # every second, 10 times\n"
		 "  ksight drops -i eth0 --reason NO_SOCKET --json\n"
		 "  ksight drops --netns blue -i veth1   # an interface of namespace 'blue'\n"
		 "  ksight drops -p 1234 5               # packets of process 1234's sockets\n"
		 "  ksight drops --top 0 --duration 10   # every row, after 10 s\n",
	.opts = drops_opts,
	.state_size = sizeof(struct drops_state),
	.defaults = &drops_defaults,
	.positional = true,
	.slots = drops_slots,
	.types = drops_types,
	.configure = drops_configure,
	.init = drops_init,
	.setup = drops_setup,
	.started = drops_started,
	.report = drops_report,
	.collect = drops_collect,
	.summary = drops_summary,
	.status = drops_status,
	.fini = drops_fini,
};
