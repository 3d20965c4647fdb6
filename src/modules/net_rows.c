// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's net tables read each interval: what changed since the previous read, as a
 * tool's records (traffic rows per interface and cgroup, the size histograms, the busiest
 * remote ends) and into the registry. The tables are never cleared: a delete could fall
 * between an update and the read that should have seen it.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/ident.h"
#include "core/rows.h"
#include "core/service.h"
#include "modules/net_int.h"
#include "net.skel.h"

static const char *const dir_names[] = { "in", "out" };
static const char *const via_names[] = { "iface", "cgroup" };

const char *net_proto_name(unsigned int proto)
{
	static const char *const names[] = { "other", "tcp", "udp", "icmp" };

	return proto < NET_P_N ? names[proto] : "?";
}

const char *net_family_name(unsigned int family)
{
	return family == NET_F_IPV4 ? "ipv4" : family == NET_F_IPV6 ? "ipv6" : "other";
}

const char *net_addr_str(unsigned int family, const uint8_t *addr, char *buf, size_t len)
{
	int af = family == NET_F_IPV4 ? AF_INET : family == NET_F_IPV6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "-");
	return buf;
}

const char *net_iface_name(const struct net_state *st, uint64_t ifindex, char *buf, size_t len)
{
	for (int i = 0; i < st->nifaces; i++)
		if (st->ifaces[i].ifindex == ifindex)
			return st->ifaces[i].name;
	snprintf(buf, len, "if%llu", (unsigned long long)ifindex);
	return buf;
}

/* A cgroup's path below the mount, "cgroup:ID" while the worker has not resolved it. */
static const char *cg_path(struct ks_ctx *ctx, uint64_t id, char *buf, size_t len)
{
	const char *p = ks_ident__cgroup_path(ks_ctx_ident(ctx), id);

	if (p)
		return p;
	snprintf(buf, len, "cgroup:%llu", (unsigned long long)id);
	return buf;
}

/* Where a traffic row was counted: an interface's name or a cgroup's service. */
static const char *where(struct ks_ctx *ctx, const struct net_state *st, const struct net_key *k,
			 char *buf, size_t len)
{
	const char *svc;

	if (k->via == NET_VIA_IFACE)
		return net_iface_name(st, k->id, buf, len);
	svc = ks_ident__cgroup_service(ks_ctx_ident(ctx), k->id);
	return svc ? svc : cg_path(ctx, k->id, buf, len);
}

static int tkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct net_key));
}

static int rkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct net_rkey));
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_traffic(void *r, const void *p)
{
	struct net_trow *d = r;
	const struct net_trow *o = p;

	if (o) {
		d->v.packets -= o->v.packets;
		d->v.bytes -= o->v.bytes;
	}
	return d->v.packets;
}

static bool sub_remote(void *r, const void *p)
{
	struct net_rrow *d = r;
	const struct net_rrow *o = p;

	if (o) {
		d->v.in_packets -= o->v.in_packets;
		d->v.in_bytes -= o->v.in_bytes;
		d->v.out_packets -= o->v.out_packets;
		d->v.out_bytes -= o->v.out_bytes;
	}
	return d->v.in_packets || d->v.out_packets;
}

/* The traffic rows that changed since the last call (a new array in *out); the totals
 * become the reference. */
static size_t traffic_deltas(struct ks_ctx *ctx, struct net_state *st, struct bpf_map *map,
			     struct net_trow **out)
{
	struct net_trow *cur, *d;
	uint64_t total = 0;
	size_t n, m;

	n = KS_MAP_ROWS(map, struct net_trow, tkey_cmp, &cur);
	*out = NULL;
	if (!cur)
		return 0;
	m = ks_rows_deltas(cur, n, st->tprev, st->ntprev, sizeof(*cur), tkey_cmp, sub_traffic,
			   (void **)&d);
	if (!d) {
		free(cur);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		total += cur[i].v.packets;
	ks_ctx_aggregated(ctx, NET_EV_TRAFFIC, total);
	free(st->tprev);
	st->tprev = cur;
	st->ntprev = n;
	*out = d;
	return m;
}

static void count_row(struct ks_ctx *ctx, struct net_state *st, const struct net_trow *r)
{
	char buf[64], proto[32];
	const char *w = where(ctx, st, &r->k, buf, sizeof(buf));
	const char *labels[3] = { w, dir_names[r->k.dir & 1], proto };
	size_t lens[3];

	snprintf(proto, sizeof(proto), "%s/%s", net_proto_name(r->k.proto),
		 net_family_name(r->k.family));
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(labels[i]);
	ks_counter_add(ks_metric_getn(st->m_pkts, labels, lens), r->v.packets);
	ks_counter_add(ks_metric_getn(st->m_bytes, labels, lens), r->v.bytes);
	ks_counter_add(ks_metric_get(st->m_where, w), r->v.bytes);
}

static void emit_row(struct ks_ctx *ctx, const struct net_state *st, const struct net_trow *row)
{
	static char buf[64], path[KS_CG_PATH_MAX];
	const char *w = where(ctx, st, &row->k, buf, sizeof(buf));
	const char *dir = dir_names[row->k.dir & 1], *via = via_names[row->k.via & 1];
	const char *fam = net_family_name(row->k.family), *proto = net_proto_name(row->k.proto);
	struct ks_rec r;

	ks_rec_init(&r, "net", NULL);
	ks_rec_str(&r, "via", "VIA", -6, via, strlen(via));
	ks_rec_str(&r, "where", "WHERE", -24, w, strlen(w));
	if (row->k.via == NET_VIA_IFACE) {
		ks_rec_uint(&r, "ifindex", NULL, 0, row->k.id);
	} else {
		const char *p = cg_path(ctx, row->k.id, path, sizeof(path));

		ks_rec_uint(&r, "cgroup", NULL, 0, row->k.id);
		ks_rec_str(&r, "cgroup_path", NULL, 0, p, strlen(p));
	}
	ks_rec_str(&r, "dir", "DIR", -3, dir, strlen(dir));
	ks_rec_str(&r, "family", "FAMILY", -6, fam, strlen(fam));
	ks_rec_str(&r, "proto", "PROTO", -5, proto, strlen(proto));
	ks_rec_add(&r, "packets", "PACKETS", 9, KS_V_COUNT)->u = row->v.packets;
	ks_rec_add(&r, "bytes", "BYTES", 10, KS_V_BYTES)->u = row->v.bytes;
	ks_emit(ctx, &r);
}

/* The size histograms: this report's counts per view and direction. */
static void sizes_report(struct ks_ctx *ctx, struct net_state *st, struct bpf_map *map, bool print)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals, d[NET_VIA_N * 2][NET_SIZE_SLOTS] = { { 0 } };

	if (ncpu <= 0 || !(vals = calloc(ncpu, sizeof(*vals))))
		return;
	for (uint32_t k = 0; k < NET_VIA_N * 2 * NET_SIZE_SLOTS; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(map), &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		d[k / NET_SIZE_SLOTS][k % NET_SIZE_SLOTS] = sum - st->sizes_prev[k];
		st->sizes_prev[k] = sum;
	}
	free(vals);
	for (int h = 0; print && h < NET_VIA_N * 2; h++) {
		const struct ks_histv hv = { .slots = d[h], .nslots = NET_SIZE_SLOTS,
					     .unit = "bytes", .unit_ns = 0 };
		const char *via = via_names[h / 2], *dir = dir_names[h % 2];
		uint64_t count = 0;
		struct ks_rec r;

		for (int i = 0; i < NET_SIZE_SLOTS; i++)
			count += d[h][i];
		if (!count)
			continue;
		ks_rec_init(&r, "net_sizes", NULL);
		r.style = KS_REC_BLOCK;
		ks_rec_str(&r, "via", "via", 0, via, strlen(via));
		ks_rec_str(&r, "dir", "dir", 0, dir, strlen(dir));
		ks_rec_add(&r, "hist", "packet sizes", 0, KS_V_HIST)->h = &hv;
		ks_emit(ctx, &r);
	}
}

static uint64_t rbytes(const struct net_rrow *r)
{
	return r->v.in_bytes + r->v.out_bytes;
}

static int by_rbytes(const void *a, const void *b)
{
	const struct net_rrow *x = a, *y = b;

	if (rbytes(x) != rbytes(y))
		return rbytes(x) > rbytes(y) ? -1 : 1;
	return rkey_cmp(a, b);
}

static void emit_remote(struct ks_ctx *ctx, const struct net_state *st, const struct net_rrow *row)
{
	static char addr[64], buf[64];
	const char *fam = net_family_name(row->k.family), *proto = net_proto_name(row->k.proto);
	struct ks_rec r;

	net_addr_str(row->k.family, row->k.raddr, addr, sizeof(addr));
	ks_rec_init(&r, "net_remote", NULL);
	if (st->per_cgroup) {
		const char *svc = ks_ident__cgroup_service(ks_ctx_ident(ctx), row->k.cgroup);

		if (!svc)
			svc = cg_path(ctx, row->k.cgroup, buf, sizeof(buf));
		ks_rec_uint(&r, "cgroup", NULL, 0, row->k.cgroup);
		ks_rec_str(&r, "where", "WHERE", -24, svc, strlen(svc));
	}
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	ks_rec_str(&r, "proto", "PROTO", -5, proto, strlen(proto));
	ks_rec_str(&r, "raddr", "RADDR", -39, addr, strlen(addr));
	ks_rec_uint(&r, "rport", "RPORT", 5, row->k.rport);
	ks_rec_uint(&r, "lport", "LPORT", 5, row->k.lport);
	ks_rec_add(&r, "in_packets", "IN_PKTS", 8, KS_V_COUNT)->u = row->v.in_packets;
	ks_rec_add(&r, "in_bytes", "IN_BYTES", 10, KS_V_BYTES)->u = row->v.in_bytes;
	ks_rec_add(&r, "out_packets", "OUT_PKTS", 8, KS_V_COUNT)->u = row->v.out_packets;
	ks_rec_add(&r, "out_bytes", "OUT_BYTES", 10, KS_V_BYTES)->u = row->v.out_bytes;
	ks_emit(ctx, &r);
}

/* The remote ends that changed, the busiest st->top of them printed. */
static void remotes_report(struct ks_ctx *ctx, struct net_state *st, struct bpf_map *map,
			   bool print)
{
	struct net_rrow *cur, *d;
	uint64_t total = 0;
	size_t n, m;

	n = KS_MAP_ROWS(map, struct net_rrow, rkey_cmp, &cur);
	if (!cur)
		return;
	m = ks_rows_deltas(cur, n, st->rprev, st->nrprev, sizeof(*cur), rkey_cmp, sub_remote,
			   (void **)&d);
	if (!d) {
		free(cur);
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += cur[i].v.in_packets + cur[i].v.out_packets;
	ks_ctx_aggregated(ctx, NET_EV_REMOTE, total);
	free(st->rprev);
	st->rprev = cur;
	st->nrprev = n;
	qsort(d, m, sizeof(*d), by_rbytes);
	for (size_t i = 0; print && i < m && i < st->top; i++)
		emit_remote(ctx, st, &d[i]);
	free(d);
}

static int by_where(const void *a, const void *b)
{
	const struct net_trow *x = a, *y = b;

	if (x->k.via != y->k.via)
		return x->k.via < y->k.via ? -1 : 1;
	if (x->k.id != y->k.id)
		return x->k.id < y->k.id ? -1 : 1;
	return tkey_cmp(a, b);
}

static void rows_pass(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel, bool print)
{
	struct net_trow *d;
	size_t n = traffic_deltas(ctx, st, skel->maps.net_traffic, &d);

	if (n)
		qsort(d, n, sizeof(*d), by_where);
	for (size_t i = 0; i < n; i++) {
		count_row(ctx, st, &d[i]);
		if (print)
			emit_row(ctx, st, &d[i]);
	}
	free(d);
	if (!st->agent) {
		sizes_report(ctx, st, skel->maps.net_sizes, print);
		remotes_report(ctx, st, skel->maps.net_remotes, print);
	}
}

void net_rows_report(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel)
{
	rows_pass(ctx, st, skel, true);
}

void net_rows_collect(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel)
{
	rows_pass(ctx, st, skel, false);
}

static void queue_cgroup(void *arg, uint64_t id, const char *path)
{
	(void)path;
	ks_ident__cgroup_path(arg, id);
}

void net_rows_started(struct ks_ctx *ctx, struct net_state *st)
{
	struct ks_cgfs fs;

	if (!net_by_cgroup(st) || ks_cgfs__open(&fs, "/proc"))
		return;
	ks_cgfs__walk(&fs, 512, queue_cgroup, ks_ctx_ident(ctx));
	ks_cgfs__close(&fs);
}

void net_rows_free(struct net_state *st)
{
	free(st->tprev);
	st->tprev = NULL;
	st->ntprev = 0;
	free(st->rprev);
	st->rprev = NULL;
	st->nrprev = 0;
}
