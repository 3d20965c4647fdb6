// SPDX-License-Identifier: GPL-2.0
/* The fd table for modules other than rw: what other records saw, files, socket peers. */
#include <string.h>
#include <sys/socket.h>

#include "core/fdtab_int.h"

void ks_fdtab__note(struct ks_fdtab *t, uint32_t pid, int32_t fd, const struct ks_fdspec *s,
		    uint64_t ts)
{
	struct fdproc *p = fdproc_get(t, pid, ts, false);	/* a note needs no scan */
	struct ks_fdspec spec = *s;
	struct ks_fdinfo *info;
	struct fdent *e;

	if (!p)
		return;
	t->last = NULL;
	e = fdent_find(t, pid, fd);
	if (e && e->cur && ks_fdinfo_same(e->cur, s)) {
		if (s->file && !e->cur->file && (info = ks_fdinfo_with_file(e->cur, s->file))) {
			ks_fdinfo_put(e->cur);
			e->cur = info;
			e->gen++;
		}
		return;
	}
	if (spec.kind == KS_FD_SOCKET && !spec.netns)
		spec.netns = p->netns;
	fdent_set(t, p, fd, ks_fdinfo_new(&spec), ts, ts);
}

static const struct ks_fdinfo *with_file(const struct fdent *e, uint64_t file)
{
	if (e->cur && e->cur->file == file)
		return e->cur;
	if (e->prev && e->prev->file == file)
		return e->prev;
	return NULL;
}

const struct ks_fdinfo *ks_fdtab__file(const struct ks_fdtab *t, uint32_t pid, int32_t fd,
				       uint64_t file)
{
	const struct fdent *e = fdent_find(t, pid, fd);
	const struct ks_fdinfo *i = e && file ? with_file(e, file) : NULL;
	const struct fdproc *d;

	if (i || !file)
		return i;
	/* its exit or exec was seen first: the same tracepoint emits both */
	d = fdproc_departed(t, pid);
	for (e = d ? d->ents : NULL; e; e = e->pnext)
		if (e->fd == fd && (i = with_file(e, file)))
			return i;
	return NULL;
}

const struct ks_fdinfo *ks_fdtab__by_ino(struct ks_fdtab *t, uint32_t pid, uint64_t ino,
				       uint64_t now, int32_t *fd)
{
	const struct fdproc *p = ino ? fdproc_get(t, pid, now, true) : NULL;

	for (const struct fdent *e = p ? p->ents : NULL; e; e = e->pnext)
		if (e->cur && e->cur->ino == ino) {
			*fd = e->fd;
			return e->cur;
		}
	return NULL;
}

static bool endpoint_eq(const struct ks_endpoint *a, const struct ks_endpoint *b)
{
	return a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

const struct ks_fdinfo *ks_fdtab__peer(const struct ks_fdtab *t, const struct ks_fdinfo *sock,
				       uint32_t *pid, int32_t *fd)
{
	if (!sock || sock->kind != KS_FD_SOCKET ||
	    (sock->family != AF_INET && sock->family != AF_INET6) ||
	    ks_endpoint_unset(&sock->remote))
		return NULL;
	for (size_t b = 0; b <= t->mask; b++) {
		for (const struct fdent *e = t->tab[b]; e; e = e->next) {
			const struct ks_fdinfo *i = e->cur;

			/* a namespace not known is its own: never paired with a known one */
			if (!i || i == sock || i->kind != KS_FD_SOCKET ||
			    i->family != sock->family || i->sotype != sock->sotype ||
			    i->netns != sock->netns || !endpoint_eq(&i->local, &sock->remote) ||
			    !endpoint_eq(&i->remote, &sock->local))
				continue;
			*pid = e->pid;
			*fd = e->fd;
			return i;
		}
	}
	return NULL;
}

void ks_fdtab__stats(const struct ks_fdtab *t, struct ks_fdtab_stats *out)
{
	size_t procs = 0;

	for (size_t i = 0; i < FD_PROC_BUCKETS; i++)
		for (const struct fdproc *p = t->procs[i]; p; p = p->next)
			procs++;
	*out = t->st;
	out->fds = t->count;
	out->procs = procs;
	out->departed = t->ndeparted;
}
