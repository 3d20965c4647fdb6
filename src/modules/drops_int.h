/* SPDX-License-Identifier: GPL-2.0 */
/* What the drops module's files share (drops.c: options, hooks, reports; drops_ns.c:
 * network namespaces and the sockets of -p). */
#ifndef KSIGHT_DROPS_INT_H
#define KSIGHT_DROPS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/module.h"
#include "modules/drops_fmt.h"

#define DROPS_TOP_REASONS 5

struct drops_state {
	const char *iface;	/* -i */
	const char *netns;	/* --netns */
	const char *reason;	/* --reason */
	uint64_t top;		/* --top: rows per report, 0: all */
	uint32_t pid;		/* -p: only packets of this process's sockets */
	uint32_t ifindex;	/* -i resolved */
	uint32_t netns_ino;	/* -i, --netns: the namespace's inode */
	uint32_t reason_val;	/* --reason resolved */
	uint32_t self_ns;	/* ksight's own network namespace (its rows show no name) */
	struct drops_reasons reasons;	/* the running kernel's, from its BTF */
	bool reasons_loaded;
	void *skel;		/* struct drops_bpf *, from setup on (for started) */
	/* the totals the last report (or collect) saw, sorted by key */
	struct drops_row *prev;
	size_t nprev;
	/* the agent's: every drop into the registry; this interval's top reasons */
	struct ks_metric *m_drops;
	uint64_t ival_total;
	uint32_t ival_reason[DROPS_TOP_REASONS + 1];	/* the last: every other reason */
	uint64_t ival_count[DROPS_TOP_REASONS + 1];
	size_t ival_n;
};

/*
 * The inode of network namespace @spec: a PID (its namespace), a path (/run/netns/x,
 * /proc/1/ns/net) or a name in /run/netns. Returns 0, or -1 with one line in @err.
 */
int drops_netns_resolve(const char *spec, char *path, size_t plen, uint32_t *ino, char *err,
			size_t len);
/* The index of interface @name in the namespace at @nspath (NULL: ksight's own). Returns
 * 0, or -1 with one line in @err. */
int drops_ifindex(const char *nspath, const char *name, uint32_t *ifindex, char *err,
		  size_t len);
/* The inode of ksight's own network namespace, 0 if unknown. */
uint32_t drops_self_netns(void);
/* A name for namespace @ino: "" for @self, its name in /run/netns, else "net:[N]". */
const char *drops_netns_name(uint32_t ino, uint32_t self, char *buf, size_t len);

/* A tool's report: the rows of @map (drops_rows) since the last report, busiest first,
 * --top of them and the rest in one row. */
struct bpf_map;
void drops_report_rows(struct ks_ctx *ctx, struct drops_state *st, struct bpf_map *map);
/* The agent's: the rows of @map since the last interval into ksight_drops_total, and this
 * interval's busiest reasons for drops_summary(). */
void drops_collect_rows(struct ks_ctx *ctx, struct drops_state *st, struct bpf_map *map);
/* The agent's line, from what drops_collect_rows() saw. */
void drops_summary(struct ks_ctx *ctx, void *state, double secs);

/* One report row (@other: the rows past --top, summed) as a "drops" record. */
void drops_emit_row(struct ks_ctx *ctx, const struct drops_state *st,
		    const struct drops_row *d, bool other);

/* -p: add the sockets process @pid has open now to @map (drops_socks). Returns how many
 * it has, or -errno when its fds cannot be read. */
int drops_pid_sockets(uint32_t pid, struct bpf_map *map);

#endif
