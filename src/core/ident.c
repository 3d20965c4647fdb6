// SPDX-License-Identifier: GPL-2.0
#include "core/ident.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/procfs.h"

#define NBUCKETS 4096
#define CG_MAX 4096

struct cg_entry {
	uint64_t id;
	char *path;
};

struct ks_ident {
	struct ks_proc *buckets[NBUCKETS];
	size_t count, max;
	uint64_t clock;
	char proc_root[64];
	double tick_ns;
	char tmp[64];		/* service text for processes not cached */
	/* cgroup id -> path, rebuilt by walking the cgroup2 tree on a miss */
	char cg_root[256];
	struct cg_entry *cgs;
	size_t ncg;
	time_t cg_scanned;
};

static struct ks_proc **slot(struct ks_ident *id, uint32_t pid)
{
	return &id->buckets[(pid * 2654435761u) >> 20 & (NBUCKETS - 1)];
}

static void proc_free(struct ks_proc *p)
{
	if (!p)
		return;
	free(p->exe);
	free(p->args);
	free(p->service);
	free(p);
}

struct ks_ident *ks_ident__new(size_t max, const char *proc_root)
{
	struct ks_ident *id = calloc(1, sizeof(*id));
	char buf[8192];
	long hz = sysconf(_SC_CLK_TCK);

	if (!id)
		return NULL;
	id->max = max ? max : 1;
	snprintf(id->proc_root, sizeof(id->proc_root), "%s", proc_root ? proc_root : "/proc");
	id->tick_ns = 1e9 / (hz > 0 ? hz : 100);
	snprintf(buf, sizeof(buf), "%s/self/mountinfo", id->proc_root);
	if (ks_read_file(buf, buf, sizeof(buf)) > 0)
		ks_parse_mountinfo_cgroup2(buf, id->cg_root, sizeof(id->cg_root));
	return id;
}

void ks_ident__free(struct ks_ident *id)
{
	if (!id)
		return;
	for (int i = 0; i < NBUCKETS; i++) {
		struct ks_proc *p = id->buckets[i], *n;

		for (; p; p = n) {
			n = p->next;
			proc_free(p);
		}
	}
	for (size_t i = 0; i < id->ncg; i++)
		free(id->cgs[i].path);
	free(id->cgs);
	free(id);
}

size_t ks_ident__count(const struct ks_ident *id)
{
	return id->count;
}

static struct ks_proc *find(struct ks_ident *id, uint32_t pid)
{
	for (struct ks_proc *p = *slot(id, pid); p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static void unlink_proc(struct ks_ident *id, struct ks_proc *victim)
{
	for (struct ks_proc **pp = slot(id, victim->pid); *pp; pp = &(*pp)->next)
		if (*pp == victim) {
			*pp = victim->next;
			id->count--;
			proc_free(victim);
			return;
		}
}

/* Free room for one more entry: every exited process first, else the least recently used. */
static void make_room(struct ks_ident *id)
{
	struct ks_proc *lru = NULL;

	if (id->count < id->max)
		return;
	for (int i = 0; i < NBUCKETS; i++) {
		struct ks_proc **pp = &id->buckets[i];

		while (*pp) {
			struct ks_proc *p = *pp;

			if (p->exited) {
				*pp = p->next;
				id->count--;
				proc_free(p);
				continue;
			}
			if (!lru || p->used < lru->used)
				lru = p;
			pp = &p->next;
		}
	}
	if (id->count >= id->max && lru)
		unlink_proc(id, lru);
}

static struct ks_proc *insert(struct ks_ident *id, uint32_t pid)
{
	struct ks_proc *p = find(id, pid), **head;

	if (p) {
		free(p->exe);
		free(p->args);
		free(p->service);
		p->exe = p->args = p->service = NULL;
		p->args_len = 0;
		p->exited = false;
		return p;
	}
	make_room(id);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	head = slot(id, pid);
	p->next = *head;
	*head = p;
	id->count++;
	return p;
}

static void set_args(struct ks_proc *p, const char *args, size_t len, bool cut)
{
	while (len && !args[len - 1])	/* drop the trailing NULs */
		len--;
	if (len > KS_IDENT_ARGS_MAX) {
		len = KS_IDENT_ARGS_MAX;
		cut = true;
	}
	free(p->args);
	p->args = malloc(len + 1);
	if (p->args) {
		memcpy(p->args, args, len);
		p->args[len] = 0;
	}
	p->args_len = p->args ? len : 0;
	p->args_cut = cut;
}

static struct ks_proc *load(struct ks_ident *id, uint32_t pid)
{
	char path[128], buf[4096];
	struct ks_stat st;
	struct ks_proc *p;
	uint32_t uid = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", id->proc_root, pid);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || ks_parse_stat(buf, &st))
		return NULL;
	snprintf(path, sizeof(path), "%s/%u/status", id->proc_root, pid);
	if (ks_read_file(path, buf, sizeof(buf)) > 0)
		ks_parse_status_uid(buf, &uid);
	p = insert(id, pid);
	if (!p)
		return NULL;
	p->ppid = st.ppid;
	p->uid = uid;
	p->start_ns = st.starttime * id->tick_ns;
	memcpy(p->comm, st.comm, sizeof(p->comm));
	snprintf(path, sizeof(path), "%s/%u/exe", id->proc_root, pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		p->exe = strdup(buf);
	}
	snprintf(path, sizeof(path), "%s/%u/cmdline", id->proc_root, pid);
	/* up to MAX + 2 bytes: MAX bytes of arguments and their final NUL are not cut; more
	 * than that is (set_args also cuts what exceeds MAX once the NULs are dropped) */
	n = ks_read_file(path, buf, KS_IDENT_ARGS_MAX + 3);
	if (n > 0)
		set_args(p, buf, n, n > KS_IDENT_ARGS_MAX + 1);
	return p;
}

int ks_ident__seed(struct ks_ident *id)
{
	DIR *d = opendir(id->proc_root);
	struct dirent *de;
	int added = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && id->count < id->max) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || find(id, pid))
			continue;
		added += load(id, pid) != NULL;
	}
	closedir(d);
	return added;
}

const struct ks_proc *ks_ident__get(struct ks_ident *id, uint32_t pid)
{
	struct ks_proc *p = find(id, pid);

	if (!p)
		p = load(id, pid);
	if (p)
		p->used = ++id->clock;
	return p;
}

void ks_ident__exec(struct ks_ident *id, uint32_t pid, uint32_t ppid, uint32_t uid,
		    uint64_t start_ns, const char *comm, const char *exe, const char *args,
		    size_t args_len, bool args_cut)
{
	struct ks_proc *p = insert(id, pid);

	if (!p)
		return;
	p->ppid = ppid;
	p->uid = uid;
	p->start_ns = start_ns;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->exe = exe && exe[0] ? strdup(exe) : NULL;
	set_args(p, args, args_len, args_cut);
	p->used = ++id->clock;
}

void ks_ident__exit(struct ks_ident *id, uint32_t pid)
{
	struct ks_proc *p = find(id, pid);

	if (p)
		p->exited = true;
}

/* nftw has no user argument: the scan in progress. */
static struct ks_ident *scanning;

static int cg_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct ks_ident *id = scanning;
	const char *rel = path + strlen(id->cg_root);
	struct cg_entry *e;

	if (type != FTW_D)
		return 0;
	if (id->ncg >= CG_MAX)
		return 1;
	e = &id->cgs[id->ncg];
	e->id = sb->st_ino;
	e->path = strdup(rel[0] ? rel : "/");
	if (e->path)
		id->ncg++;
	return 0;
}

static void cg_rescan(struct ks_ident *id)
{
	time_t now = time(NULL);

	if (!id->cg_root[0] || now == id->cg_scanned)
		return;	/* at most one walk per second */
	id->cg_scanned = now;
	for (size_t i = 0; i < id->ncg; i++)
		free(id->cgs[i].path);
	id->ncg = 0;
	if (!id->cgs) {
		id->cgs = calloc(CG_MAX, sizeof(*id->cgs));
		if (!id->cgs)
			return;
	}
	scanning = id;
	nftw(id->cg_root, cg_visit, 16, FTW_PHYS | FTW_MOUNT);
	scanning = NULL;
}

const char *ks_ident__cgroup_path(struct ks_ident *id, uint64_t cgid)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < id->ncg; i++)
			if (id->cgs[i].id == cgid)
				return id->cgs[i].path;
		if (pass == 0)
			cg_rescan(id);
	}
	return NULL;
}

const char *ks_ident__service(struct ks_ident *id, uint32_t pid, uint64_t cgroup,
			      const char *comm)
{
	struct ks_proc *p = (struct ks_proc *)ks_ident__get(id, pid);
	const char *path, *svc = NULL;
	char buf[64];

	if (p && p->service && p->cgroup == cgroup)
		return p->service;
	path = cgroup ? ks_ident__cgroup_path(id, cgroup) : NULL;
	if (path)
		svc = ks_service_from_cgroup(path, buf, sizeof(buf));
	if (!svc && p && p->exe) {
		const char *slash = strrchr(p->exe, '/');

		svc = slash ? slash + 1 : p->exe;
	}
	if (!svc)
		svc = p ? p->comm : comm;
	snprintf(id->tmp, sizeof(id->tmp), "%s", svc);
	if (!p)
		return id->tmp;
	free(p->service);
	p->service = strdup(id->tmp);
	p->cgroup = cgroup;
	return p->service ? p->service : id->tmp;
}
