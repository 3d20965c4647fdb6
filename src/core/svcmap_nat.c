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
