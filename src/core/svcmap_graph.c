// SPDX-License-Identifier: GPL-2.0
/* The service map's nodes and edges (svcmap.h): one connection at a time, found by name
 * through small open-addressing tables; percentiles, loss marks and order at the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/svcmap_int.h"

#define UNKNOWN "(unknown)"

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static uint64_t edge_hash(const char *c, const char *s, uint16_t port,
			  enum ks_svcmap_edge_kind kind)
{
	return (hash_str(hash_str(14695981039346656037ULL, c), s) * 31 + port) * 3 + kind;
}

/* The slot of the node @name, or of the edge (@name, @srv, @port, @kind): its own, else
 * the empty one where it goes. */
static size_t *table_find(struct svcmap_table *t, uint64_t h, struct svcmap_build *b,
			  bool nodes, const char *name, const char *srv, uint16_t port,
			  enum ks_svcmap_edge_kind kind)
{
	const struct ks_svcmap *m = b->m;

	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		size_t v = t->slot[i];
		const struct ks_svcmap_edge *e = !nodes && v ? &m->edges[v - 1] : NULL;

		if (!v)
			return &t->slot[i];
		if (nodes ? !strcmp(m->nodes[v - 1].name, name) :
			    e->port == port && e->kind == kind && !strcmp(e->client, name) &&
			    !strcmp(e->server, srv))
			return &t->slot[i];
	}
}

/* Room for one more than the @n entries there are. */
static bool table_grow(struct svcmap_table *t, size_t n, struct svcmap_build *b, bool nodes)
{
	struct svcmap_table nt;

	if (t->cap && (n + 1) * 2 < t->cap)
		return true;
	nt.cap = t->cap ? t->cap * 2 : 256;
	nt.slot = calloc(nt.cap, sizeof(*nt.slot));
	if (!nt.slot)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct ks_svcmap_node *nd = &b->m->nodes[i];
		const struct ks_svcmap_edge *e = &b->m->edges[i];
		uint64_t h = nodes ? hash_str(14695981039346656037ULL, nd->name) :
				     edge_hash(e->client, e->server, e->port, e->kind);

		*table_find(&nt, h, b, nodes, nodes ? nd->name : e->client,
			    nodes ? NULL : e->server, nodes ? 0 : e->port,
			    nodes ? KS_EDGE_TCP : e->kind) = i + 1;
	}
	free(t->slot);
	*t = nt;
	return true;
}

/* The index of the node named @name (made as @kind if new), or -1 when out of memory
 * (an index: a later node_get() may move the nodes). */
static long node_get(struct svcmap_build *b, const char *name,
				       enum ks_svcmap_kind kind)
{
	struct ks_svcmap *m = b->m;
	struct ks_svcmap_node *n;
	size_t *s;

	if (!table_grow(&b->nt, m->nnodes, b, true) ||
	    !svcmap_grow((void **)&m->nodes, &m->cap_nodes, m->nnodes, sizeof(*m->nodes)))
		return -1;
	s = table_find(&b->nt, hash_str(14695981039346656037ULL, name), b, true, name, NULL, 0,
		       KS_EDGE_TCP);
	if (*s)
		return *s - 1;
	n = &m->nodes[m->nnodes];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	if (!n->name)
		return -1;
	n->kind = kind;
	n->first_ns = INT64_MAX;
	*s = ++m->nnodes;
	return *s - 1;
}

static struct ks_svcmap_edge *edge_get(struct svcmap_build *b, const char *c, const char *s,
				       uint16_t port, enum ks_svcmap_edge_kind kind)
{
	struct ks_svcmap *m = b->m;
	struct ks_svcmap_edge *e;
	size_t *slot;

	if (!table_grow(&b->et, m->nedges, b, false) ||
	    !svcmap_grow((void **)&m->edges, &m->cap_edges, m->nedges, sizeof(*m->edges)))
		return NULL;
	slot = table_find(&b->et, edge_hash(c, s, port, kind), b, false, c, s, port, kind);
	if (*slot)
		return &m->edges[*slot - 1];
	e = &m->edges[m->nedges];
	memset(e, 0, sizeof(*e));
	e->client = c;
	e->server = s;
	e->port = port;
	e->kind = kind;
	e->first_ns = INT64_MAX;
	*slot = ++m->nedges;
	return e;
}

struct ks_svcmap_edge *svcmap_edge_find(struct svcmap_build *b, const char *c, const char *s,
					uint16_t port, enum ks_svcmap_edge_kind kind)
{
	size_t *slot;

	if (!b->et.cap)
		return NULL;	/* no edges */
	slot = table_find(&b->et, edge_hash(c, s, port, kind), b, false, c, s, port, kind);
	return *slot ? &b->m->edges[*slot - 1] : NULL;
}

static bool sample(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (!svcmap_grow((void **)v, cap, *n, sizeof(**v)))
		return false;
	(*v)[(*n)++] = x;
	return true;
}

void svcmap_remote_name(char *out, size_t len, const char *addr, uint16_t port)
{
	if (!port)
		snprintf(out, len, "%s", addr);
	else if (strchr(addr, ':'))
		snprintf(out, len, "[%s]:%u", addr, port);
	else
		snprintf(out, len, "%s:%u", addr, port);
}

/* The index of @svc's node, or with @svc NULL of the remote node at @addr (:@port when
 * not 0), or -1 when out of memory. */
static long end_node(struct svcmap_build *b, const char *svc, const char *addr, uint16_t port)
{
	char name[KS_SVCMAP_NAME];

	if (svc)
		return node_get(b, svc, KS_NODE_SERVICE);
	svcmap_remote_name(name, sizeof(name), addr, port);
	return node_get(b, name, KS_NODE_REMOTE);
}

/* Remote node @i: the DNS name @dns (NULL: none) its session or row ending at @ts gave,
 * kept when it is the latest that gave one. */
static void node_dns(struct svcmap_build *b, long i, const char *dns, int64_t ts)
{
	struct ks_svcmap_node *n = &b->m->nodes[i];

	if (dns && n->kind == KS_NODE_REMOTE && (!n->dns || ts >= n->dns_ns)) {
		n->dns = dns;
		n->dns_ns = ts;
	}
}

static void touch(struct ks_svcmap_node *n, int64_t first, int64_t last)
{
	if (first < n->first_ns)
		n->first_ns = first;
	if (last > n->last_ns)
		n->last_ns = last;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int svcmap_account(struct svcmap_build *b, const struct ks_svcmap_conn *c,
		   const struct ks_svcmap_conn *s, const struct listener *lis, size_t nlis)
{
	const struct ks_svcmap_conn *one = c ? c : s;
	uint64_t n = one->count > 1 ? one->count : 1;
	struct ks_svcmap_node *cn, *sn;
	struct ks_svcmap_edge *e;
	long ci, si;
	const char *sname = NULL;
	bool resolved = false;
	uint16_t port = s ? s->lport : c->rport;	/* the same, but a server end
							 * knows its DNAT'd port */
	int64_t first, last;

	/* the client */
	ci = c ? end_node(b, c->service ? c->service : UNKNOWN, NULL, 0) :
		 end_node(b, NULL, s->raddr, 0);
	if (ci < 0)
		return -ENOMEM;
	/* the server: its own end, else the listener it reached */
	if (s && s->service) {
		sname = s->service;
	} else {
		const struct listener *l = c ? svcmap_lis_find(lis, nlis, c->raddr, c->rport) :
					       svcmap_lis_find(lis, nlis, s->laddr, s->lport);

		if (l && l->service) {
			sname = l->service;
			resolved = true;
		} else if (s || l) {
			sname = UNKNOWN;	/* a listener here, its owner not known */
		}
	}
	/* no server name: no server end (its end names one), so a client end */
	si = sname ? end_node(b, sname, NULL, 0) : end_node(b, NULL, c->raddr, c->rport);
	if (si < 0)
		return -ENOMEM;
	if (!c)
		node_dns(b, ci, s->rdns, s->end_ns);
	if (!sname)
		node_dns(b, si, c->rdns, c->end_ns);
	cn = &b->m->nodes[ci];
	sn = &b->m->nodes[si];
	e = edge_get(b, cn->name, sn->name, port, KS_EDGE_TCP);
	if (!e)
		return -ENOMEM;
	e->conns += n;
	e->server_remote = !sname;
	e->seen |= (c ? KS_SEEN_CLIENT : 0) | (s ? KS_SEEN_SERVER : 0);
	e->resolved |= resolved;
	if ((c && c->dnat_addr) || (s && s->dnat_addr)) {
		const struct ks_svcmap_conn *d = c && c->dnat_addr ? c : s;

		e->dnat_conns += n;
		if (!e->dnat_addr) {
			e->dnat_addr = d->dnat_addr;
			e->dnat_port = d->dnat_port;
		}
	}
	if ((c && c->snat_addr) || (s && s->snat_addr)) {
		e->snat_conns += n;
		if (!e->snat_addr)
			e->snat_addr = c && c->snat_addr ? c->snat_addr : s->snat_addr;
	}
	e->bytes_c2s += c ? c->tx : s->rx;
	e->bytes_s2c += c ? c->rx : s->tx;
	if ((c && c->end == KS_END_RESET) || (s && s->end == KS_END_RESET))
		e->resets++;
	else if ((c && c->end == KS_END_ERROR) || (s && s->end == KS_END_ERROR))
		e->errors++;
	e->resets += max_u64(c ? c->resets : 0, s ? s->resets : 0);
	e->errors += max_u64(c ? c->errors : 0, s ? s->errors : 0);
	e->retrans += (c ? c->retrans : 0) + (s ? s->retrans : 0);
	first = one->start_ns ? one->start_ns : one->end_ns;
	if (c && s && s->start_ns && (!first || s->start_ns < first))
		first = s->start_ns;
	last = one->end_ns;
	if (c && s && s->end_ns > last)
		last = s->end_ns;
	if (first < e->first_ns)
		e->first_ns = first;
	if (last > e->last_ns)
		e->last_ns = last;
	if ((c && c->srtt_ns && !sample(&e->rtt, &e->nrtt, &e->cap_rtt, c->srtt_ns)) ||
	    (!(c && c->srtt_ns) && s && s->srtt_ns &&
	     !sample(&e->rtt, &e->nrtt, &e->cap_rtt, s->srtt_ns)))
		return -ENOMEM;
	if (c && c->has_connect && !sample(&e->conn, &e->nconn, &e->cap_conn, c->connect_ns))
		return -ENOMEM;
	if (svcmap_hist_add(e, c, s))
		return -ENOMEM;
	if (one->start_ns && one->end_ns >= one->start_ns &&
	    !sample(&e->dur, &e->ndur, &e->cap_dur, one->end_ns - one->start_ns))
		return -ENOMEM;
	cn->conns_out += n;
	sn->conns_in += n;
	cn->bytes_out += c ? c->tx : s->rx;
	cn->bytes_in += c ? c->rx : s->tx;
	sn->bytes_in += c ? c->tx : s->rx;
	sn->bytes_out += c ? c->rx : s->tx;
	touch(cn, first, last);
	touch(sn, first, last);
	return 0;
}

int svcmap_spawn(struct svcmap_build *b, const struct ks_svcmap_exec *x)
{
	struct ks_svcmap_node *pn, *cn;
	struct ks_svcmap_edge *e;
	uint64_t n = x->count ? x->count : 1;
	long pi, ci;

	if (!x->from || !x->to || !strcmp(x->from, x->to))
		return 0;	/* the same service: a process moving on within it */
	pi = node_get(b, x->from, KS_NODE_SERVICE);
	if (pi < 0)
		return -ENOMEM;
	ci = node_get(b, x->to, KS_NODE_SERVICE);
	if (ci < 0)
		return -ENOMEM;
	pn = &b->m->nodes[pi];
	cn = &b->m->nodes[ci];
	e = edge_get(b, pn->name, cn->name, 0, KS_EDGE_SPAWN);
	if (!e)
		return -ENOMEM;
	e->execs += n;
	e->seen = KS_SEEN_CLIENT | KS_SEEN_SERVER;	/* both ends are this machine's */
	if (x->ts_ns < e->first_ns)
		e->first_ns = x->ts_ns;
	if (x->ts_ns > e->last_ns)
		e->last_ns = x->ts_ns;
	pn->spawns_out += n;
	cn->spawns_in += n;
	touch(pn, x->ts_ns, x->ts_ns);
	touch(cn, x->ts_ns, x->ts_ns);
	return 0;
}

int svcmap_udp_account(struct svcmap_build *b, const struct svcmap_uend *c,
		       const struct svcmap_uend *s)
{
	struct ks_svcmap_node *cn, *sn;
	struct ks_svcmap_edge *e;
	long ci, si;
	uint64_t c2sd = c ? c->txd : s->rxd, c2sb = c ? c->txb : s->rxb;
	uint64_t s2cd = c ? c->rxd : s->txd, s2cb = c ? c->rxb : s->txb;
	int64_t first = c ? c->first : s->first, last = c ? c->last : s->last;

	if (c && s) {
		first = s->first < first ? s->first : first;
		last = s->last > last ? s->last : last;
	}
	ci = c ? end_node(b, c->service ? c->service : UNKNOWN, NULL, 0) :
		 end_node(b, NULL, s->raddr, 0);
	if (ci < 0)
		return -ENOMEM;
	si = s ? end_node(b, s->service ? s->service : UNKNOWN, NULL, 0) :
		 end_node(b, NULL, c->raddr, c->rport);
	if (si < 0)
		return -ENOMEM;
	if (!c)
		node_dns(b, ci, s->rdns, s->rdns_ns);
	if (!s)
		node_dns(b, si, c->rdns, c->rdns_ns);
	cn = &b->m->nodes[ci];
	sn = &b->m->nodes[si];
	e = edge_get(b, cn->name, sn->name, s ? s->lport : c->rport, KS_EDGE_UDP);
	if (!e)
		return -ENOMEM;
	e->flows++;
	e->server_remote = !s;
	e->seen |= (c ? KS_SEEN_CLIENT : 0) | (s ? KS_SEEN_SERVER : 0);
	e->dgrams_c2s += c2sd;
	e->dgrams_s2c += s2cd;
	e->bytes_c2s += c2sb;
	e->bytes_s2c += s2cb;
	if (first < e->first_ns)
		e->first_ns = first;
	if (last > e->last_ns)
		e->last_ns = last;
	cn->bytes_out += c2sb;
	cn->bytes_in += s2cb;
	sn->bytes_in += c2sb;
	sn->bytes_out += s2cb;
	touch(cn, first, last);
	touch(sn, first, last);
	return 0;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Nearest rank: the smallest sample with at least @pct percent at or below it. */
static uint64_t pct(uint64_t *v, size_t n, unsigned int pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (n * pct + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

static int node_cmp(const void *x, const void *y)
{
	return strcmp(((const struct ks_svcmap_node *)x)->name,
		      ((const struct ks_svcmap_node *)y)->name);
}

static int edge_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_edge *a = x, *b = y;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;	/* TCP first */
	if (a->conns + a->execs + a->flows != b->conns + b->execs + b->flows)
		return a->conns + a->execs + a->flows > b->conns + b->execs + b->flows ? -1 : 1;
	if ((c = strcmp(a->client, b->client)) || (c = strcmp(a->server, b->server)))
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* Whether an interval that lost @what overlaps @e's span. */
static bool overlaps(const struct ks_svcmap *m, enum ks_svcmap_loss what,
		     const struct ks_svcmap_edge *e)
{
	for (size_t l = 0; l < m->loss[what].n; l++)
		if (m->loss[what].span[l][0] <= e->last_ns && m->loss[what].span[l][1] >= e->first_ns)
			return true;
	return false;
}

void svcmap_finish(struct ks_svcmap *m)
{
	for (size_t i = 0; i < m->nedges; i++) {
		struct ks_svcmap_edge *e = &m->edges[i];

		qsort(e->rtt, e->nrtt, sizeof(*e->rtt), u64_cmp);
		qsort(e->dur, e->ndur, sizeof(*e->dur), u64_cmp);
		qsort(e->conn, e->nconn, sizeof(*e->conn), u64_cmp);
		e->conn_p50 = pct(e->conn, e->nconn, 50);
		e->conn_p99 = pct(e->conn, e->nconn, 99);
		e->rtt_p50 = pct(e->rtt, e->nrtt, 50);
		e->rtt_p99 = pct(e->rtt, e->nrtt, 99);
		e->dur_p50 = pct(e->dur, e->ndur, 50);
		e->dur_p99 = pct(e->dur, e->ndur, 99);
		svcmap_hist_finish(e);
		svcmap_req_finish(e);
		e->incomplete = e->kind == KS_EDGE_SPAWN ? overlaps(m, KS_LOSS_EXEC, e) :
				e->kind == KS_EDGE_UDP	 ? overlaps(m, KS_LOSS_UDP, e) :
				overlaps(m, KS_LOSS_TCP, e) || overlaps(m, KS_LOSS_REQ, e);
	}
	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].first_ns == INT64_MAX)
			m->nodes[i].first_ns = 0;
	/* node names are heap strings: the edges' pointers survive the sort */
	qsort(m->nodes, m->nnodes, sizeof(*m->nodes), node_cmp);
	qsort(m->edges, m->nedges, sizeof(*m->edges), edge_cmp);
	for (size_t i = 0; i < m->nedges; i++) {
		const struct ks_svcmap_node *c = ks_svcmap__node(m, m->edges[i].client);
		const struct ks_svcmap_node *s = ks_svcmap__node(m, m->edges[i].server);

		m->edges[i].client_dns = c ? c->dns : NULL;
		m->edges[i].server_dns = s ? s->dns : NULL;
	}
}

const struct ks_svcmap_node *ks_svcmap__node(const struct ks_svcmap *m, const char *name)
{
	struct ks_svcmap_node k = { .name = (char *)name };

	return bsearch(&k, m->nodes, m->nnodes, sizeof(k), node_cmp);
}

const char *ks_svcmap_seen_name(uint8_t seen)
{
	return seen == (KS_SEEN_CLIENT | KS_SEEN_SERVER) ? "both" :
	       seen == KS_SEEN_SERVER ? "server" : "client";
}
