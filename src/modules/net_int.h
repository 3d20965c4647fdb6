/* SPDX-License-Identifier: GPL-2.0 */
/* What the net module's files share (net.c: options, hooks, attach; net_rows.c: the
 * kernel's counts as records and metrics; net_payload.c: --payload's captures). */
#ifndef KSIGHT_NET_INT_H
#define KSIGHT_NET_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "net.h"

#define NET_IFACES_MAX 64	/* interfaces one session attaches to */

struct net_iface {
	unsigned int ifindex;
	char name[IF_NAMESIZE];
};

/* One row of a table, as user space keeps it between reports. */
struct net_trow {
	struct net_key k;
	struct net_count v;
};

struct net_rrow {
	struct net_rkey k;
	struct net_rval v;
};

enum net_by { NET_BY_BOTH, NET_BY_IFACE, NET_BY_CGROUP };

struct net_state {
	const char *ifaces_arg;	/* -i IFACE[,IFACE...] */
	int by;			/* --by: enum net_by */
	int tc_mode;		/* --tc-mode: enum ks_tc_mode */
	bool per_cgroup;	/* -P: remote ends per cgroup */
	uint64_t port;		/* --port, 0: any */
	const char *addr;	/* --addr */
	uint8_t addr_bin[16];
	unsigned int addr_family;	/* NET_F_*, 0: no --addr */
	uint64_t payload;	/* --payload N, 0: off */
	uint64_t top;		/* --top N remote ends per report */
	bool agent;
	struct net_iface ifaces[NET_IFACES_MAX];	/* where TC programs go */
	int nifaces;
	char cgroup[512];	/* where the cgroup_skb programs go */
	/* the kernel's totals at the previous report or collect, sorted by key */
	struct net_trow *tprev;
	size_t ntprev;
	struct net_rrow *rprev;
	size_t nrprev;
	uint64_t sizes_prev[NET_VIA_N * 2 * NET_SIZE_SLOTS];
	uint64_t payload_seen;	/* the last capture shown */
	/* the registry: per interface / service, direction, protocol */
	struct ks_metric *m_pkts, *m_bytes, *m_where;
};

extern const struct ks_module net_module;

/* Whether the interface view (TC) and the cgroup view (cgroup_skb) run. */
static inline bool net_by_iface(const struct net_state *st)
{
	return st->by != NET_BY_CGROUP;
}

static inline bool net_by_cgroup(const struct net_state *st)
{
	return st->by != NET_BY_IFACE;
}

struct net_bpf;

/* Tools: what the kernel counted since the last report, as records (traffic rows, the
 * size histograms, the top remote ends), and into the registry. */
void net_rows_report(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel);
/* Agent: the same into the registry only. */
void net_rows_collect(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel);
/* After attach: the cgroups that exist now are looked up on the worker, so that the first
 * report names them. */
void net_rows_started(struct ks_ctx *ctx, struct net_state *st);
void net_rows_free(struct net_state *st);

/* --payload: the captures made since the last report, oldest first, as records. */
void net_payload_report(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel);

/* Names for the tables and JSON. */
const char *net_proto_name(unsigned int proto);
const char *net_family_name(unsigned int family);
/* An interface's name, by the ifindex the session attached to ("if5" if unknown). */
const char *net_iface_name(const struct net_state *st, uint64_t ifindex, char *buf, size_t len);
/* An address of family NET_F_IPV4/6 into @buf ("-" for others). */
const char *net_addr_str(unsigned int family, const uint8_t *addr, char *buf, size_t len);

/* @n bytes as lowercase hex, and as display text (printable ASCII as is, "\n", "\xff"),
 * into @out of @len bytes (hex: 2n + 1; text: 4n + 1 suffice). */
void net_hex(const uint8_t *p, size_t n, char *out, size_t len);
void net_text(const uint8_t *p, size_t n, char *out, size_t len);

#endif
