// SPDX-License-Identifier: GPL-2.0
/*
 * What the worker reads from /proc for the fd table (a process's fds, cwd and network
 * namespace; one fd; the socket tables of a namespace) and how the reader merges it: a
 * read at time T never undoes a change a record made after T.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fdtab_int.h"

enum probe_mode { PROBE_MISSING, PROBE_UNBOUND, PROBE_DUP };

struct scanned {
	int32_t fd;
	struct ks_fdinfo *info;
};

struct scan_job {
	struct ks_job j;
	struct ks_fdtab *t;	/* finish() only */
	struct fdtab_io *io;	/* run() only */
	uint32_t pid;
	uint64_t serial;
	uint64_t at;		/* when /proc was read */
	bool found;
	char *cwd;
	uint64_t netns;
	struct scanned *v;
	size_t n, cap;
	uint32_t net_loads;
};

struct probe_job {
	struct ks_job j;
	struct ks_fdtab *t;
	struct fdtab_io *io;
	uint32_t pid, gen;
	int32_t fd;
	uint8_t mode;		/* enum probe_mode */
	uint64_t serial, netns;
	char *base;		/* PROBE_DUP: the last component the kernel gave */
	struct ks_fdinfo *info;
	uint32_t net_loads;
};

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

static uint64_t netns_of(const struct fdtab_io *io, uint32_t pid)
{
	char path[160], *ns;
	uint64_t id;

	snprintf(path, sizeof(path), "%s/%u/ns/net", io->root, pid);
	ns = read_link(path);	/* "net:[4026531840]" */
	id = ns && !strncmp(ns, "net:[", 5) ? strtoull(ns + 5, NULL, 10) : 0;
	free(ns);
	return id;
}

void fdtab_io_free(struct fdtab_io *io)
{
	while (io->nets) {
		struct fdnet *n = io->nets;

		io->nets = n->next;
		ks_socktab_free(&n->tab);
		free(n);
	}
}

/*
 * The sockets of namespace @netns read through @pid (one of its processes), at most
 * @max_age ns old at @at. A namespace unknown (0) is read each time into a table of its
 * own. Namespaces unused for FD_NET_KEEP are dropped. NULL when out of memory.
 */
static const struct ks_socktab *net_tab(struct fdtab_io *io, uint32_t pid, uint64_t netns,
					uint64_t at, uint64_t max_age, uint32_t *loads)
{
	struct fdnet **pp = &io->nets, *n = NULL;

	while (*pp) {
		struct fdnet *x = *pp;

		if (x->netns == netns && !n) {
			n = x;
		} else if (at > x->at + FD_NET_KEEP) {
			*pp = x->next;
			ks_socktab_free(&x->tab);
			free(x);
			continue;
		}
		pp = &x->next;
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
		n->netns = netns;
		n->next = io->nets;
		io->nets = n;
	}
	if (!netns || !n->at || at >= n->at + max_age || at < n->at) {
		ks_socktab_load(&n->tab, io->root, pid);
		n->at = at;
		(*loads)++;
	}
	return &n->tab;
}

/* What /proc says fd @fd of @pid is now; NULL if it is not open. */
static struct ks_fdinfo *read_fd(struct fdtab_io *io, uint32_t pid, uint64_t netns, int32_t fd,
				 uint64_t at, uint64_t max_age, uint32_t *loads)
{
	char path[192], link[PATH_MAX];
	const struct ks_socktab *net = NULL;
	struct ks_fdinfo *info;
	struct stat st;
	ssize_t n;
	bool ok;

	snprintf(path, sizeof(path), "%s/%u/fd/%d", io->root, pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = 0;
	if (!strncmp(link, "socket:", 7))
		net = net_tab(io, pid, netns, at, max_age, loads);
	ok = !stat(path, &st);
	info = ks_fdinfo_from_link(link, ok ? st.st_mode : 0, net, netns);
	/* files too: io_uring's fixed files are found by it (not yet shared) */
	if (info && ok && !info->ino)
		info->ino = st.st_ino;
	return info;
}

static void scan_run(struct ks_job *job, struct ks_worker *w)
{
	struct scan_job *j = (struct scan_job *)job;
	char path[160];
	struct dirent *d;
	DIR *dir;

	if (!ks_worker__pause(w))
		return;
	j->at = mono_now();
	snprintf(path, sizeof(path), "%s/%u/cwd", j->io->root, j->pid);
	j->cwd = read_link(path);
	j->netns = netns_of(j->io, j->pid);
	snprintf(path, sizeof(path), "%s/%u/fd", j->io->root, j->pid);
	dir = opendir(path);
	if (!dir)
		return;
	j->found = true;
	while ((d = readdir(dir))) {
		struct ks_fdinfo *info;
		char *end;
		long fd = strtol(d->d_name, &end, 10);

		if (end == d->d_name || *end || fd < 0 || fd > INT32_MAX)
			continue;
		info = read_fd(j->io, j->pid, j->netns, fd, j->at, FD_NET_AGE, &j->net_loads);
		if (!info)
			continue;
		if (j->n == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 16;
			struct scanned *v = realloc(j->v, cap * sizeof(*v));

			if (!v) {
				ks_fdinfo_put(info);
				break;
			}
			j->v = v;
			j->cap = cap;
		}
		j->v[j->n++] = (struct scanned){ fd, info };
	}
	closedir(dir);
}

static void scan_merge(struct ks_fdtab *t, struct scan_job *j)
{
	struct fdproc *p = fdproc_find(t, j->pid);

	t->st.net_loads += j->net_loads;
	if (!p || p->serial != j->serial) {
		t->st.stale++;	/* forgotten meanwhile (exit, exec): its next scan is asked */
		return;
	}
	p->scan = SCAN_DONE;
	t->st.scans_done++;
	t->last = NULL;
	if (!j->found)
		return;		/* gone: what records said stands */
	if (j->netns)
		p->netns = j->netns;
	if (j->cwd && p->cwd_ts <= j->at) {
		free(p->cwd);
		p->cwd = j->cwd;
		p->cwd_ts = j->at;
		j->cwd = NULL;
	}
	for (size_t i = 0; i < j->n; i++) {
		int32_t fd = j->v[i].fd;
		struct fdent *e = fdent_find(t, j->pid, fd);

		if (p->cr_ts > j->at && fd >= p->cr_lo && fd <= p->cr_hi)
			continue;	/* closed by a close_range after the read */
		/* unknown; closed (or never seen) before the read; or from /proc already */
		if (!e || (!e->cur && e->made < j->at) || (e->cur && !e->made)) {
			fdent_set(t, p, fd, j->v[i].info, 0, 0);
			j->v[i].info = NULL;
		}
	}
	p->cr_ts = 0;
}

static void scan_finish(struct ks_job *job, bool ran)
{
	struct scan_job *j = (struct scan_job *)job;

	if (ran)
		scan_merge(j->t, j);
	for (size_t i = 0; i < j->n; i++)
		ks_fdinfo_put(j->v[i].info);
	free(j->v);
	free(j->cwd);
	free(j);
}

void fdtab_queue_scan(struct ks_fdtab *t, struct fdproc *p, uint64_t now)
{
	struct scan_job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	j->j.run = scan_run;
	j->j.finish = scan_finish;
	j->t = t;
	j->io = &t->io;
	j->pid = p->pid;
	j->serial = p->serial;
	if (ks_worker__submit(t->w, &j->j)) {
		free(j);
		t->st.refused++;
		p->scan_retry = now + FD_RETRY_NS;
		return;
	}
	p->scan = SCAN_QUEUED;
	t->st.scans_queued++;
}

int ks_fdtab__scan(struct ks_fdtab *t, uint32_t pid, uint64_t now, unsigned int timeout_ms)
{
	struct fdproc *p = fdproc_get(t, pid, now, true);

	if (!p)
		return -ENOMEM;
	if (p->scan == SCAN_NONE)
		return -EAGAIN;	/* refused */
	return ks_worker__wait_idle(t->w, timeout_ms);
}

static void probe_run(struct ks_job *job, struct ks_worker *w)
{
	struct probe_job *j = (struct probe_job *)job;
	uint64_t at;

	if (!ks_worker__pause(w))
		return;
	at = mono_now();
	if (!j->netns)
		j->netns = netns_of(j->io, j->pid);
	j->info = read_fd(j->io, j->pid, j->netns, j->fd, at, FD_RETRY_NS, &j->net_loads);
}

/* Whether the probe's answer replaces what @e holds, for what it was asked. */
static bool probe_wanted(const struct probe_job *j, const struct fdent *e)
{
	const struct ks_fdinfo *i = j->info;
	const char *slash;

	switch (j->mode) {
	case PROBE_MISSING:
		return !e->cur;
	case PROBE_UNBOUND:	/* the same socket, bound since */
		return e->cur && i->kind == KS_FD_SOCKET && i->ino == e->cur->ino &&
		       i->local.port;
	default:		/* the same file still there: its whole path */
		slash = i->kind == KS_FD_FILE && i->path ? strrchr(i->path, '/') : NULL;
		return e->cur && slash && !strcmp(slash + 1, j->base);
	}
}

static void probe_finish(struct ks_job *job, bool ran)
{
	struct probe_job *j = (struct probe_job *)job;
	struct ks_fdtab *t = j->t;
	struct fdproc *p = ran ? fdproc_find(t, j->pid) : NULL;
	struct fdent *e = p && p->serial == j->serial ? fdent_find(t, j->pid, j->fd) : NULL;

	if (ran)
		t->st.net_loads += j->net_loads;
	if (e) {
		e->probing = false;
		t->st.probes_done++;
	} else if (ran) {
		t->st.stale++;
	}
	if (e && e->gen != j->gen)
		t->st.stale++;	/* a record changed it meanwhile: it knows better */
	else if (e && j->info && probe_wanted(j, e)) {
		ks_fdinfo_put(e->cur);
		e->cur = j->info;	/* the same incarnation, better named */
		e->made = j->mode == PROBE_MISSING ? 0 : e->made;
		e->gen++;
		j->info = NULL;
		t->last = NULL;
	}
	ks_fdinfo_put(j->info);
	free(j->base);
	free(j);
}

void fdtab_probe(struct ks_fdtab *t, struct fdproc *p, struct fdent *e, uint64_t now,
		 const char *base)
{
	struct probe_job *j;

	if (e->probing || now < e->retry)
		return;
	e->retry = now + FD_RETRY_NS;
	j = calloc(1, sizeof(*j));
	if (!j || (base && !(j->base = strdup(base)))) {
		free(j);
		return;
	}
	j->j.run = probe_run;
	j->j.finish = probe_finish;
	j->t = t;
	j->io = &t->io;
	j->pid = p->pid;
	j->fd = e->fd;
	j->serial = p->serial;
	j->netns = p->netns;
	j->gen = e->gen;
	j->mode = base ? PROBE_DUP : e->cur ? PROBE_UNBOUND : PROBE_MISSING;
	if (ks_worker__submit(t->w, &j->j)) {
		free(j->base);
		free(j);
		t->st.refused++;
		return;
	}
	e->probing = true;
	t->st.probes_queued++;
}
