// SPDX-License-Identifier: GPL-2.0
/* The service dependency map (svcmap.h): session ends in, paired by connection, listeners
 * learnt; svcmap_graph.c makes the nodes and edges. */
#include "core/svcmap_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN "(unknown)"

bool svcmap_grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return true;
	q = realloc(*p, c * size);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

int ks_svcmap__init(struct ks_svcmap *m)
{
	memset(m, 0, sizeof(*m));
	return 0;
}

void ks_svcmap__free(struct ks_svcmap *m)
{
	for (size_t i = 0; i < m->cap_strs; i++)
		free(m->strs[i]);
	free(m->strs);
	for (size_t i = 0; i < m->nnodes; i++)
		free(m->nodes[i].name);
	for (size_t i = 0; i < m->nedges; i++) {
		free(m->edges[i].rtt);
		free(m->edges[i].dur);
		free(m->edges[i].conn);
		free(m->edges[i].wconn);
		free(m->edges[i].wrtt);
		free(m->edges[i].wdur);
		free(m->edges[i].wreq);
	}
	for (size_t i = 0; i < m->nhists; i++)
		free(m->hists[i]);
	free(m->hists);
	free(m->in);
	free(m->nodes);
	free(m->edges);
	for (int k = 0; k < KS_LOSS_KINDS; k++)
		free(m->loss[k].span);
	free(m->ex);
	free(m->ud);
	free(m->up);
	free(m->rq);
	memset(m, 0, sizeof(*m));
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* @s's one copy in @m (made if new), or NULL when out of memory. Sessions repeat the same
 * few services and addresses: an hour of a busy machine's is hundreds of thousands. */
static const char *intern(struct ks_svcmap *m, const char *s)
{
	size_t i;

	if (m->nstrs * 2 >= m->cap_strs) {
		size_t cap = m->cap_strs ? m->cap_strs * 2 : 256;
		char **t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t j = 0; j < m->cap_strs; j++) {
			if (!m->strs[j])
				continue;
			for (i = str_hash(m->strs[j]) & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
				;
			t[i] = m->strs[j];
		}
		free(m->strs);
		m->strs = t;
		m->cap_strs = cap;
	}
	for (i = str_hash(s) & (m->cap_strs - 1); m->strs[i]; i = (i + 1) & (m->cap_strs - 1))
		if (!strcmp(m->strs[i], s))
			return m->strs[i];
	m->strs[i] = strdup(s);
	if (m->strs[i])
		m->nstrs++;
	return m->strs[i];
}

const char *svcmap_intern(struct ks_svcmap *m, const char *s)
{
	return intern(m, s);
}

int ks_svcmap__add(struct ks_svcmap *m, const struct ks_svcmap_conn *c)
{
	struct ks_svcmap_conn *d;

	if (m->built)
		return -EINVAL;
	if (!svcmap_grow((void **)&m->in, &m->cap_in, m->nin, sizeof(*m->in)))
		return -ENOMEM;
	d = &m->in[m->nin];
	*d = *c;
	d->service = c->service ? intern(m, c->service) : NULL;
	d->laddr = intern(m, c->laddr ? c->laddr : "");
	d->raddr = intern(m, c->raddr ? c->raddr : "");
	d->dnat_addr = c->dnat_addr ? intern(m, c->dnat_addr) : NULL;
	d->snat_addr = c->snat_addr ? intern(m, c->snat_addr) : NULL;
	d->rdns = c->rdns && *c->rdns ? intern(m, c->rdns) : NULL;
	if ((c->service && !d->service) || !d->laddr || !d->raddr ||
	    (c->dnat_addr && !d->dnat_addr) || (c->snat_addr && !d->snat_addr) ||
	    (c->rdns && *c->rdns && !d->rdns) || svcmap_hist_keep(m, d))
		return -ENOMEM;
	m->nin++;
	m->conns_in++;
	return 0;
}

int ks_svcmap__add_loss(struct ks_svcmap *m, enum ks_svcmap_loss what, int64_t start_ns,
			int64_t end_ns)
{
	struct ks_svcmap_losses *l = &m->loss[what];

	if (!svcmap_grow((void **)&l->span, &l->cap, l->n, sizeof(*l->span)))
		return -ENOMEM;
	l->span[l->n][0] = start_ns;
	l->span[l->n][1] = end_ns;
	l->n++;
	return 0;
}

int ks_svcmap__add_exec(struct ks_svcmap *m, const struct ks_svcmap_exec *x)
{
	struct ks_svcmap_exec *d;

	if (m->built)
		return -EINVAL;
	if (!svcmap_grow((void **)&m->ex, &m->cap_ex, m->nex, sizeof(*m->ex)))
		return -ENOMEM;
	d = &m->ex[m->nex];
	*d = *x;
	d->from = x->from ? intern(m, x->from) : NULL;
	d->to = x->to ? intern(m, x->to) : NULL;
	if ((x->from && !d->from) || (x->to && !d->to))
		return -ENOMEM;
	m->nex++;
	m->execs_in++;
	return 0;
}

int ks_svcmap__add_udp(struct ks_svcmap *m, const struct ks_svcmap_udp *u)
{
	struct ks_svcmap_udp *d;

	if (m->built)
		return -EINVAL;
	if (!svcmap_grow((void **)&m->ud, &m->cap_ud, m->nud, sizeof(*m->ud)))
		return -ENOMEM;
	d = &m->ud[m->nud];
	*d = *u;
	d->service = u->service ? intern(m, u->service) : NULL;
	d->raddr = intern(m, u->raddr ? u->raddr : "-");
	d->rdns = u->rdns && *u->rdns ? intern(m, u->rdns) : NULL;
	if ((u->service && !d->service) || !d->raddr || (u->rdns && *u->rdns && !d->rdns))
		return -ENOMEM;
	m->nud++;
	m->udp_in++;
	return 0;
}

const char *ks_svcmap_edge_kind_name(enum ks_svcmap_edge_kind k)
{
	return k == KS_EDGE_SPAWN ? "spawn" : k == KS_EDGE_UDP ? "udp" : "tcp";
}

/* --- cgroups that name their service --- */

/* Whether @s is a name core/service.c makes from a cgroup path: a unit, a container. */
static bool cgroup_named(const char *s)
{
	static const char *const runtimes[] = { "docker:", "podman:", "containerd:", "crio:",
						"k8s:", "lxc:", "machine:", "container:" };
	size_t n = strlen(s);

	if (n > 8 && !strcmp(s + n - 8, ".service"))
		return true;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (!strncmp(s, runtimes[i], strlen(runtimes[i])) && s[strlen(runtimes[i])])
			return true;
	return false;
}

struct cgname {
	uint64_t cg;
	const char *name;
};

static int cg_cmp(const void *x, const void *y)
{
	const struct cgname *a = x, *b = y;

	return a->cg < b->cg ? -1 : a->cg > b->cg;
}

static void cg_note(struct cgname *v, size_t *n, uint64_t cg, const char *name)
{
	if (cg && name && cgroup_named(name))
		v[(*n)++] = (struct cgname){ cg, name };
}

static void cg_rename(const struct cgname *v, size_t n, uint64_t cg, const char **name)
{
	struct cgname k = { cg, NULL };
	const struct cgname *hit;

	if (n && cg && (hit = bsearch(&k, v, n, sizeof(k), cg_cmp)))
		*name = hit->name;
}

/* Every end (each side of an exec, each udp and req row) of a cgroup another one named by its unit or
 * container takes that name. */
static int cgroup_names(struct ks_svcmap *m)
{
	struct cgname *v = calloc(m->nin + 2 * m->nex + m->nud + m->nrq + 1,
				  sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->nin; i++)
		cg_note(v, &n, m->in[i].cgroup, m->in[i].service);
	for (size_t i = 0; i < m->nex; i++) {
		cg_note(v, &n, m->ex[i].from_cg, m->ex[i].from);
		cg_note(v, &n, m->ex[i].to_cg, m->ex[i].to);
	}
	for (size_t i = 0; i < m->nud; i++)
		cg_note(v, &n, m->ud[i].cgroup, m->ud[i].service);
	for (size_t i = 0; i < m->nrq; i++)
		cg_note(v, &n, m->rq[i].cgroup, m->rq[i].service);
	qsort(v, n, sizeof(*v), cg_cmp);
	for (size_t i = 0; i < m->nin; i++)
		cg_rename(v, n, m->in[i].cgroup, &m->in[i].service);
	for (size_t i = 0; i < m->nex; i++) {
		cg_rename(v, n, m->ex[i].from_cg, &m->ex[i].from);
		cg_rename(v, n, m->ex[i].to_cg, &m->ex[i].to);
	}
	for (size_t i = 0; i < m->nud; i++)
		cg_rename(v, n, m->ud[i].cgroup, &m->ud[i].service);
	for (size_t i = 0; i < m->nrq; i++)
		cg_rename(v, n, m->rq[i].cgroup, &m->rq[i].service);
	free(v);
	return 0;
}

/* --- listeners: (address, port) -> service, from the server ends --- */

static int lis_cmp(const void *x, const void *y)
{
	const struct listener *a = x, *b = y;
	int c = strcmp(a->addr, b->addr);

	if (c)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	/* a known service before an unknown one */
	return (a->service == NULL) - (b->service == NULL);
}

const struct listener *svcmap_lis_find(const struct listener *l, size_t n, const char *addr,
				       uint16_t port)
{
	struct listener k = { addr, NULL, port };
	size_t lo = 0, hi = n;

	while (lo < hi) {	/* the first not below (addr, port) */
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l[mid].addr, addr);

		if (c < 0 || (!c && l[mid].port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && !strcmp(l[lo].addr, k.addr) && l[lo].port == k.port)
		return &l[lo];
	return NULL;
}

/* --- pairing: the two ends of one connection --- */

static int ref_cmp(const void *x, const void *y)
{
	const struct endref *a = x, *b = y;
	int c;

	if ((c = strcmp(a->caddr, b->caddr)) || (c = strcmp(a->saddr, b->saddr)))
		return c;
	if (a->cport != b->cport)
		return a->cport < b->cport ? -1 : 1;
	if (a->sport != b->sport)
		return a->sport < b->sport ? -1 : 1;
	return a->t < b->t ? -1 : a->t > b->t;
}

static bool same_conn(const struct endref *a, const struct endref *b)
{
	return a->cport == b->cport && a->sport == b->sport && !strcmp(a->caddr, b->caddr) &&
	       !strcmp(a->saddr, b->saddr);
}

int ks_svcmap__build(struct ks_svcmap *m)
{
	struct svcmap_build b = { .m = m };
	struct listener *lis = NULL;
	struct endref *refs = NULL;
	size_t nlis = 0, nref = 0;
	int err = -ENOMEM;

	if (m->built)
		return 0;
	m->built = true;
	lis = calloc(m->nin + 1, sizeof(*lis));
	refs = calloc(m->nin + 1, sizeof(*refs));
	if (!lis || !refs || cgroup_names(m))
		goto out;
	for (size_t i = 0; i < m->nin; i++)
		if (m->in[i].side == KS_SIDE_SERVER)
			lis[nlis++] = (struct listener){ m->in[i].laddr, m->in[i].service,
							  m->in[i].lport };
	qsort(lis, nlis, sizeof(*lis), lis_cmp);
	for (size_t i = 0; i < m->nin; i++) {
		struct ks_svcmap_conn *c = &m->in[i];
		struct endref *r = &refs[nref];

		if (c->side == KS_SIDE_UNKNOWN) {
			/* opened before ksight: a listener's end is the server's */
			if (svcmap_lis_find(lis, nlis, c->laddr, c->lport))
				c->side = KS_SIDE_SERVER;
			else if (svcmap_lis_find(lis, nlis, c->raddr, c->rport))
				c->side = KS_SIDE_CLIENT;
			else {
				m->unplaced++;
				continue;
			}
		}
		r->c = c;
		r->pair = -1;
		r->t = c->start_ns ? c->start_ns : c->end_ns;
		if (c->side == KS_SIDE_CLIENT)
			*r = (struct endref){ c, c->laddr, c->raddr, c->lport, c->rport, r->t, -1 };
		else if (c->dnat_addr)	/* its client knew only the address it asked for */
			*r = (struct endref){ c, c->raddr, c->dnat_addr, c->rport, c->dnat_port,
					      r->t, -1 };
		else
			*r = (struct endref){ c, c->raddr, c->laddr, c->rport, c->lport, r->t, -1 };
		nref++;
	}
	if (svcmap_snat_refs(refs, nref))
		goto out;
	qsort(refs, nref, sizeof(*refs), ref_cmp);
	/* each group of one four-tuple, in time order: each client end takes the first
	 * server end not taken that began within KS_SVCMAP_PAIR_NS of it (linear: a group
	 * may be large in a store made up or replayed) */
	for (size_t gs = 0, ge; gs < nref; gs = ge) {
		size_t si = gs;

		for (ge = gs + 1; ge < nref && same_conn(&refs[gs], &refs[ge]); ge++)
			;
		for (size_t ci = gs; ci < ge; ci++) {
			if (refs[ci].c->side != KS_SIDE_CLIENT)
				continue;
			while (si < ge && (refs[si].c->side != KS_SIDE_SERVER ||
					   refs[si].t < refs[ci].t - KS_SVCMAP_PAIR_NS))
				si++;
			if (si < ge && refs[si].t <= refs[ci].t + KS_SVCMAP_PAIR_NS) {
				refs[ci].pair = si;
				refs[si].pair = ci;
				si++;
			}
		}
	}
	for (size_t i = 0; i < nref; i++) {
		const struct ks_svcmap_conn *c = refs[i].c, *o;

		if (refs[i].pair >= 0 && (size_t)refs[i].pair < i)
			continue;	/* counted with its other end */
		o = refs[i].pair >= 0 ? refs[refs[i].pair].c : NULL;
		if (c->side == KS_SIDE_CLIENT)
			err = svcmap_account(&b, c, o, lis, nlis);
		else
			err = svcmap_account(&b, o, c, lis, nlis);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < m->nex; i++)
		if ((err = svcmap_spawn(&b, &m->ex[i])))
			goto out;
	if ((err = svcmap_udp(&b)) || (err = svcmap_req(&b, lis, nlis)))
		goto out;
	svcmap_finish(m);
	err = 0;
out:
	free(b.nt.slot);
	free(b.et.slot);
	free(lis);
	free(refs);
	return err;
}

