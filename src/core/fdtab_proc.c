// SPDX-License-Identifier: GPL-2.0
/* The fd table's processes: live and departed ones, and their working directories. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fdtab_int.h"
#include "core/path.h"

#define FD_DEPARTED_PROCS 16384	/* departed processes kept at most, besides their fds */

struct fdproc *fdproc_find(const struct ks_fdtab *t, uint32_t pid)
{
	for (struct fdproc *p = t->procs[pid % FD_PROC_BUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

struct fdproc *fdproc_departed(const struct ks_fdtab *t, uint32_t pid)
{
	/* the newest first: departures are pushed at the head of their chain */
	for (struct fdproc *p = t->dprocs[pid % FD_PROC_BUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static void proc_free(struct fdproc *p)
{
	while (p->ents) {
		struct fdent *e = p->ents;

		p->ents = e->pnext;
		fdent_free(e);
	}
	free(p->cwd);
	free(p);
}

struct fdproc *fdproc_get(struct ks_fdtab *t, uint32_t pid, uint64_t now, bool scan)
{
	struct fdproc *p = fdproc_find(t, pid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		p->serial = ++t->serial;
		p->next = t->procs[pid % FD_PROC_BUCKETS];
		t->procs[pid % FD_PROC_BUCKETS] = p;
	}
	if (scan && p->scan == SCAN_NONE && now >= p->scan_retry)
		fdtab_queue_scan(t, p, now);
	return p;
}

/* The oldest departed process goes, with what it left. */
static void drop_oldest(struct ks_fdtab *t)
{
	struct fdproc *p = t->dhead, **pp = &t->dprocs[p->pid % FD_PROC_BUCKETS];

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	t->dhead = p->dnext;
	if (!t->dhead)
		t->dtail = NULL;
	t->ndeparted -= p->nents;
	proc_free(p);
	t->ndprocs--;
}

void ks_fdtab__forget(struct ks_fdtab *t, uint32_t pid, uint64_t ts)
{
	struct fdproc **pp = &t->procs[pid % FD_PROC_BUCKETS], *p;

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	p = *pp;
	if (!p)
		return;
	*pp = p->next;
	for (struct fdent *e = p->ents; e; e = e->pnext)
		fdent_unhash(t, e);
	t->last = NULL;
	p->departed = true;
	p->gone_ts = ts;
	p->next = t->dprocs[pid % FD_PROC_BUCKETS];
	t->dprocs[pid % FD_PROC_BUCKETS] = p;
	p->dnext = NULL;
	if (t->dtail)
		t->dtail->dnext = p;
	else
		t->dhead = p;
	t->dtail = p;
	t->ndeparted += p->nents;
	t->ndprocs++;
	while (t->dhead && (t->ndeparted > t->max / 4 || t->ndprocs > FD_DEPARTED_PROCS))
		drop_oldest(t);
}

void ks_fdtab__reap(struct ks_fdtab *t, uint64_t before)
{
	while (t->dhead && t->dhead->gone_ts < before)
		drop_oldest(t);
}

void fdproc_free_all(struct ks_fdtab *t)
{
	while (t->dhead)
		drop_oldest(t);
	for (size_t i = 0; i < FD_PROC_BUCKETS; i++) {
		while (t->procs[i]) {
			struct fdproc *p = t->procs[i];

			t->procs[i] = p->next;
			proc_free(p);
		}
	}
}

char *fdtab_resolve(struct ks_fdtab *t, struct fdproc *p, const struct ks_fdchange *c)
{
	const char *path = c->spec.path, *base = NULL;

	if (path[0] != '/' && c->dfd == KS_AT_FDCWD) {
		base = p->cwd;
	} else if (path[0] != '/') {
		struct fdent *d = fdent_find(t, p->pid, c->dfd);

		if (d && d->cur && d->cur->kind == KS_FD_FILE)
			base = d->cur->path;
	}
	/* clean even when absolute: gzip opens "/dir/" and then "name" relative to it */
	return ks_path_join_dup(base, path);
}

void fdtab_change_cwd(struct ks_fdtab *t, struct fdproc *p, const struct ks_fdchange *c)
{
	char *cwd = NULL;

	if (c->spec.path) {
		cwd = fdtab_resolve(t, p, c);
	} else {
		struct fdent *d = fdent_find(t, p->pid, c->fd);

		if (d && d->cur && d->cur->path)
			cwd = strdup(d->cur->path);
	}
	if (!cwd)
		return;
	free(p->cwd);
	p->cwd = cwd;
	p->cwd_ts = c->ts;
}
