/* SPDX-License-Identifier: GPL-2.0 */
/* What svcmap.c (ends, listeners, pairing) and svcmap_graph.c (nodes, edges) share. */
#ifndef KSIGHT_SVCMAP_INT_H
#define KSIGHT_SVCMAP_INT_H

#include "core/svcmap.h"

/* A listener: a server end's (address, port) and its service (NULL: unknown). */
struct listener {
	const char *addr, *service;
	uint16_t port;
};

/* The listener at (@addr, @port) among @l[0..n) (sorted), or NULL; one whose service is
 * known comes first. */
const struct listener *svcmap_lis_find(const struct listener *l, size_t n, const char *addr,
				       uint16_t port);

/* One end as a connection's four-tuple, for pairing (svcmap.c). */
struct endref {
	const struct ks_svcmap_conn *c;
	const char *caddr, *saddr;	/* the client's end, the server's */
	uint16_t cport, sport;
	int64_t t;		/* start, else end */
	long pair;		/* index into the refs of its other end, -1: none */
};

/* SNAT in a client's own namespace (svcmap_nat.c): each server end of @refs[0..n) that
 * did not know it (its own namespace did no SNAT) and whose client is the source a client
 * end of @refs was given takes that client's own end as its client's, so that the two
 * pair. 0 or -ENOMEM. */
int svcmap_snat_refs(struct endref *refs, size_t n);

/* A DNAT the window's ends knew (svcmap_nat.c): the endpoint a client asked for, and the
 * real server the connection went to. */
struct svcmap_dnat {
	const char *asked, *real;
	uint16_t aport, rport;
};

/* Every distinct DNAT of @m's ends, sorted, into *@out (the caller frees it; strings are
 * @m's), *@n of them. 0 or -ENOMEM. */
int svcmap_dnat_table(const struct ks_svcmap *m, struct svcmap_dnat **out, size_t *n);

/* The one real server the asked-for (@addr, @port) went to in @t[0..n), or NULL: none,
 * or more than one (*@many set: a service address balanced over several servers). */
const struct svcmap_dnat *svcmap_dnat_find(const struct svcmap_dnat *t, size_t n,
					   const char *addr, uint16_t port, bool *many);

/* Grow *@p (of *@cap elements of @size) to hold more than @n. False when out of memory. */
bool svcmap_grow(void **p, size_t *cap, size_t n, size_t size);

/* A table of indices + 1 by name (nodes) or by (client, server, port) (edges). */
struct svcmap_table {
	size_t *slot;
	size_t cap;
};

struct svcmap_build {
	struct ks_svcmap *m;
	struct svcmap_table nt, et;
};

/* One connection into @b's nodes and edges: its client end @c and server end @s (either
 * may be NULL), the listeners @lis[0..nlis) resolving what is missing. 0 or -ENOMEM. */
int svcmap_account(struct svcmap_build *b, const struct ks_svcmap_conn *c,
		   const struct ks_svcmap_conn *s, const struct listener *lis, size_t nlis);

/* One exec into @b's spawn edges (none when its two services are one, or one is not
 * known). 0 or -ENOMEM. */
int svcmap_spawn(struct svcmap_build *b, const struct ks_svcmap_exec *x);

/* One UDP end over the window: the rows of one (service, local port, remote end). */
struct svcmap_uend {
	const char *service, *raddr;
	uint16_t lport, rport;
	bool bound, rx_first;
	uint64_t txd, txb, rxd, rxb;
	int64_t first, last;
	const char *rdns;	/* the latest row's DNS name of raddr, NULL: none */
	int64_t rdns_ns;
	long pair;		/* the other end's index, -1: none */
};

/* One UDP flow into @b's edges: its client end @c and server end @s (one may be NULL).
 * 0 or -ENOMEM. */
int svcmap_udp_account(struct svcmap_build *b, const struct svcmap_uend *c,
		       const struct svcmap_uend *s);

/* The UDP rows of @b's map summed into ends, paired, and into its edges. 0 or -ENOMEM. */
int svcmap_udp(struct svcmap_build *b);

/* @d's (a copy of an end being added) connect, RTT and duration buckets copied into @m's
 * own (@d then points to them). 0 or -ENOMEM. svcmap_hist.c. */
int svcmap_hist_keep(struct ks_svcmap *m, struct ks_svcmap_conn *d);

/* The buckets of the weighted ends of one connection onto @e: client @c's connect
 * latencies, the RTTs of @c where it has them else of server @s, the durations of the end
 * it counts by (@c, else @s); either may be NULL, not both. 0 or -ENOMEM. */
int svcmap_hist_add(struct ks_svcmap_edge *e, const struct ks_svcmap_conn *c,
		    const struct ks_svcmap_conn *s);

/* @e's connect, RTT and duration p50/p99, each over its samples (sorted) and its weighted
 * buckets together, and nconn the connect latencies' count (the samples are not read
 * again): after the samples' own percentiles, where it has buckets. */
void svcmap_hist_finish(struct ks_svcmap_edge *e);

/* @s interned in @m (each text once), or NULL when out of memory. */
const char *svcmap_intern(struct ks_svcmap *m, const char *s);

/* The edge (@c, @s, @port, @kind) of @b if there is one, else NULL (after the edges are
 * made: svcmap_graph.c). */
struct ks_svcmap_edge *svcmap_edge_find(struct svcmap_build *b, const char *c, const char *s,
					uint16_t port, enum ks_svcmap_edge_kind kind);

/* "ADDR:PORT", "[V6]:PORT", or "ADDR" when @port is 0: a remote node's name. */
void svcmap_remote_name(char *out, size_t len, const char *addr, uint16_t port);

/* The req rows of @b's map onto the TCP edges they ran on, the server of each resolved
 * through the listeners @lis[0..nlis). 0 or -ENOMEM. svcmap_req.c. */
int svcmap_req(struct svcmap_build *b, const struct listener *lis, size_t nlis);

/* @e's request latency p50/p99 from its buckets. svcmap_req.c. */
void svcmap_req_finish(struct ks_svcmap_edge *e);

/* Percentiles and loss marks of every edge; nodes by name, edges most connections first. */
void svcmap_finish(struct ks_svcmap *m);

#endif
