// SPDX-License-Identifier: GPL-2.0
/* The fd table's entries and the rules for applying changes and answering (fdtab.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fdtab_int.h"

static size_t slot(const struct ks_fdtab *t, uint32_t pid, int32_t fd)
{
	uint64_t h = ((uint64_t)pid << 32 | (uint32_t)fd) * 0x9E3779B97F4A7C15ULL;

	return (h >> 32) & t->mask;
}

struct ks_fdtab *ks_fdtab__new(const char *proc_root, size_t max, struct ks_worker *w)
{
	struct ks_fdtab *t = calloc(1, sizeof(*t));
	struct ks_fdspec unknown = { .kind = KS_FD_UNKNOWN };

	if (!t)
		return NULL;
	snprintf(t->io.root, sizeof(t->io.root), "%s", proc_root ? proc_root : "/proc");
	t->w = w;
	t->max = max ? max : 1;
	t->mask = 1023;
	t->tab = calloc(t->mask + 1, sizeof(*t->tab));
	t->unknown = ks_fdinfo_new(&unknown);
	if (!t->tab || !t->unknown) {
		ks_fdtab__free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void fdent_free(struct fdent *e)
{
	ks_fdinfo_put(e->cur);
	ks_fdinfo_put(e->prev);
	free(e);
}

/* Drop every live fd (processes stay: they are scanned again). */
static void clear(struct ks_fdtab *t)
{
	for (size_t i = 0; i <= t->mask; i++) {
		while (t->tab[i]) {
			struct fdent *e = t->tab[i];

			t->tab[i] = e->next;
			fdent_free(e);
		}
	}
	for (size_t i = 0; i < FD_PROC_BUCKETS; i++) {
		for (struct fdproc *p = t->procs[i]; p; p = p->next) {
			p->ents = NULL;
			p->nents = 0;
			if (p->scan == SCAN_DONE)
				p->scan = SCAN_NONE;
		}
	}
	t->count = 0;
	t->last = NULL;
	t->st.cleared++;
}

void ks_fdtab__free(struct ks_fdtab *t)
{
	if (!t)
		return;
	if (t->tab)
		clear(t);
	fdproc_free_all(t);
	fdtab_io_free(&t->io);
	free(t->tab);
	ks_fdinfo_put(t->unknown);
	free(t);
}

size_t ks_fdtab__count(const struct ks_fdtab *t)
{
	return t->count;
}

struct fdent *fdent_find(const struct ks_fdtab *t, uint32_t pid, int32_t fd)
{
	for (struct fdent *e = t->tab[slot(t, pid, fd)]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e;
	return NULL;
}

void fdent_unhash(struct ks_fdtab *t, struct fdent *e)
{
	struct fdent **pp = &t->tab[slot(t, e->pid, e->fd)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	e->next = NULL;
	t->count--;
}

/* Double the table while it is denser than one entry per bucket. */
static void grow(struct ks_fdtab *t)
{
	size_t old = t->mask + 1;
	struct fdent **tab = calloc(old * 2, sizeof(*tab)), **prev = t->tab;

	if (!tab)
		return;
	t->tab = tab;
	t->mask = old * 2 - 1;
	for (size_t i = 0; i < old; i++) {
		while (prev[i]) {
			struct fdent *e = prev[i];
			size_t s = slot(t, e->pid, e->fd);

			prev[i] = e->next;
			e->next = tab[s];
			tab[s] = e;
		}
	}
	free(prev);
}

/* The entry of @fd of @p, made if new. May empty the table first (bounded). */
static struct fdent *get(struct ks_fdtab *t, struct fdproc *p, int32_t fd)
{
	struct fdent *e = fdent_find(t, p->pid, fd);
	size_t s;

	if (e)
		return e;
	if (t->count >= t->max)
		clear(t);
	if (t->count > t->mask)
		grow(t);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = p->pid;
	e->fd = fd;
	s = slot(t, p->pid, fd);
	e->next = t->tab[s];
	t->tab[s] = e;
	e->pnext = p->ents;
	p->ents = e;
	p->nents++;
	t->count++;
	return e;
}

void fdent_set(struct ks_fdtab *t, struct fdproc *p, int32_t fd, struct ks_fdinfo *info,
	       uint64_t since, uint64_t made)
{
	struct fdent *e;

	if (!info)
		return;
	e = get(t, p, fd);
	if (!e) {
		ks_fdinfo_put(info);
		return;
	}
	if (e->cur) {
		ks_fdinfo_put(e->prev);
		e->prev = e->cur;
	}
	e->cur = info;
	e->since = since;
	e->made = made;
	e->retry = 0;
	e->gen++;
}

static void close_fd(struct fdent *e, const struct ks_fdchange *c, bool use_flag)
{
	if (!e || !e->cur)
		return;
	/* the current incarnation was made after this close entered: the close is older */
	if (c->enter_ts ? e->made > c->enter_ts : use_flag && (c->flags & KS_FDC_REUSED))
		return;
	ks_fdinfo_put(e->prev);
	e->prev = e->cur;
	e->cur = NULL;
	e->since = c->ts;
	e->made = c->ts;
	e->retry = 0;
	e->gen++;
}

/* NEW, UPDATE, DUP of an unknown source: the info the change describes. */
static void apply_spec(struct ks_fdtab *t, struct fdproc *p, const struct ks_fdchange *c,
		       uint64_t since)
{
	struct ks_fdspec s = c->spec;
	struct ks_fdinfo *info;
	char *path = NULL;
	struct fdent *e;

	if (s.path && (c->flags & KS_FDC_PATH)) {
		s.path = path = fdtab_resolve(t, p, c);
	} else if (s.path && (c->flags & KS_FDC_BASENAME)) {
		/* a last component only: shown as such, never as if it were a relative path */
		if (asprintf(&path, ".../%s", s.path) < 0)
			path = NULL;
		s.path = path;
	}
	if (s.kind == KS_FD_SOCKET && !s.netns)
		s.netns = p->netns;	/* made by the process: in its namespace */
	info = ks_fdinfo_new(&s);
	free(path);
	if (!info)
		return;
	e = c->op == KS_FD_UPDATE ? fdent_find(t, p->pid, c->fd) : NULL;
	if (e && e->cur) {
		/* connect, bind: same incarnation, new endpoints */
		ks_fdinfo_put(e->cur);
		e->cur = info;
		e->retry = 0;
		e->gen++;
		return;
	}
	if (c->op == KS_FD_NEW && c->fd2 >= 0)	/* pipe, socketpair: the second end */
		fdent_set(t, p, c->fd2, ks_fdinfo_get(info), since, c->ts);
	fdent_set(t, p, c->fd, info, since, c->ts);
	/* /proc has the whole path while the process still has that file at the fd */
	if (c->op == KS_FD_DUP && (c->flags & KS_FDC_BASENAME) && c->spec.path &&
	    s.kind == KS_FD_FILE && (e = fdent_find(t, p->pid, c->fd)))
		fdtab_probe(t, p, e, c->ts, c->spec.path);
}

void ks_fdtab__apply(struct ks_fdtab *t, const struct ks_fdchange *c)
{
	uint64_t since = c->enter_ts ? c->enter_ts : c->ts;
	struct fdproc *p = fdproc_get(t, c->pid, c->ts, true);
	struct fdent *e;

	if (!p)
		return;
	t->last = NULL;
	switch (c->op) {
	case KS_FD_CLOSE:
		e = fdent_find(t, p->pid, c->fd);
		if (!e && p->scan != SCAN_DONE && (e = get(t, p, c->fd))) {
			/* a scan under way may have seen it open: it must not undo this */
			e->since = e->made = c->ts;
			e->gen++;
		}
		close_fd(e, c, true);
		return;
	case KS_FD_CLOSE_RANGE:
		for (e = p->ents; e; e = e->pnext)
			if (e->fd >= c->fd && e->fd <= c->fd2)
				close_fd(e, c, false);
		if (p->scan != SCAN_DONE) {	/* the same, for fds not known yet */
			p->cr_lo = c->fd;
			p->cr_hi = c->fd2;
			p->cr_ts = c->ts;
		}
		return;
	case KS_FD_CWD:
		fdtab_change_cwd(t, p, c);
		return;
	case KS_FD_DUP:
		if (c->fd == c->fd2)
			return;
		e = fdent_find(t, p->pid, c->fd2);
		if (e && e->cur) {
			fdent_set(t, p, c->fd, ks_fdinfo_get(e->cur), since, c->ts);
			return;
		}
		break;	/* an unknown source: what the kernel saw at the new fd */
	case KS_FD_NEW:
	case KS_FD_UPDATE:
		break;
	default:
		return;
	}
	apply_spec(t, p, c, since);
}

static bool unbound(const struct ks_fdinfo *i)
{
	return i->kind == KS_FD_SOCKET && !i->local.port &&
	       (i->family == AF_INET || i->family == AF_INET6);
}

const struct ks_fdinfo *ks_fdtab__lookup(struct ks_fdtab *t, uint32_t pid, int32_t fd,
					 uint64_t enter_ts, uint64_t now)
{
	struct fdent *e = t->last;
	struct fdproc *p;

	if (e && e->pid == pid && e->fd == fd && e->cur && enter_ts >= e->since &&
	    !unbound(e->cur))
		return e->cur;
	p = fdproc_get(t, pid, now, true);
	if (!p)
		return t->unknown;
	e = fdent_find(t, pid, fd);
	if (e && e->prev && enter_ts && enter_ts < e->since)
		return e->prev;
	if (!e && p->scan != SCAN_DONE)
		return t->unknown;	/* the scan will tell */
	if (!e && !(e = get(t, p, fd)))
		return t->unknown;
	if (!e->cur) {
		if (p->scan == SCAN_DONE)
			fdtab_probe(t, p, e, now, NULL);	/* made by a call not followed? */
		return t->unknown;
	}
	if (unbound(e->cur))
		fdtab_probe(t, p, e, now, NULL);	/* UDP binds at its first send */
	else
		t->last = e;
	return e->cur;
}

const struct ks_fdinfo *ks_fdtab__name(struct ks_fdtab *t, uint32_t pid, int32_t fd,
				       uint64_t now)
{
	struct fdproc *d;
	struct fdent *e;

	if (!fdproc_find(t, pid) && (d = fdproc_departed(t, pid))) {
		for (e = d->ents; e; e = e->pnext)
			if (e->fd == fd && (e->cur || e->prev))
				return e->cur ? e->cur : e->prev;
		return t->unknown;	/* do not scan a process known to be gone */
	}
	e = fdent_find(t, pid, fd);
	if (e && !e->cur && e->prev)
		return e->prev;
	return ks_fdtab__lookup(t, pid, fd, 0, now);
}

const struct ks_fdinfo *ks_fdtab__peek(const struct ks_fdtab *t, uint32_t pid, int32_t fd)
{
	const struct fdent *e = fdent_find(t, pid, fd);

	return e ? e->cur : NULL;
}
