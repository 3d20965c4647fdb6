// SPDX-License-Identifier: GPL-2.0
/*
 * The requests on the map's TCP edges (svcmap.h): the req module's rows joined to the
 * edge they ran on. A client row names its client's service and the server endpoint it
 * asked, as a client end of a session does; the server is found as svcmap_account()
 * finds a client end's (the listener at that endpoint, its service or "(unknown)", else
 * the remote node ADDR:PORT), so that a row lands on the edge its sessions made, never on
 * one of its own; an endpoint the window's ends knew was DNAT'd to one real server is
 * that server. A server row (its client's end not counted here: the kernel checked) names
 * its service, port and client address: it lands on the edge from the remote node ADDR
 * only, the edge a server end without its client's makes; where the client's end was
 * here the session is on the client service's edge, whose requests are the client's rows
 * (as its bytes are the client's end's), so nothing is counted twice. Latencies come as
 * log2 buckets: a percentile is the bound of the bucket that holds it (as
 * svcmap_hist.c's for connect latency).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/svcmap_int.h"

#define UNKNOWN "(unknown)"

int ks_svcmap__add_req(struct ks_svcmap *m, const struct ks_svcmap_req *r)
{
	struct ks_svcmap_req *d;
	struct ks_svcmap_bucket *h = NULL;

	if (m->built)
		return -EINVAL;
	if (!svcmap_grow((void **)&m->rq, &m->cap_rq, m->nrq, sizeof(*m->rq)) ||
	    (r->nhist &&
	     !svcmap_grow((void **)&m->hists, &m->cap_hists, m->nhists, sizeof(*m->hists))))
		return -ENOMEM;
	d = &m->rq[m->nrq];
	*d = *r;
	d->service = r->service ? svcmap_intern(m, r->service) : NULL;
	d->raddr = svcmap_intern(m, r->raddr ? r->raddr : "");
	if ((r->service && !d->service) || !d->raddr)
		return -ENOMEM;
	if (r->nhist) {
		h = malloc(r->nhist * sizeof(*h));
		if (!h)
			return -ENOMEM;
		memcpy(h, r->hist, r->nhist * sizeof(*h));
		m->hists[m->nhists++] = h;
	}
	d->hist = h;
	m->nrq++;
	m->req_in++;
	return 0;
}

/* @r's counts and buckets onto @e. 0 or -ENOMEM. */
static int req_add(struct ks_svcmap_edge *e, const struct ks_svcmap_req *r)
{
	for (size_t i = 0; i < r->nhist; i++) {
		if (!r->hist[i].n)
			continue;
		if (!svcmap_grow((void **)&e->wreq, &e->cap_wreq, e->nwreq, sizeof(*e->wreq)))
			return -ENOMEM;
		e->wreq[e->nwreq++] = r->hist[i];
	}
	e->requests += r->requests;
	e->request_errors += r->errors;
	return 0;
}

/* The edge client row @r ran on, or NULL (its sessions made none in the window; its
 * endpoint DNAT'd to more than one server). */
static struct ks_svcmap_edge *client_edge(struct svcmap_build *b, const struct ks_svcmap_req *r,
					  const struct listener *lis, size_t nlis,
					  const struct svcmap_dnat *dn, size_t ndn)
{
	const struct svcmap_dnat *d;
	const struct listener *l;
	char remote[KS_SVCMAP_NAME];
	const char *server, *addr = r->raddr;
	uint16_t port = r->rport;
	bool many;

	/* the socket's peer is the address it asked for: DNAT sent it on to the real one */
	d = svcmap_dnat_find(dn, ndn, addr, port, &many);
	if (many)
		return NULL;
	if (d) {
		addr = d->real;
		port = d->rport;
	}
	l = svcmap_lis_find(lis, nlis, addr, port);
	if (l)
		server = l->service ? l->service : UNKNOWN;
	else {
		svcmap_remote_name(remote, sizeof(remote), addr, port);
		server = remote;
	}
	return svcmap_edge_find(b, r->service, server, port, KS_EDGE_TCP);
}

int svcmap_req(struct svcmap_build *b, const struct listener *lis, size_t nlis)
{
	struct ks_svcmap *m = b->m;
	struct svcmap_dnat *dn;
	size_t ndn;
	int err = 0;

	if (svcmap_dnat_table(m, &dn, &ndn))
		return -ENOMEM;
	for (size_t i = 0; i < m->nrq && !err; i++) {
		const struct ks_svcmap_req *r = &m->rq[i];
		struct ks_svcmap_edge *e;
		char client[KS_SVCMAP_NAME];

		if (!r->service || !r->requests) {
			m->req_unjoined += !!r->requests;
			continue;
		}
		if (r->server) {
			svcmap_remote_name(client, sizeof(client), r->raddr, 0);
			e = svcmap_edge_find(b, client, r->service, r->lport, KS_EDGE_TCP);
		} else {
			e = client_edge(b, r, lis, nlis, dn, ndn);
		}
		if (!e) {
			m->req_unjoined++;
			continue;
		}
		err = req_add(e, r);
	}
	free(dn);
	return err;
}

static int bucket_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_bucket *a = x, *b = y;

	return a->le_ns < b->le_ns ? -1 : a->le_ns > b->le_ns;
}

/* Nearest rank over @e's buckets (sorted), @total requests in them. */
static uint64_t bpct(const struct ks_svcmap_edge *e, uint64_t total, unsigned int pct)
{
	uint64_t rank = (total * pct + 99) / 100, run = 0;

	for (size_t i = 0; i < e->nwreq; i++) {
		run += e->wreq[i].n;
		if (run >= rank)
			return e->wreq[i].le_ns;
	}
	return e->nwreq ? e->wreq[e->nwreq - 1].le_ns : 0;
}

void svcmap_req_finish(struct ks_svcmap_edge *e)
{
	uint64_t total = 0;

	if (!e->nwreq)
		return;
	qsort(e->wreq, e->nwreq, sizeof(*e->wreq), bucket_cmp);
	for (size_t i = 0; i < e->nwreq; i++)
		total += e->wreq[i].n;
	e->req_p50 = bpct(e, total, 50);
	e->req_p99 = bpct(e, total, 99);
}
