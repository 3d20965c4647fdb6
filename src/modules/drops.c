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
#include <sys/types.h>

#include "core/ident.h"
#include "core/maps.h"
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

/* The kernel's rows since the last call, into @out (sorted busiest first); the totals kept
 * for the next. Returns how many, or -1 (out of memory). */
static ssize_t take_delta(struct ks_ctx *ctx, struct drops_state *st, struct drops_row **out)
{
	struct drops_bpf *skel = st->skel;
	struct drops_key *keys = calloc(DROPS_ROWS, sizeof(*keys));
	struct drops_val *vals = calloc(DROPS_ROWS, sizeof(*vals));
	struct drops_row *rows = calloc(DROPS_ROWS, sizeof(*rows));
	struct drops_row *delta = calloc(DROPS_ROWS, sizeof(*delta));
	uint64_t total = 0;
	ssize_t nd = -1;
	size_t n;

	if (!keys || !vals || !rows || !delta)
		goto out;
	n = ks_map_dump(skel->maps.drops_rows, keys, vals, DROPS_ROWS);
	for (size_t i = 0; i < n; i++) {
		rows[i].k = keys[i];
		rows[i].v = vals[i];
		total += vals[i].count;
	}
	ks_ctx_aggregated(ctx, DROPS_EV_ROW, total);
	qsort(rows, n, sizeof(*rows), drops_row_cmp_key);
	nd = drops_rows_delta(rows, n, st->prev, st->nprev, delta);
	free(st->prev);
	st->prev = rows;
	st->nprev = n;
	rows = NULL;
	qsort(delta, nd, sizeof(*delta), drops_row_cmp_count);
	*out = delta;
	delta = NULL;
out:
	free(delta);
	free(rows);
	free(vals);
	free(keys);
	return nd;
}

/* "IPv4/UDP", "ARP", "-". */
static const char *proto_str(const struct drops_key *k, char *buf, size_t len)
{
	char pb[16], lb[8];
	const char *p = drops_proto_name(k->proto, pb, sizeof(pb));
	const char *l = drops_l4_name(k->l4, lb, sizeof(lb));

	snprintf(buf, len, "%s%s%s", p, l[0] ? "/" : "", l);
	return buf;
}

/* The owner of the packet's socket: its cgroup's service, else the cgroup's path; "-":
 * no socket. */
static const char *owner_str(struct ks_ctx *ctx, const struct drops_key *k, char *buf,
			     size_t len)
{
	struct ks_ident *id = ks_ctx_ident(ctx);
	const char *s;

	if (!(k->flags & DROPS_K_SOCK))
		return "-";
	if (!k->cgroup)
		return "?";
	s = ks_ident__cgroup_service(id, k->cgroup);
	if (!s)
		s = ks_ident__cgroup_path(id, k->cgroup);
	if (s)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "cgroup:%llu", (unsigned long long)k->cgroup);
	return buf;
}

void drops_emit_row(struct ks_ctx *ctx, const struct drops_state *st,
		    const struct drops_row *d, bool other)
{
	char rb[64], pb[32], ob[256], nb[300], pr[16], lb[8];
	const char *reason = other ? "(other)" : drops_reason_name(&st->reasons, d->k.reason,
								  rb, sizeof(rb));
	const char *ifname = d->v.ifname[0] ? d->v.ifname : "-";
	const char *ns = drops_netns_name(d->k.netns, st->self_ns, nb, sizeof(nb));
	const char *proto = proto_str(&d->k, pb, sizeof(pb));
	const char *owner = owner_str(ctx, &d->k, ob, sizeof(ob));
	struct ks_rec r;

	ks_rec_init(&r, "drops", NULL);
	ks_rec_str(&r, "reason", "REASON", -22, reason, strlen(reason));
	if (!other) {
		ks_rec_kstr(&r, "interface", "IFACE", -15, ifname, strnlen(ifname, 16), false);
		ks_rec_uint(&r, "ifindex", NULL, 0, d->k.ifindex);
		ks_rec_str(&r, NULL, "NETNS", -12, ns[0] ? ns : "-", ns[0] ? strlen(ns) : 1);
		ks_rec_uint(&r, "netns", NULL, 0, d->k.netns);
		if (ns[0])
			ks_rec_str(&r, "netns_name", NULL, 0, ns, strlen(ns));
		ks_rec_str(&r, NULL, "PROTO", -10, proto, strlen(proto));
		proto = drops_proto_name(d->k.proto, pr, sizeof(pr));
		ks_rec_str(&r, "protocol", NULL, 0, proto, strlen(proto));
		proto = drops_l4_name(d->k.l4, lb, sizeof(lb));
		if (proto[0])
			ks_rec_str(&r, "l4", NULL, 0, proto, strlen(proto));
		ks_rec_str(&r, "owner", "OWNER", -20, owner, strlen(owner));
		if (d->k.flags & DROPS_K_SOCK)
			ks_rec_uint(&r, "cgroup", NULL, 0, d->k.cgroup);
	} else {	/* the table keeps its columns; JSON has the counts alone */
		ks_rec_str(&r, NULL, "IFACE", -15, "", 0);
		ks_rec_str(&r, NULL, "NETNS", -12, "", 0);
		ks_rec_str(&r, NULL, "PROTO", -10, "", 0);
		ks_rec_str(&r, NULL, "OWNER", -20, "", 0);
	}
	ks_rec_add(&r, "count", "DROPS", 8, KS_V_COUNT)->u = d->v.count;
	ks_rec_add(&r, "bytes", "BYTES", 10, KS_V_BYTES)->u = d->v.bytes;
	ks_emit(ctx, &r);
}

static void drops_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct drops_state *st = state;
	struct drops_row *d = NULL, other = {};
	ssize_t n;

	if (st->pid)
		drops_pid_sockets(st->pid, ((struct drops_bpf *)vskel)->maps.drops_socks);
	n = take_delta(ctx, st, &d);
	for (ssize_t i = 0; i < n; i++) {
		if (!st->top || (uint64_t)i < st->top) {
			drops_emit_row(ctx, st, &d[i], false);
			continue;
		}
		other.v.count += d[i].v.count;
		other.v.bytes += d[i].v.bytes;
	}
	if (other.v.count)
		drops_emit_row(ctx, st, &other, true);
	free(d);
}

static int drops_init(struct ks_ctx *ctx, void *state)
{
	struct drops_state *st = state;

	st->m_drops = ks_ctx_metric(ctx, &drops_desc);
	return st->m_drops ? 0 : -errno;
}

/* This interval's drops of reason @reason, among the busiest few (the last slot: the
 * others). */
static void tally_reason(struct drops_state *st, uint32_t reason, uint64_t n)
{
	size_t i;

	st->ival_total += n;
	for (i = 0; i < st->ival_n; i++)
		if (st->ival_reason[i] == reason)
			break;
	if (i == st->ival_n) {
		if (st->ival_n == DROPS_TOP_REASONS) {
			st->ival_count[DROPS_TOP_REASONS] += n;
			return;
		}
		st->ival_n++;
		st->ival_reason[i] = reason;
		st->ival_count[i] = 0;
	}
	st->ival_count[i] += n;
}

/* Agent: the kernel's rows since the last interval into the registry. */
static void drops_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct drops_state *st = state;
	struct drops_row *d = NULL;
	ssize_t n = take_delta(ctx, st, &d);

	st->ival_total = 0;
	st->ival_n = 0;
	st->ival_count[DROPS_TOP_REASONS] = 0;
	for (ssize_t i = 0; i < n; i++) {
		char rb[64], pb[32];
		const char *v[3] = {
			drops_reason_name(&st->reasons, d[i].k.reason, rb, sizeof(rb)),
			d[i].v.ifname[0] ? d[i].v.ifname : "-",
			proto_str(&d[i].k, pb, sizeof(pb)),
		};
		size_t len[3] = { strlen(v[0]), strnlen(v[1], DROPS_IFNAMSIZ), strlen(v[2]) };

		ks_counter_add(ks_metric_getn(st->m_drops, v, len), d[i].v.count);
		tally_reason(st, d[i].k.reason, d[i].v.count);
	}
	free(d);
}

/* The agent's line: drops per second and the interval's busiest reasons; in JSON also the
 * interval's exact count. */
static void drops_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct drops_state *st = state;
	struct ks_val vals[DROPS_TOP_REASONS + 1];
	char names[DROPS_TOP_REASONS][64];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "drops");
	ks_rec_rate(&r, "drops_per_s", "drops", st->ival_total, secs);
	ks_rec_uint(&r, "drops", NULL, 0, st->ival_total);
	ks_obj_init(&o, vals, DROPS_TOP_REASONS + 1);
	for (size_t i = 0; i < st->ival_n; i++) {
		const char *name = drops_reason_name(&st->reasons, st->ival_reason[i], names[i],
						     sizeof(names[i]));

		ks_obj_add(&o, name, NULL, 0, KS_V_COUNT)->u = st->ival_count[i];
	}
	if (st->ival_count[DROPS_TOP_REASONS])
		ks_obj_add(&o, "(other)", NULL, 0, KS_V_COUNT)->u =
			st->ival_count[DROPS_TOP_REASONS];
	ks_rec_obj(&r, "reasons", o.n ? "reasons:" : NULL, &o);
	ks_emit(ctx, &r);
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
