// SPDX-License-Identifier: GPL-2.0
/* The identity cache's processes: hash table, O(1) eviction, records and loads (ident.h). */
#include "core/ident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ident_int.h"

static size_t pow2_at_least(size_t n)
{
	size_t p = 64;

	while (p < n)
		p <<= 1;
	return p;
}

static struct pent **bucket(const struct ks_ident *id, uint32_t pid)
{
	return &id->ptab[(pid * 2654435761u) & id->pmask];
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct ks_ident *ks_ident__new(size_t max, const char *proc_root, struct ks_worker *w)
{
	struct ks_ident *id = calloc(1, sizeof(*id));
	long hz = sysconf(_SC_CLK_TCK);

	if (!id)
		return NULL;
	id->w = w;
	id->env.max = max ? max : 1;
	snprintf(id->env.proc_root, sizeof(id->env.proc_root), "%s",
		 proc_root ? proc_root : "/proc");
	id->env.tick_ns = 1e9 / (hz > 0 ? hz : 100);
	id->env.boot_ahead = clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
	ks_dlist_init(&id->live);
	ks_dlist_init(&id->exited);
	id->pmask = pow2_at_least(id->env.max) - 1;
	id->ptab = calloc(id->pmask + 1, sizeof(*id->ptab));
	if (!id->ptab || ident_cg_init(id)) {
		ks_ident__free(id);
		errno = ENOMEM;
		return NULL;
	}
	ks_cgfs__open(&id->env.cgfs, id->env.proc_root);	/* none: services from /proc */
	return id;
}

static void clear_strings(struct pent *e)
{
	free(e->exe);
	free(e->args);
	free(e->cgpath);
	free(e->svc);
	e->exe = e->args = e->cgpath = e->svc = NULL;
	e->p.exe = e->p.args = e->p.cgroup_path = NULL;
	e->p.args_len = 0;
	e->p.args_cut = false;
	e->svc_kind = KS_SVC_NONE;
}

void ks_ident__free(struct ks_ident *id)
{
	if (!id)
		return;
	for (size_t i = 0; id->ptab && i <= id->pmask; i++) {
		for (struct pent *e = id->ptab[i], *n; e; e = n) {
			n = e->hnext;
			clear_strings(e);
			free(e);
		}
	}
	free(id->ptab);
	ident_cg_free(id);
	ks_cgfs__close(&id->env.cgfs);
	free(id);
}

size_t ks_ident__count(const struct ks_ident *id)
{
	return id->count;
}

void ks_ident__stats(const struct ks_ident *id, struct ks_ident_stats *out)
{
	*out = id->st;
	out->procs = id->count;
	out->cgroups = id->ncg;
}

static struct pent *find(const struct ks_ident *id, uint32_t pid)
{
	for (struct pent *e = *bucket(id, pid); e; e = e->hnext)
		if (e->p.pid == pid)
			return e;
	return NULL;
}

const struct ks_proc *ks_ident__find(const struct ks_ident *id, uint32_t pid)
{
	struct pent *e = find(id, pid);

	return e ? &e->p : NULL;
}

static void unhash(struct ks_ident *id, struct pent *victim)
{
	struct pent **pp = bucket(id, victim->p.pid);

	while (*pp != victim)
		pp = &(*pp)->hnext;
	*pp = victim->hnext;
}

/* One entry out: the oldest exit, else the least recently used. O(1). */
static void evict_one(struct ks_ident *id)
{
	struct ks_dlist *l = !ks_dlist_empty(&id->exited) ? id->exited.next : id->live.next;
	struct pent *e;

	if (l == &id->live)
		return;
	e = (struct pent *)((char *)l - offsetof(struct pent, link));
	ks_dlist_del(&e->link);
	unhash(id, e);
	clear_strings(e);
	free(e);
	id->count--;
	id->st.evicted++;
}

/* A new entry for @pid (not cached), at the most recent end unless @cold. */
static struct pent *insert(struct ks_ident *id, uint32_t pid, bool cold)
{
	struct pent *e, **head;

	if (id->count >= id->env.max)
		evict_one(id);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->p.pid = pid;
	e->serial = ++id->serial;
	head = bucket(id, pid);
	e->hnext = *head;
	*head = e;
	if (cold)
		ks_dlist_add_head(&id->live, &e->link);
	else
		ks_dlist_add_tail(&id->live, &e->link);
	id->count++;
	return e;
}

/* Forget all of @e but its pid: another process (an exec, or the pid reused). */
static void reset(struct ks_ident *id, struct pent *e)
{
	uint32_t pid = e->p.pid;

	clear_strings(e);
	memset(&e->p, 0, sizeof(e->p));
	e->p.pid = pid;
	e->serial = ++id->serial;
	e->pending = e->want_exe = e->exe_read = false;
	e->retry_ts = e->exit_ts = 0;
	ks_dlist_del(&e->link);
	ks_dlist_add_tail(&id->live, &e->link);
}

static void set_comm(struct ks_proc *p, const char *comm)
{
	memcpy(p->comm, comm, sizeof(p->comm) - 1);
	p->comm[sizeof(p->comm) - 1] = 0;
}

static void set_args(struct pent *e, const char *args, size_t len, bool cut)
{
	while (len && !args[len - 1])	/* drop the trailing NULs */
		len--;
	if (len > KS_IDENT_ARGS_MAX) {
		len = KS_IDENT_ARGS_MAX;
		cut = true;
	}
	free(e->args);
	e->args = malloc(len + 1);
	if (e->args) {
		memcpy(e->args, args, len);
		e->args[len] = 0;
	}
	e->p.args = e->args;
	e->p.args_len = e->args ? len : 0;
	e->p.args_cut = cut;
}

static void try_load(struct ks_ident *id, struct pent *e, uint64_t now)
{
	if (e->pending || e->p.state != KS_PROC_PARTIAL || e->p.exited || now < e->retry_ts)
		return;
	if (ident_queue_load(id, e))
		e->retry_ts = now + KS_IDENT_RETRY_NS;
}

const struct ks_proc *ks_ident__lookup(struct ks_ident *id, const struct ks_hdr *h)
{
	struct pent *e = find(id, h->pid);

	id->st.lookups++;
	if (e && e->p.exited && h->ts > e->exit_ts) {
		reset(id, e);	/* made after its exit: a new process was given the pid */
		id->st.misses++;
		set_comm(&e->p, h->comm);
	} else if (e) {
		ks_dlist_del(&e->link);
		ks_dlist_add_tail(e->p.exited ? &id->exited : &id->live, &e->link);
	} else {
		e = insert(id, h->pid, false);
		if (!e)
			return NULL;
		id->st.misses++;
		set_comm(&e->p, h->comm);
	}
	if (h->cgroup)
		e->p.cgroup = h->cgroup;
	try_load(id, e, h->ts);
	return &e->p;
}

int ks_ident__load(struct ks_ident *id, uint32_t pid)
{
	struct pent *e = find(id, pid);

	if (!e && !(e = insert(id, pid, false)))
		return -ENOMEM;
	if (e->pending || e->p.state == KS_PROC_FULL)
		return 0;
	e->p.state = KS_PROC_PARTIAL;
	e->retry_ts = 0;
	return ident_queue_load(id, e);
}

int ks_ident__seed(struct ks_ident *id)
{
	return ident_queue_seed(id);
}

void ks_ident__exec(struct ks_ident *id, const struct ks_hdr *h, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns, const char *exe, const char *args, size_t args_len,
		    bool args_cut)
{
	struct pent *e = find(id, h->pid);

	if (e)
		reset(id, e);	/* a load queued before the exec describes the old image */
	else if (!(e = insert(id, h->pid, false)))
		return;
	e->p.state = KS_PROC_FULL;
	e->p.ppid = ppid;
	e->p.uid = uid;
	e->p.start_ns = start_ns;
	e->p.cgroup = h->cgroup;
	set_comm(&e->p, h->comm);
	e->exe = exe && exe[0] ? strdup(exe) : NULL;
	e->p.exe = e->exe;
	set_args(e, args, args_len, args_cut);
	/* the record has the path execve() was given: "./configure", "/proc/self/exe" */
	if (exe && (exe[0] != '/' || !strncmp(exe, "/proc/", 6)) && !ident_queue_load(id, e))
		e->want_exe = true;
}

void ks_ident__exit(struct ks_ident *id, const struct ks_hdr *h, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns)
{
	struct pent *e = find(id, h->pid);

	if (!e) {
		e = insert(id, h->pid, false);
		if (!e)
			return;
		set_comm(&e->p, h->comm);
		e->p.state = KS_PROC_GONE;	/* too late for /proc */
	}
	if (!e->p.start_ns)
		e->p.start_ns = start_ns;
	if (e->p.state != KS_PROC_FULL) {
		e->p.ppid = ppid;
		e->p.uid = uid;
	}
	e->p.exited = true;
	e->exit_ts = h->ts;
	ks_dlist_del(&e->link);
	ks_dlist_add_tail(&id->exited, &e->link);
}

/* Whether @l describes @e's process: /proc's start time is in clock ticks. */
static bool same_start(const struct ks_ident *id, const struct pent *e,
		       const struct ks_proc_load *l)
{
	int64_t d = (int64_t)(e->p.start_ns - l->start_ns);

	return !e->p.start_ns || (d < 0 ? -d : d) <= 2 * id->env.tick_ns;
}

static void fill(struct ks_ident *id, struct pent *e, struct ks_proc_load *l)
{
	char svc[256];

	clear_strings(e);
	e->p.state = KS_PROC_FULL;
	e->p.ppid = l->ppid;
	e->p.uid = l->uid;
	e->p.start_ns = l->start_ns;
	if (l->comm[0])
		set_comm(&e->p, l->comm);
	e->p.exe = e->exe = l->exe;
	e->p.args = e->args = l->args;
	e->p.args_len = l->args_len;
	e->p.args_cut = l->args_cut;
	e->p.cgroup_path = e->cgpath = l->cgpath;
	l->exe = l->args = l->cgpath = NULL;
	if (!e->p.cgroup)
		e->p.cgroup = l->cgroup;
	if (e->cgpath) {
		e->svc_kind = ks_service_from_cgroup(e->cgpath, svc, sizeof(svc));
		e->svc = e->svc_kind != KS_SVC_NONE ? strdup(svc) : NULL;
		if (!e->svc)
			e->svc_kind = KS_SVC_NONE;
	}
}

void ident_publish(struct ks_ident *id, uint64_t serial, struct ks_proc_load *l)
{
	struct pent *e = find(id, l->pid);

	if (l->found && l->cgroup && l->cgpath && l->cgpath[0] == '/')
		ident_cg_learn(id, l->cgroup, l->cgpath);
	if (!serial) {	/* seeding: fill what records have not */
		if (!l->found || (e && e->p.state == KS_PROC_FULL))
			return;
		if (!e && (id->count >= id->env.max || !(e = insert(id, l->pid, true))))
			return;
		fill(id, e, l);
		return;
	}
	if (!e || e->serial != serial) {
		id->st.stale++;
		return;
	}
	e->pending = false;
	if (!l->found) {
		id->st.gone++;
		if (e->p.state == KS_PROC_PARTIAL)
			e->p.state = KS_PROC_GONE;
		return;
	}
	if (e->want_exe && l->found && l->exe && same_start(id, e, l)) {
		e->want_exe = false;
		id->st.loaded++;
		free(e->exe);
		e->p.exe = e->exe = l->exe;	/* the rest came with the exec */
		l->exe = NULL;
		return;
	}
	if (e->p.state == KS_PROC_FULL || (e->p.exited && !same_start(id, e, l))) {
		id->st.stale++;	/* known better already, or the pid's next process */
		return;
	}
	id->st.loaded++;
	fill(id, e, l);
}
