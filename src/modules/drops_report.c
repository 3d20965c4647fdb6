// SPDX-License-Identifier: GPL-2.0
/*
 * drops: what the kernel counted in drops_rows, each interval: a tool's rows since the
 * last report, busiest first (report), the agent's counters and summary (collect,
 * summary).
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/ident.h"
#include "core/maps.h"
#include "modules/drops_int.h"

/* The kernel's rows since the last call, into @out (sorted busiest first); the totals kept
 * for the next. Returns how many, or -1 (out of memory). */
static ssize_t take_delta(struct ks_ctx *ctx, struct drops_state *st, struct bpf_map *map,
			  struct drops_row **out)
{
	struct drops_key *keys = calloc(DROPS_ROWS, sizeof(*keys));
	struct drops_val *vals = calloc(DROPS_ROWS, sizeof(*vals));
	struct drops_row *rows = calloc(DROPS_ROWS, sizeof(*rows));
	struct drops_row *delta = calloc(DROPS_ROWS, sizeof(*delta));
	uint64_t total = 0;
	ssize_t nd = -1;
	size_t n;

	if (!keys || !vals || !rows || !delta)
		goto out;
	n = ks_map_dump(map, keys, vals, DROPS_ROWS);
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

void drops_report_rows(struct ks_ctx *ctx, struct drops_state *st, struct bpf_map *map)
{
	struct drops_row *d = NULL, other = {};
	ssize_t n = take_delta(ctx, st, map, &d);

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
void drops_collect_rows(struct ks_ctx *ctx, struct drops_state *st, struct bpf_map *map)
{
	struct drops_row *d = NULL;
	ssize_t n = take_delta(ctx, st, map, &d);

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
void drops_summary(struct ks_ctx *ctx, void *state, double secs)
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
