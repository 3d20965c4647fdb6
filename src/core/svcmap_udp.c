// SPDX-License-Identifier: GPL-2.0
/*
 * The service map's UDP edges (svcmap.h): the udp module's per-interval flow rows summed
 * into ends (one service, local port and remote end over the window), the two ends of a
 * flow on this machine paired (each one's local port is the other's remote port, seen
 * within KS_SVCMAP_PAIR_NS of each other), and each flow's client and server told apart:
 *
 * - an end is a server end when its socket bound its port explicitly and the first
 *   datagram it counted was received; any other end is a client end;
 * - of two paired ends, the server is the one that is a server end alone; when both or
 *   neither are, the one whose first datagram was received (the other sent first); when
 *   that does not tell either, the one with the lower port (the first when equal).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/svcmap_int.h"

static int row_cmp(const void *x, const void *y)
{
	const struct ks_svcmap_udp *a = *(struct ks_svcmap_udp *const *)x;
	const struct ks_svcmap_udp *b = *(struct ks_svcmap_udp *const *)y;
	int c;

	if (a->lport != b->lport)
		return a->lport < b->lport ? -1 : 1;
	if (a->rport != b->rport)
		return a->rport < b->rport ? -1 : 1;
	if ((c = strcmp(a->raddr, b->raddr)))
		return c;
	if ((c = strcmp(a->service ? a->service : "", b->service ? b->service : "")))
		return c;
	return a->ts_ns < b->ts_ns ? -1 : a->ts_ns > b->ts_ns;
}

static bool same_end(const struct ks_svcmap_udp *a, const struct svcmap_uend *e)
{
	return a->lport == e->lport && a->rport == e->rport && !strcmp(a->raddr, e->raddr) &&
	       !strcmp(a->service ? a->service : "", e->service ? e->service : "");
}

static bool server_end(const struct svcmap_uend *e)
{
	return e->bound && e->rx_first;
}

/* Whether @a is the server of the pair @a, @b. */
static bool a_serves(const struct svcmap_uend *a, const struct svcmap_uend *b)
{
	if (server_end(a) != server_end(b))
		return server_end(a);
	if (a->rx_first != b->rx_first)
		return a->rx_first;
	return a->lport <= b->lport;
}

/* The first end of @e[0..n) (sorted by local then remote port) with local port @lport. */
static size_t lower(const struct svcmap_uend *e, size_t n, uint16_t lport, uint16_t rport)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (e[mid].lport < lport || (e[mid].lport == lport && e[mid].rport < rport))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool v6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

/* Each end takes the first other end not taken whose ports mirror its own, of the same
 * family, seen within KS_SVCMAP_PAIR_NS of it. */
static void pair(struct svcmap_uend *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].pair >= 0)
			continue;
		for (size_t j = lower(e, n, e[i].rport, e[i].lport);
		     j < n && e[j].lport == e[i].rport && e[j].rport == e[i].lport; j++) {
			if (j == i || e[j].pair >= 0 || v6(e[j].raddr) != v6(e[i].raddr) ||
			    e[j].first > e[i].last + KS_SVCMAP_PAIR_NS ||
			    e[i].first > e[j].last + KS_SVCMAP_PAIR_NS)
				continue;
			e[i].pair = j;
			e[j].pair = i;
			break;
		}
	}
}

/* @u into *@d, its strings interned in @m. 0 or -ENOMEM. */
static int keep_end(struct ks_svcmap *m, struct ks_svcmap_udp *d, const struct ks_svcmap_udp *u)
{
	*d = *u;
	d->service = u->service ? svcmap_intern(m, u->service) : NULL;
	d->raddr = svcmap_intern(m, u->raddr ? u->raddr : "-");
	d->rdns = u->rdns && *u->rdns ? svcmap_intern(m, u->rdns) : NULL;
	return (u->service && !d->service) || !d->raddr || (u->rdns && *u->rdns && !d->rdns) ?
		       -ENOMEM : 0;
}

int ks_svcmap__add_udp_pair(struct ks_svcmap *m, const struct ks_svcmap_udp *c,
			    const struct ks_svcmap_udp *s)
{
	struct ks_svcmap_upair *p;

	if (m->built || (!c && !s))
		return -EINVAL;
	if (!svcmap_grow((void **)&m->up, &m->cap_up, m->nup, sizeof(*m->up)))
		return -ENOMEM;
	p = &m->up[m->nup];
	memset(p, 0, sizeof(*p));
	if ((c && keep_end(m, &p->c, c)) || (s && keep_end(m, &p->s, s)))
		return -ENOMEM;
	p->has_c = c;
	p->has_s = s;
	m->nup++;
	m->udp_in++;
	return 0;
}

static struct svcmap_uend uend_of(const struct ks_svcmap_udp *r)
{
	return (struct svcmap_uend){ r->service, r->raddr, r->lport, r->rport, r->bound,
				     r->rx_first, r->tx_dgrams, r->tx_bytes, r->rx_dgrams,
				     r->rx_bytes, r->ts_ns, r->ts_ns, r->rdns, r->ts_ns, -1 };
}

int svcmap_udp(struct svcmap_build *b)
{
	struct ks_svcmap *m = b->m;
	struct ks_svcmap_udp **rows = calloc(m->nud + 1, sizeof(*rows));
	struct svcmap_uend *e = calloc(m->nud + 1, sizeof(*e));
	size_t nr = 0, n = 0;
	int err = 0;

	if (!rows || !e) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->nud; i++) {
		if (!m->ud[i].rport || !strcmp(m->ud[i].raddr, "-") || !*m->ud[i].raddr)
			m->udp_unplaced++;	/* a receive that asked for no address */
		else
			rows[nr++] = &m->ud[i];
	}
	qsort(rows, nr, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < nr; i++) {
		const struct ks_svcmap_udp *r = rows[i];
		struct svcmap_uend *x = &e[n ? n - 1 : 0];

		if (!n || !same_end(r, x)) {
			x = &e[n++];
			*x = (struct svcmap_uend){ r->service, r->raddr, r->lport, r->rport,
						   r->bound, r->rx_first, 0, 0, 0, 0,
						   r->ts_ns, r->ts_ns, NULL, 0, -1 };
		}
		if (r->rdns && r->ts_ns >= x->rdns_ns) {
			x->rdns = r->rdns;
			x->rdns_ns = r->ts_ns;
		}
		x->bound |= r->bound;
		x->txd += r->tx_dgrams;
		x->txb += r->tx_bytes;
		x->rxd += r->rx_dgrams;
		x->rxb += r->rx_bytes;
		x->last = r->ts_ns;	/* rows in time order */
	}
	pair(e, n);
	for (size_t i = 0; i < n && !err; i++) {
		const struct svcmap_uend *o = e[i].pair >= 0 ? &e[e[i].pair] : NULL;

		if (o && (size_t)e[i].pair < i)
			continue;	/* counted with its other end */
		if (o)
			err = a_serves(&e[i], o) ? svcmap_udp_account(b, o, &e[i]) :
						   svcmap_udp_account(b, &e[i], o);
		else
			err = server_end(&e[i]) ? svcmap_udp_account(b, NULL, &e[i]) :
						  svcmap_udp_account(b, &e[i], NULL);
	}
	for (size_t i = 0; i < m->nup && !err; i++) {
		const struct ks_svcmap_upair *p = &m->up[i];
		struct svcmap_uend c = uend_of(&p->c), s = uend_of(&p->s);

		err = svcmap_udp_account(b, p->has_c ? &c : NULL, p->has_s ? &s : NULL);
	}
out:
	free(rows);
	free(e);
	return err;
}
