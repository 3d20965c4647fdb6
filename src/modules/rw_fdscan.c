// SPDX-License-Identifier: GPL-2.0
/* The fd cache's view of /proc: processes, their fds, cwd and socket tables. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"
#include "modules/rw_fdcache_int.h"

struct rw_proc *rw_proc_find(struct rw_fdcache *c, uint32_t pid)
{
	for (struct rw_proc *p = c->procs[pid % RW_PROC_BUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

void rw_proc_free(struct rw_proc *p)
{
	free(p->cwd);
	free(p);
}

void rw_netns_free_all(struct rw_fdcache *c)
{
	while (c->netns) {
		struct rw_netns *n = c->netns;

		c->netns = n->next;
		rw_socktab_free(&n->tab);
		free(n);
	}
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

struct rw_fdinfo *rw_probe_fd(struct rw_fdcache *c, struct rw_proc *p, int32_t fd, uint64_t now,
			      uint64_t max_age)
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
		rw_fdent_set(c, p, fd, rw_probe_fd(c, p, fd, now, RW_SCAN_NET_AGE), 0, 0);
	}
	closedir(dir);
}

struct rw_proc *rw_proc_get(struct rw_fdcache *c, uint32_t pid, uint64_t now)
{
	struct rw_proc *p = rw_proc_find(c, pid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		p->next = c->procs[pid % RW_PROC_BUCKETS];
		c->procs[pid % RW_PROC_BUCKETS] = p;
	}
	if (!p->scanned)
		scan(c, p, now);
	return p;
}

char *rw_resolve(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		 const char *path)
{
	const char *base = NULL;

	if (path[0] != '/' && e->dfd == -100) {	/* AT_FDCWD */
		base = p->cwd;
	} else if (path[0] != '/') {
		struct rw_fdent *d = rw_fdent_find(c, p->pid, e->dfd);

		if (d && d->cur && d->cur->kind == RW_KIND_FILE)
			base = d->cur->path;
	}
	/* clean even when absolute: gzip opens "/dir/" and then "name" relative to it */
	return ks_path_join_dup(base, path);
}

void rw_change_cwd(struct rw_fdcache *c, struct rw_proc *p, const struct rw_fd_event *e,
		   size_t size)
{
	struct rw_fdspec s;
	char *cwd = NULL;

	rw_fdspec_from_event(&s, e, size, NULL, NULL, 0);
	if (s.path) {
		cwd = rw_resolve(c, p, e, s.path);
	} else {
		struct rw_fdent *d = rw_fdent_find(c, p->pid, e->fd);

		if (d && d->cur && d->cur->path)
			cwd = strdup(d->cur->path);
	}
	if (!cwd)
		return;
	free(p->cwd);
	p->cwd = cwd;
}

void rw_fdcache__scan(struct rw_fdcache *c, uint32_t pid, uint64_t now_ns)
{
	rw_proc_get(c, pid, now_ns);
}
