// SPDX-License-Identifier: GPL-2.0
/* The rw fd cache (see rw_fdcache.h for the ordering rules). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/rw_fdcache.h"

#define RETRY_NS 1000000000ULL	/* unknown fds and unbound sockets: look again after 1 s */
#define SCAN_NET_AGE 100000000ULL	/* a scan uses socket tables at most 100 ms old */

struct rw_fdent {
	uint32_t pid;
	int32_t fd;
	struct rw_fdinfo *cur;	/* NULL: closed, or not known */
	struct rw_fdinfo *prev;	/* the incarnation before, or NULL */
	uint64_t since;		/* a call entering before this used prev */
	uint64_t made;		/* return of the call that made cur; 0: from /proc */
	uint64_t retry;		/* next /proc look for a missing or unbound fd */
	struct rw_fdent *next;
};

struct rw_proc {
	uint32_t pid;
	bool scanned;
	char *cwd;
	uint64_t netns;		/* inode of its network namespace; 0 unknown */
	struct rw_proc *next;
};

/* Socket tables per network namespace: processes of one namespace share them. */
struct rw_netns {
	uint64_t id;		/* 0: a process whose namespace could not be read */
	uint32_t pid;		/* the process the table was read through */
	uint64_t at;		/* when it was loaded (record clock); 0 never */
	struct rw_socktab tab;
	struct rw_netns *next;
};

#define PROC_BUCKETS 1024

struct rw_fdcache {
	char root[128];
	size_t max, count, mask;
	struct rw_fdent **tab;
	struct rw_proc *procs[PROC_BUCKETS];
	struct rw_netns *netns;
	struct rw_fdent *last;	/* the previous lookup's entry: loops hit the same fd */
	struct rw_fdinfo *unknown;
};

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

static void proc_free(struct rw_proc *p)
{
	free(p->cwd);
	free(p);
}

/* Drop every fd (not the processes: callers may hold them); processes are scanned again. */
static void clear(struct rw_fdcache *c)
{
	for (size_t i = 0; c->tab && i <= c->mask; i++) {
		while (c->tab[i]) {
			struct rw_fdent *e = c->tab[i];

			c->tab[i] = e->next;
			ent_free(e);
		}
	}
	for (size_t i = 0; i < PROC_BUCKETS; i++)
		for (struct rw_proc *p = c->procs[i]; p; p = p->next)
			p->scanned = false;
	c->count = 0;
	c->last = NULL;
}

void rw_fdcache__free(struct rw_fdcache *c)
{
	if (!c)
		return;
	clear(c);
	for (size_t i = 0; i < PROC_BUCKETS; i++) {
		while (c->procs[i]) {
			struct rw_proc *p = c->procs[i];

			c->procs[i] = p->next;
			proc_free(p);
		}
	}
	while (c->netns) {
		struct rw_netns *n = c->netns;

		c->netns = n->next;
		rw_socktab_free(&n->tab);
		free(n);
	}
	free(c->tab);
	rw_fdinfo_put(c->unknown);
	free(c);
}

size_t rw_fdcache__count(const struct rw_fdcache *c)
{
	return c->count;
}

static struct rw_fdent *find(struct rw_fdcache *c, uint32_t pid, int32_t fd)
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

static struct rw_fdent *get(struct rw_fdcache *c, uint32_t pid, int32_t fd)
{
	struct rw_fdent *e = find(c, pid, fd);
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
	e->pid = pid;
	e->fd = fd;
	s = slot(c, pid, fd);
	e->next = c->tab[s];
	c->tab[s] = e;
	c->count++;
	return e;
}

/* A new incarnation of @fd (takes the reference to @info). */
static void set(struct rw_fdcache *c, uint32_t pid, int32_t fd, struct rw_fdinfo *info,
		uint64_t since, uint64_t made)
{
	struct rw_fdent *e;

	if (!info)
		return;
	e = get(c, pid, fd);
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

static struct rw_proc *proc_find(struct rw_fdcache *c, uint32_t pid)
{
	for (struct rw_proc *p = c->procs[pid % PROC_BUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static char *read_link(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* The socket table of @p's namespace, reloaded when older than @max_age ns. */
static const struct rw_socktab *net_of(struct rw_fdcache *c, struct rw_proc *p, uint64_t now,
				       uint64_t max_age)
{
	struct rw_netns *n;

	for (n = c->netns; n; n = n->next)
		if (n->id == p->netns && (p->netns || n->pid == p->pid))
			break;
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
		n->id = p->netns;
		n->next = c->netns;
		c->netns = n;
	}
	if (!n->at || now >= n->at + max_age || now < n->at) {
		n->pid = p->pid;
		rw_socktab_load(&n->tab, c->root, p->pid);
		n->at = now ? now : 1;
	}
	return &n->tab;
}

/* What /proc says @fd is now; NULL if it is not open. */
static struct rw_fdinfo *probe_fd(struct rw_fdcache *c, struct rw_proc *p, int32_t fd,
				  uint64_t now, uint64_t max_age)
{
	char path[192], link[PATH_MAX];
	const struct rw_socktab *net = NULL;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/fd/%d", c->root, p->pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = 0;
	if (!strncmp(link, "socket:", 7))
		net = net_of(c, p, now, max_age);
	return rw_fdinfo_from_link(link, stat(path, &st) ? 0 : st.st_mode, net);
}

static void scan(struct rw_fdcache *c, struct rw_proc *p, uint64_t now)
{
	char path[160], *ns;
	struct dirent *d;
	DIR *dir;

	p->scanned = true;
	snprintf(path, sizeof(path), "%s/%u/cwd", c->root, p->pid);
	free(p->cwd);
	p->cwd = read_link(path);
	snprintf(path, sizeof(path), "%s/%u/ns/net", c->root, p->pid);
	ns = read_link(path);	/* "net:[4026531840]" */
	p->netns = ns && !strncmp(ns, "net:[", 5) ? strtoull(ns + 5, NULL, 10) : 0;
	free(ns);
	snprintf(path, sizeof(path), "%s/%u/fd", c->root, p->pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char *end;
		long fd = strtol(d->d_name, &end, 10);

		if (end == d->d_name || *end || fd < 0 || fd > INT32_MAX)
			continue;
		set(c, p->pid, fd, probe_fd(c, p, fd, now, SCAN_NET_AGE), 0, 0);
	}
	closedir(dir);
}

static struct rw_proc *proc_get(struct rw_fdcache *c, uint32_t pid, uint64_t now)
{
	struct rw_proc *p = proc_find(c, pid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		p->next = c->procs[pid % PROC_BUCKETS];
		c->procs[pid % PROC_BUCKETS] = p;
	}
	if (!p->scanned)
		scan(c, p, now);
	return p;
}

void rw_fdcache__scan(struct rw_fdcache *c, uint32_t pid, uint64_t now_ns)
{
	proc_get(c, pid, now_ns);
}

void rw_fdcache__forget(struct rw_fdcache *c, uint32_t pid)
{
	struct rw_proc **pp = &c->procs[pid % PROC_BUCKETS];

	for (size_t i = 0; i <= c->mask; i++) {
		for (struct rw_fdent **ep = &c->tab[i]; *ep;) {
			struct rw_fdent *e = *ep;

			if (e->pid != pid) {
				ep = &e->next;
				continue;
			}
			*ep = e->next;
			ent_free(e);
			c->count--;
		}
	}
	c->last = NULL;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct rw_proc *p = *pp;

			*pp = p->next;
			proc_free(p);
			return;
		}
	}
}

/* An open-family path made absolute: relative to the cwd or to the directory fd. */
static char *resolve(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		     const char *path)
{
	const char *base = NULL;
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (e->dfd == -100) {
		base = p->cwd;
	} else {
		struct rw_fdent *d = find(c, p->pid, e->dfd);

		if (d && d->cur && d->cur->kind == RW_KIND_FILE)
			base = d->cur->path;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!base || asprintf(&out, "%s%s%s", base, strcmp(base, "/") ? "/" : "", path) < 0)
		return strdup(path);
	return out;
}

/* chdir (relative to the old cwd) or fchdir (to what the fd names). */
static void change_cwd(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		       size_t size)
{
	struct rw_fdspec s;
	char *cwd = NULL;

	rw_fdspec_from_event(&s, e, size, NULL, NULL, 0);
	if (s.path) {
		cwd = resolve(c, p, e, s.path);
	} else {
		struct rw_fdent *d = find(c, p->pid, e->fd);

		if (d && d->cur && d->cur->path)
			cwd = strdup(d->cur->path);
	}
	if (!cwd)
		return;
	free(p->cwd);
	p->cwd = cwd;
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

void rw_fdcache__apply(struct rw_fdcache *c, const struct rw_fd_event *e, size_t size)
{
	uint64_t since = e->enter_ts ? e->enter_ts : e->hdr.ts;
	char laddr[RW_UNIX_PATH + 8], raddr[RW_UNIX_PATH + 8], *path = NULL;
	struct rw_fdinfo *info = NULL;
	struct rw_fdspec s;
	struct rw_fdent *ent;
	struct rw_proc *p;

	if (size < sizeof(*e))
		return;
	p = proc_get(c, e->hdr.pid, e->hdr.ts);
	if (!p)
		return;
	c->last = NULL;
	switch (e->op) {
	case RW_FD_CLOSE:
		close_fd(find(c, e->hdr.pid, e->fd), e, true);
		return;
	case RW_FD_CLOSE_RANGE:
		for (size_t i = 0; i <= c->mask; i++)
			for (ent = c->tab[i]; ent; ent = ent->next)
				if (ent->pid == e->hdr.pid && ent->fd >= e->fd && ent->fd <= e->fd2)
					close_fd(ent, e, false);
		return;
	case RW_FD_DUP:
		if (e->fd == e->fd2)
			return;
		ent = find(c, e->hdr.pid, e->fd2);
		if (ent && ent->cur) {
			ent->cur->refs++;
			set(c, e->hdr.pid, e->fd, ent->cur, since, e->hdr.ts);
			return;
		}
		break;
	case RW_FD_CWD:
		change_cwd(c, p, e, size);
		return;
	case RW_FD_NEW:
	case RW_FD_UPDATE:
		break;
	default:
		return;
	}
	rw_fdspec_from_event(&s, e, size, laddr, raddr, sizeof(laddr));
	if (s.path && (e->flags & RW_FDF_PATH))
		s.path = path = resolve(c, p, e, s.path);
	info = rw_fdinfo_new(&s);
	free(path);
	if (!info)
		return;
	ent = e->op == RW_FD_UPDATE ? find(c, e->hdr.pid, e->fd) : NULL;
	if (ent && ent->cur) {
		/* connect, bind: same incarnation, new endpoints */
		rw_fdinfo_put(ent->cur);
		ent->cur = info;
		ent->retry = 0;
		return;
	}
	if (e->op == RW_FD_NEW && e->fd2 >= 0) {
		info->refs++;	/* pipe, socketpair: the second end */
		set(c, e->hdr.pid, e->fd2, info, since, e->hdr.ts);
	}
	set(c, e->hdr.pid, e->fd, info, since, e->hdr.ts);
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
	ent->retry = now + RETRY_NS;
	info = probe_fd(c, p, ent->fd, now, RETRY_NS);
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
	p = proc_get(c, pid, now_ns);
	if (!p)
		return c->unknown;
	ent = find(c, pid, fd);
	if (ent && ent->prev && enter_ts && enter_ts < ent->since)
		return ent->prev;
	if (!ent)
		ent = get(c, pid, fd);
	if (!ent)
		return c->unknown;
	if (!ent->cur && now_ns >= ent->retry) {
		ent->cur = probe_fd(c, p, fd, now_ns, RETRY_NS);
		ent->made = 0;
		ent->retry = now_ns + RETRY_NS;
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
	struct rw_fdent *ent = find(c, pid, fd);

	if (ent && !ent->cur && ent->prev)
		return ent->prev;
	return rw_fdcache__lookup(c, pid, fd, 0, now_ns);
}
