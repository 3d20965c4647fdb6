// SPDX-License-Identifier: GPL-2.0
/*
 * The identity cache's cgroups: cgroup id -> path and service, resolved by file handle at
 * first sight (else on the worker; where handles do not work, by a bounded walk there at
 * most once a second),
 * bounded with O(1) least-recently-used eviction; and the service of a record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ident_int.h"

#define CG_GONE_RETRY_NS (10 * KS_IDENT_RETRY_NS)	/* a walk that was cut short */

struct cg_found {
	uint64_t id;
	char *path;
};

struct cg_job {
	struct ks_job j;
	struct ks_ident *id;	/* finish() only */
	const struct ks_cgfs *fs;
	uint64_t cgid;
	bool walk;		/* no handles: walk the tree */
	bool walk_complete;	/* the walk saw every cgroup */
	int err;		/* by handle: 0, -ESTALE (gone), else unknown */
	char path[KS_CG_PATH_MAX];
	struct cg_found *found;	/* the walk's */
	size_t nfound, cap;
	bool oom;
};

int ident_cg_init(struct ks_ident *id)
{
	id->cmask = KS_IDENT_CGROUPS - 1;	/* a power of two */
	id->ctab = calloc(id->cmask + 1, sizeof(*id->ctab));
	ks_dlist_init(&id->cglru);
	return id->ctab ? 0 : -ENOMEM;
}

static void cg_free(struct cgent *c)
{
	free(c->path);
	free(c->svc);
	free(c);
}

void ident_cg_free(struct ks_ident *id)
{
	for (size_t i = 0; id->ctab && i <= id->cmask; i++)
		for (struct cgent *c = id->ctab[i], *n; c; c = n) {
			n = c->hnext;
			cg_free(c);
		}
	free(id->ctab);
	id->ctab = NULL;
}

static struct cgent **cbucket(const struct ks_ident *id, uint64_t cgid)
{
	return &id->ctab[(cgid * 0x9E3779B97F4A7C15ULL) >> 40 & id->cmask];
}

static struct cgent *cg_find(const struct ks_ident *id, uint64_t cgid)
{
	for (struct cgent *c = *cbucket(id, cgid); c; c = c->hnext)
		if (c->id == cgid)
			return c;
	return NULL;
}

/* A new entry (not cached), the least recently used one evicted first when full. */
static struct cgent *cg_insert(struct ks_ident *id, uint64_t cgid, bool cold)
{
	struct cgent *c, **pp;

	if (id->ncg >= KS_IDENT_CGROUPS) {
		struct cgent *old = (struct cgent *)((char *)id->cglru.next -
						     offsetof(struct cgent, link));

		ks_dlist_del(&old->link);
		for (pp = cbucket(id, old->id); *pp != old; pp = &(*pp)->hnext)
			;
		*pp = old->hnext;
		cg_free(old);
		id->ncg--;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = cgid;
	c->state = CG_UNKNOWN;
	pp = cbucket(id, cgid);
	c->hnext = *pp;
	*pp = c;
	if (cold)
		ks_dlist_add_head(&id->cglru, &c->link);
	else
		ks_dlist_add_tail(&id->cglru, &c->link);
	id->ncg++;
	return c;
}

static void cg_set(struct cgent *c, const char *path)
{
	char svc[256];

	free(c->path);
	free(c->svc);
	c->path = strdup(path);
	c->kind = ks_service_from_cgroup(path, svc, sizeof(svc));
	c->svc = c->kind != KS_SVC_NONE ? strdup(svc) : NULL;
	if (!c->svc)
		c->kind = KS_SVC_NONE;
	c->state = c->path ? CG_KNOWN : CG_UNKNOWN;
}

static void visit(void *arg, uint64_t cgid, const char *path)
{
	struct cg_job *j = arg;

	if (j->nfound == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 256;
		struct cg_found *v = realloc(j->found, cap * sizeof(*v));

		if (!v) {
			j->oom = true;
			return;
		}
		j->found = v;
		j->cap = cap;
	}
	j->found[j->nfound].id = cgid;
	j->found[j->nfound].path = strdup(path);
	if (j->found[j->nfound].path)
		j->nfound++;
}

static void cg_run(struct ks_job *job, struct ks_worker *w)
{
	struct cg_job *j = (struct cg_job *)job;
	int n;

	if (!ks_worker__pause(w))
		return;
	if (!j->walk) {
		j->err = ks_cgfs__path(j->fs, j->cgid, j->path, sizeof(j->path));
		if (j->err != -EOPNOTSUPP && j->err != -EXDEV)
			return;
		j->walk = true;
	}
	n = ks_cgfs__walk(j->fs, KS_IDENT_WALK_MAX, visit, j);
	j->walk_complete = n >= 0 && n < KS_IDENT_WALK_MAX && !j->oom;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void publish_walk(struct ks_ident *id, struct cg_job *j, struct cgent *target)
{
	/* the walk names every cgroup: those asked for are known now, and the others while
	 * there is room (at the cold end: evicted first), so a walk serves later misses too */
	for (size_t i = 0; i < j->nfound; i++) {
		struct cgent *c = cg_find(id, j->found[i].id);

		if (!c && id->ncg < KS_IDENT_CGROUPS)
			c = cg_insert(id, j->found[i].id, true);
		if (c && c->state != CG_KNOWN) {
			cg_set(c, j->found[i].path);
			id->st.cg_resolved++;
		}
	}
	if (!target || target->state == CG_KNOWN)
		return;
	if (j->walk_complete) {
		target->state = CG_GONE;
		id->st.cg_gone++;
	} else {
		target->state = CG_UNKNOWN;
		target->retry_ts = mono_now() + CG_GONE_RETRY_NS;
	}
}

static void cg_finish(struct ks_job *job, bool ran)
{
	struct cg_job *j = (struct cg_job *)job;
	struct cgent *c = ran ? cg_find(j->id, j->cgid) : NULL;

	if (c && c->state != CG_PENDING)
		c = NULL;	/* evicted and asked again, or learned meanwhile */
	if (ran && j->walk) {
		publish_walk(j->id, j, c);
	} else if (c && !j->err) {
		cg_set(c, j->path);
		j->id->st.cg_resolved++;
	} else if (c && j->err == -ESTALE) {
		c->state = CG_GONE;	/* removed: its id will not come back */
		j->id->st.cg_gone++;
	} else if (c) {
		c->state = CG_UNKNOWN;
		c->retry_ts = mono_now() + KS_IDENT_RETRY_NS;
	}
	for (size_t i = 0; i < j->nfound; i++)
		free(j->found[i].path);
	free(j->found);
	free(j);
}

static void queue(struct ks_ident *id, struct cgent *c, uint64_t now)
{
	const struct ks_cgfs *fs = &id->env.cgfs;
	struct cg_job *j;

	if (fs->fd < 0) {
		c->state = CG_GONE;	/* no cgroup2 mount: nothing to resolve against */
		return;
	}
	c->state = CG_UNKNOWN;
	c->retry_ts = now + KS_IDENT_RETRY_NS;
	if (fs->handles) {
		/* By handle at once (an open_by_handle_at and a readlink, once per new
		 * cgroup): on the worker, a short-lived client in a new container made all
		 * its sessions before its cgroup had a name, and they stayed under its
		 * program's (test_map_tiers). */
		char path[KS_CG_PATH_MAX];
		int err = ks_cgfs__path(fs, c->id, path, sizeof(path));

		if (!err) {
			cg_set(c, path);
			id->st.cg_resolved++;
			return;
		}
		if (err == -ESTALE) {
			c->state = CG_GONE;
			id->st.cg_gone++;
			return;
		}
	} else {
		/* one walk names every cgroup: at most one a second */
		if (id->walk_at && now < id->walk_at + KS_IDENT_RETRY_NS) {
			c->retry_ts = id->walk_at + KS_IDENT_RETRY_NS;
			return;
		}
		id->walk_at = now ? now : 1;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->j.run = cg_run;
	j->j.finish = cg_finish;
	j->id = id;
	j->fs = fs;
	j->cgid = c->id;
	j->walk = !fs->handles;
	if (ks_worker__submit(id->w, &j->j)) {
		free(j);
		id->st.cg_dropped++;
		return;
	}
	c->state = CG_PENDING;
	id->st.cg_queued++;
}

struct cgent *ident_cg_get(struct ks_ident *id, uint64_t cgid, uint64_t now)
{
	struct cgent *c = cg_find(id, cgid);

	if (c) {
		ks_dlist_del(&c->link);
		ks_dlist_add_tail(&id->cglru, &c->link);
		if (c->state == CG_UNKNOWN && now >= c->retry_ts)
			queue(id, c, now);
		return c;
	}
	c = cg_insert(id, cgid, false);
	if (c)
		queue(id, c, now);
	return c;
}

void ident_cg_learn(struct ks_ident *id, uint64_t cgid, const char *path)
{
	struct cgent *c = cg_find(id, cgid);

	if (c && c->state == CG_KNOWN)
		return;
	if (!c && !(c = cg_insert(id, cgid, true)))
		return;
	cg_set(c, path);
}

const char *ks_ident__cgroup_path(struct ks_ident *id, uint64_t cgid)
{
	struct cgent *c = ident_cg_get(id, cgid, mono_now());

	return c && c->state == CG_KNOWN ? c->path : NULL;
}

const char *ks_ident__cgroup_service(struct ks_ident *id, uint64_t cgid)
{
	struct cgent *c = ident_cg_get(id, cgid, mono_now());

	return c ? c->svc : NULL;
}

void ks_ident__describe(struct ks_ident *id, const struct ks_hdr *h, struct ks_service *out)
{
	const struct ks_proc *p = ks_ident__lookup(id, h);
	struct pent *e = (struct pent *)p;	/* the cache's own entry */
	uint64_t now = h->ts;
	struct cgent *cg;

	out->cgroup = h->cgroup ? h->cgroup : p ? p->cgroup : 0;
	out->cgroup_path = NULL;
	cg = out->cgroup ? ident_cg_get(id, out->cgroup, now) : NULL;
	if (cg && cg->state == CG_KNOWN)
		out->cgroup_path = cg->path;
	/* A process not loaded yet would be named by its comm until the worker has read it,
	 * then by its executable ("python3", then "python3.11"): one service split in two.
	 * Its executable is read here once instead (a readlink, once per new process). */
	if (e && !e->exe && !e->exe_read && !e->p.exited && e->p.state != KS_PROC_FULL) {
		e->exe_read = true;
		e->p.exe = e->exe = ks_proc_exe(&id->env, e->p.pid);
	}
	if (cg && cg->svc) {
		out->name = cg->svc;
		out->kind = cg->kind;
	} else if (e && e->svc) {
		out->name = e->svc;
		out->kind = e->svc_kind;
	} else if (p && p->exe && strncmp(p->exe, "/proc/", 6)) {	/* not /proc/self/exe */
		const char *slash = strrchr(p->exe, '/');

		out->name = slash && slash[1] ? slash + 1 : p->exe;
		out->kind = KS_SVC_EXE;
	} else {
		out->name = p ? p->comm : h->comm;
		out->kind = KS_SVC_COMM;
	}
}

const char *ks_ident__service(struct ks_ident *id, const struct ks_hdr *h)
{
	struct ks_service s;

	ks_ident__describe(id, h, &s);
	return s.name;
}
