// SPDX-License-Identifier: GPL-2.0
/* The service map through SNAT done in a client's own namespace (svcmap_int.h): the
 * client's end knows the source it was given, its server's end (another namespace, whose
 * conntrack has no entry) saw only that source. */
#include "core/svcmap_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A client end's connection as its server saw it: the source SNAT gave it, the server. */
struct seen {
	const char *taddr, *saddr;
	uint16_t tport, sport;
	const struct ks_svcmap_conn *c;
};

static int seen_cmp(const void *x, const void *y)
{
	const struct seen *a = x, *b = y;
	int c;

	if ((c = strcmp(a->taddr, b->taddr)) || (c = strcmp(a->saddr, b->saddr)))
		return c;
	if (a->tport != b->tport)
		return a->tport < b->tport ? -1 : 1;
	return a->sport < b->sport ? -1 : a->sport > b->sport;
}

int svcmap_snat_refs(struct endref *refs, size_t n)
{
	struct seen *v = calloc(n + 1, sizeof(*v));
	size_t nv = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ks_svcmap_conn *c = refs[i].c;

		if (c->side == KS_SIDE_CLIENT && c->snat_addr)
			v[nv++] = (struct seen){ c->snat_addr, refs[i].saddr, c->snat_port,
						 refs[i].sport, c };
	}
	qsort(v, nv, sizeof(*v), seen_cmp);
	for (size_t i = 0; nv && i < n; i++) {
		struct endref *r = &refs[i];
		struct seen k = { r->caddr, r->saddr, r->cport, r->sport, NULL }, *hit;

		/* a server end that knew its own SNAT names its real client already */
		if (r->c->side != KS_SIDE_SERVER || r->c->snat_addr)
			continue;
		hit = bsearch(&k, v, nv, sizeof(*v), seen_cmp);
		if (hit) {
			r->caddr = hit->c->laddr;
			r->cport = hit->c->lport;
		}
	}
	free(v);
	return 0;
}

/* By asked-for endpoint, then real server. */
static int dnat_cmp(const void *x, const void *y)
{
	const struct svcmap_dnat *a = x, *b = y;
	int c;

	if ((c = strcmp(a->asked, b->asked)))
		return c;
	if (a->aport != b->aport)
		return a->aport < b->aport ? -1 : 1;
	if ((c = strcmp(a->real, b->real)))
		return c;
	return a->rport < b->rport ? -1 : a->rport > b->rport;
}

int svcmap_dnat_table(const struct ks_svcmap *m, struct svcmap_dnat **out, size_t *n)
{
	struct svcmap_dnat *t = calloc(m->nin + 1, sizeof(*t));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < m->nin; i++) {
		const struct ks_svcmap_conn *c = &m->in[i];

		if (!c->dnat_addr || c->side == KS_SIDE_UNKNOWN)
			continue;
		/* a client end's peer is the real server already, a server end is it */
		if (c->side == KS_SIDE_CLIENT)
			t[k++] = (struct svcmap_dnat){ c->dnat_addr, c->raddr, c->dnat_port,
						       c->rport };
		else
			t[k++] = (struct svcmap_dnat){ c->dnat_addr, c->laddr, c->dnat_port,
						       c->lport };
	}
	qsort(t, k, sizeof(*t), dnat_cmp);
	for (size_t i = 0; i < k; i++)	/* one entry per mapping */
		if (!*n || dnat_cmp(&t[*n - 1], &t[i]))
			t[(*n)++] = t[i];
	*out = t;
	return 0;
}

const struct svcmap_dnat *svcmap_dnat_find(const struct svcmap_dnat *t, size_t n,
					   const char *addr, uint16_t port, bool *many)
{
	size_t lo = 0, hi = n;

	*many = false;
	while (lo < hi) {	/* the first entry of (addr, port) */
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t[mid].asked, addr);

		if (c < 0 || (!c && t[mid].aport < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || strcmp(t[lo].asked, addr) || t[lo].aport != port)
		return NULL;
	if (lo + 1 < n && !strcmp(t[lo + 1].asked, addr) && t[lo + 1].aport == port) {
		*many = true;
		return NULL;
	}
	return &t[lo];
}
