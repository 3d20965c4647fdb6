// SPDX-License-Identifier: GPL-2.0
/* The rw fd cache's table and the rules for applying records (see rw_fdcache.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "modules/rw_fdcache_int.h"

static size_t slot(const struct rw_fdcache *c, uint32_t pid, int32_t fd)
{
	uint64_t h = ((uint64_t)pid << 32 | (uint32_t)fd) * 0x9E3779B97F4A7C15ULL;

	return (h >> 32) & c->mask;
}

struct rw_fdcache *rw_fdcache__new(const char *proc_root, size_t max)
{
	struct rw_fdcache *c = calloc(1, sizeof(*c));
	struct rw_fdspec unknown = { .kind = RW_KIND_UNKNOWN };

	if (!c)
		return NULL;
	snprintf(c->root, sizeof(c->root), "%s", proc_root);
	c->max = max ? max : 1;
	c->mask = 1023;
	c->tab = calloc(c->mask + 1, sizeof(*c->tab));
	c->unknown = rw_fdinfo_new(&unknown);
	if (!c->tab || !c->unknown) {
		rw_fdcache__free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

static void ent_free(struct rw_fdent *e)
{
	rw_fdinfo_put(e->cur);
	rw_fdinfo_put(e->prev);
	free(e);
}

/* Drop every fd (processes stay: callers may hold them); processes are scanned again. */
static void clear(struct rw_fdcache *c)
{
	for (size_t i = 0; i <= c->mask; i++) {
		while (c->tab[i]) {
			struct rw_fdent *e = c->tab[i];

			c->tab[i] = e->next;
			ent_free(e);
		}
	}
	for (size_t i = 0; i < RW_PROC_BUCKETS; i++) {
		for (struct rw_proc *p = c->procs[i]; p; p = p->next) {
			p->ents = NULL;
			p->scanned = false;
		}
	}
	c->count = 0;
	c->last = NULL;
}

void rw_fdcache__reap(struct rw_fdcache *c)
{
	while (c->departed) {
		struct rw_fdent *e = c->departed;

		c->departed = e->pnext;
		ent_free(e);
	}
}

void rw_fdcache__free(struct rw_fdcache *c)
{
	if (!c)
		return;
	if (c->tab)
		clear(c);
	rw_fdcache__reap(c);
	for (size_t i = 0; i < RW_PROC_BUCKETS; i++) {
		while (c->procs[i]) {
			struct rw_proc *p = c->procs[i];

			c->procs[i] = p->next;
			rw_proc_free(p);
		}
	}
	rw_netns_free_all(c);
	free(c->tab);
	rw_fdinfo_put(c->unknown);
	free(c);
}

size_t rw_fdcache__count(const struct rw_fdcache *c)
{
	return c->count;
}

struct rw_fdent *rw_fdent_find(struct rw_fdcache *c, uint32_t pid, int32_t fd)
{
	for (struct rw_fdent *e = c->tab[slot(c, pid, fd)]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e;
	return NULL;
}

/* Double the table while it is denser than one entry per bucket. */
static void grow(struct rw_fdcache *c)
{
	size_t old = c->mask + 1;
	struct rw_fdent **tab = calloc(old * 2, sizeof(*tab)), **prev = c->tab;

	if (!tab)
		return;
	c->tab = tab;
	c->mask = old * 2 - 1;
	for (size_t i = 0; i < old; i++) {
		while (prev[i]) {
			struct rw_fdent *e = prev[i];
			size_t s = slot(c, e->pid, e->fd);

			prev[i] = e->next;
			e->next = tab[s];
			tab[s] = e;
		}
	}
	free(prev);
}

static struct rw_fdent *get(struct rw_fdcache *c, struct rw_proc *p, int32_t fd)
{
	struct rw_fdent *e = rw_fdent_find(c, p->pid, fd);
	size_t s;

	if (e)
		return e;
	if (c->count >= c->max)
		clear(c);	/* bounded: start over; processes are scanned again */
	if (c->count > c->mask)
		grow(c);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = p->pid;
	e->fd = fd;
	s = slot(c, p->pid, fd);
	e->next = c->tab[s];
	c->tab[s] = e;
	e->pnext = p->ents;
	p->ents = e;
	c->count++;
	return e;
}

void rw_fdent_set(struct rw_fdcache *c, struct rw_proc *p, int32_t fd, struct rw_fdinfo *info,
		  uint64_t since, uint64_t made)
{
	struct rw_fdent *e;

	if (!info)
		return;
	e = get(c, p, fd);
	if (!e) {
		rw_fdinfo_put(info);
		return;
	}
	if (e->cur) {
		rw_fdinfo_put(e->prev);
		e->prev = e->cur;
	}
	e->cur = info;
	e->since = since;
	e->made = made;
	e->retry = 0;
}

void rw_fdcache__forget(struct rw_fdcache *c, uint32_t pid, bool keep_names)
{
	struct rw_proc **pp = &c->procs[pid % RW_PROC_BUCKETS], *p;

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	p = *pp;
	if (!p)
		return;
	*pp = p->next;
	while (p->ents) {
		struct rw_fdent *e = p->ents, **ep = &c->tab[slot(c, e->pid, e->fd)];

		p->ents = e->pnext;
		while (*ep != e)
			ep = &(*ep)->next;
		*ep = e->next;
		c->count--;
		if (keep_names) {
			e->pnext = c->departed;
			c->departed = e;
		} else {
			ent_free(e);
		}
	}
	c->last = NULL;
	rw_proc_free(p);
}

static void close_fd(struct rw_fdent *ent, const struct rw_fd_event *e, bool use_flag)
{
	if (!ent || !ent->cur)
		return;
	/* the current incarnation was made after this close entered: the close is older */
	if (e->enter_ts ? ent->made > e->enter_ts : use_flag && (e->flags & RW_FDF_REUSED))
		return;
	rw_fdinfo_put(ent->prev);
	ent->prev = ent->cur;
	ent->cur = NULL;
	ent->since = e->hdr.ts;
	ent->made = e->hdr.ts;
	ent->retry = 0;
}

/*
 * A dup of an fd the cache does not know (inherited, made before ksight started): the
 * kernel's record names a file by its last component only. /proc has the whole path while
 * the process still has that file at the new fd (same last component). Returns whether the
 * entry was set from it.
 */
static bool dup_from_proc(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
			  size_t size, uint64_t since)
{
	size_t n = size - sizeof(*e) < e->name_len ? size - sizeof(*e) : e->name_len;
	struct rw_fdinfo *info;
	const char *base;

	if (e->kind != RW_KIND_FILE || (e->flags & RW_FDF_PATH) || !n || e->name[n - 1])
		return false;
	info = rw_probe_fd(c, p, e->fd, e->hdr.ts, RW_SCAN_NET_AGE);
	if (!info)
		return false;
	base = info->kind == RW_KIND_FILE && info->path ? strrchr(info->path, '/') : NULL;
	if (!base || strcmp(base + 1, e->name)) {
		rw_fdinfo_put(info);	/* the fd moved on since: keep the kernel's name */
		return false;
	}
	rw_fdent_set(c, p, e->fd, info, since, e->hdr.ts);
	return true;
}

void rw_fdcache__apply(struct rw_fdcache *c, const struct rw_fd_event *e, size_t size)
{
	uint64_t since = e->enter_ts ? e->enter_ts : e->hdr.ts;
	char laddr[RW_UNIX_PATH + 8], raddr[RW_UNIX_PATH + 8], *path = NULL;
	struct rw_fdinfo *info;
	struct rw_fdspec s;
	struct rw_fdent *ent;
	struct rw_proc *p;

	if (size < sizeof(*e))
		return;
	p = rw_proc_get(c, e->hdr.pid, e->hdr.ts);
	if (!p)
		return;
	c->last = NULL;
	switch (e->op) {
	case RW_FD_CLOSE:
		close_fd(rw_fdent_find(c, p->pid, e->fd), e, true);
		return;
	case RW_FD_CLOSE_RANGE:
		for (ent = p->ents; ent; ent = ent->pnext)
			if (ent->fd >= e->fd && ent->fd <= e->fd2)
				close_fd(ent, e, false);
		return;
	case RW_FD_CWD:
		rw_change_cwd(c, p, e, size);
		return;
	case RW_FD_DUP:
		if (e->fd == e->fd2)
			return;
		ent = rw_fdent_find(c, p->pid, e->fd2);
		if (ent && ent->cur) {
			ent->cur->refs++;
			rw_fdent_set(c, p, e->fd, ent->cur, since, e->hdr.ts);
			return;
		}
		/* an unknown source: /proc's path, else what the kernel saw at the new fd */
		if (dup_from_proc(c, p, e, size, since))
			return;
		break;
	case RW_FD_NEW:
	case RW_FD_UPDATE:
		break;
	default:
		return;
	}
	rw_fdspec_from_event(&s, e, size, laddr, raddr, sizeof(laddr));
	if (s.path && (e->flags & RW_FDF_PATH)) {
		s.path = path = rw_resolve(c, p, e, s.path);
	} else if (s.path && s.kind == RW_KIND_FILE && e->op == RW_FD_DUP) {
		/* a last component only: shown as such, never as if it were a relative path */
		if (asprintf(&path, ".../%s", s.path) < 0)
			path = NULL;
		s.path = path;
	}
	info = rw_fdinfo_new(&s);
	free(path);
	if (!info)
		return;
	ent = e->op == RW_FD_UPDATE ? rw_fdent_find(c, p->pid, e->fd) : NULL;
	if (ent && ent->cur) {
		/* connect, bind: same incarnation, new endpoints */
		rw_fdinfo_put(ent->cur);
		ent->cur = info;
		ent->retry = 0;
		return;
	}
	if (e->op == RW_FD_NEW && e->fd2 >= 0) {
		info->refs++;	/* pipe, socketpair: the second end */
		rw_fdent_set(c, p, e->fd2, info, since, e->hdr.ts);
	}
	rw_fdent_set(c, p, e->fd, info, since, e->hdr.ts);
}

static bool unbound(const struct rw_fdinfo *i)
{
	return i->kind == RW_KIND_SOCKET && !i->lport &&
	       (i->family == AF_INET || i->family == AF_INET6);
}

/* An inet socket still unbound when seen (UDP binds at its first send): look again. */
static void refresh_unbound(struct rw_fdcache *c, struct rw_proc *p, struct rw_fdent *ent,
			    uint64_t now)
{
	struct rw_fdinfo *info;

	if (now < ent->retry)
		return;
	ent->retry = now + RW_RETRY_NS;
	info = rw_probe_fd(c, p, ent->fd, now, RW_RETRY_NS);
	if (!info)
		return;
	if (info->kind == RW_KIND_SOCKET && info->ino == ent->cur->ino && info->lport) {
		rw_fdinfo_put(ent->cur);
		ent->cur = info;
		return;
	}
	rw_fdinfo_put(info);
}

const struct rw_fdinfo *rw_fdcache__lookup(struct rw_fdcache *c, uint32_t pid, int32_t fd,
					   uint64_t enter_ts, uint64_t now_ns)
{
	struct rw_fdent *ent = c->last;
	struct rw_proc *p;

	if (ent && ent->pid == pid && ent->fd == fd && ent->cur && enter_ts >= ent->since &&
	    !unbound(ent->cur))
		return ent->cur;
	p = rw_proc_get(c, pid, now_ns);
	if (!p)
		return c->unknown;
	ent = rw_fdent_find(c, pid, fd);
	if (ent && ent->prev && enter_ts && enter_ts < ent->since)
		return ent->prev;
	if (!ent)
		ent = get(c, p, fd);
	if (!ent)
		return c->unknown;
	if (!ent->cur && now_ns >= ent->retry) {
		ent->cur = rw_probe_fd(c, p, fd, now_ns, RW_RETRY_NS);
		ent->made = 0;
		ent->retry = now_ns + RW_RETRY_NS;
	}
	if (!ent->cur)
		return c->unknown;
	if (unbound(ent->cur))
		refresh_unbound(c, p, ent, now_ns);
	c->last = ent;
	return ent->cur;
}

const struct rw_fdinfo *rw_fdcache__name(struct rw_fdcache *c, uint32_t pid, int32_t fd,
					 uint64_t now_ns)
{
	struct rw_fdent *ent;
	bool gone = false;

	if (!rw_proc_find(c, pid)) {
		for (ent = c->departed; ent; ent = ent->pnext) {
			if (ent->pid != pid)
				continue;
			gone = true;
			if (ent->fd == fd && (ent->cur || ent->prev))
				return ent->cur ? ent->cur : ent->prev;
		}
		if (gone)
			return c->unknown;	/* do not scan a process known to be gone */
	}
	ent = rw_fdent_find(c, pid, fd);
	if (ent && !ent->cur && ent->prev)
		return ent->prev;
	return rw_fdcache__lookup(c, pid, fd, 0, now_ns);
}
