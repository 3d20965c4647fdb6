// SPDX-License-Identifier: GPL-2.0
/* What the worker reads from /proc for the identity cache: one process, or all (seeding). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ident_int.h"
#include "core/procfs.h"

struct load_job {
	struct ks_job j;
	struct ks_ident *id;	/* finish() only */
	const struct ks_ident_env *env;
	uint64_t serial;
	struct ks_proc_load l;
	int err;
};

/* Seeding goes a few processes at a time, each chunk queued behind the misses that came
 * meanwhile: the records flowing now are served before speculative loads. */
#define SEED_CHUNK 8

struct seed_job {
	struct ks_job j;
	struct ks_ident *id;
	const struct ks_ident_env *env;
	uint32_t *pids;		/* read from /proc at the first run */
	size_t npids, next;
	bool listed;
	struct ks_proc_load v[SEED_CHUNK];
	size_t n;
};

void ks_proc_load_free(struct ks_proc_load *l)
{
	free(l->exe);
	free(l->args);
	free(l->cgpath);
	l->exe = l->args = l->cgpath = NULL;
}

char *ks_proc_exe(const struct ks_ident_env *env, uint32_t pid)
{
	char path[160], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", env->proc_root, pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* The process's cgroup: v2, else the v1 name=systemd one (units without cgroup2). */
static void load_cgroup(const struct ks_ident_env *env, uint32_t pid, struct ks_proc_load *out)
{
	char path[160], buf[4096], cg[KS_CG_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u/cgroup", env->proc_root, pid);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0)
		return;
	if (!ks_parse_cgroup_v2(buf, cg, sizeof(cg))) {
		out->cgroup = ks_cgfs__id(&env->cgfs, cg);
		/* hybrid hosts put processes in the v2 root and units in name=systemd */
		if (!strcmp(cg, "/") && !ks_parse_cgroup_systemd(buf, cg, sizeof(cg)))
			out->cgroup = 0;
	} else if (ks_parse_cgroup_systemd(buf, cg, sizeof(cg))) {
		return;
	}
	out->cgpath = strdup(cg);
}

int ks_proc_load(const struct ks_ident_env *env, uint32_t pid, struct ks_proc_load *out)
{
	char path[160], buf[4096];
	struct ks_stat st;
	int64_t start;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(path, sizeof(path), "%s/%u/stat", env->proc_root, pid);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || ks_parse_stat(buf, &st))
		return 0;	/* gone (or not a process) */
	out->found = true;
	out->ppid = st.ppid;
	start = (int64_t)(st.starttime * env->tick_ns) - env->boot_ahead;
	out->start_ns = start > 0 ? start : 0;
	memcpy(out->comm, st.comm, sizeof(out->comm));
	snprintf(path, sizeof(path), "%s/%u/status", env->proc_root, pid);
	if (ks_read_file(path, buf, sizeof(buf)) > 0)
		ks_parse_status_uid(buf, &out->uid);
	if (!(out->exe = ks_proc_exe(env, pid)) && errno == ENOMEM)
		goto oom;
	snprintf(path, sizeof(path), "%s/%u/cmdline", env->proc_root, pid);
	/* MAX bytes of arguments and their final NUL are not cut; a byte more is */
	n = ks_read_file(path, buf, KS_IDENT_ARGS_MAX + 3);
	while (n > 0 && !buf[n - 1])
		n--;
	if (n > 0) {
		out->args_cut = n > KS_IDENT_ARGS_MAX;
		out->args_len = out->args_cut ? KS_IDENT_ARGS_MAX : n;
		if (!(out->args = malloc(out->args_len + 1)))
			goto oom;
		memcpy(out->args, buf, out->args_len);
		out->args[out->args_len] = 0;
	}
	load_cgroup(env, pid, out);
	return 0;
oom:
	ks_proc_load_free(out);
	return -ENOMEM;
}

static void load_run(struct ks_job *job, struct ks_worker *w)
{
	struct load_job *j = (struct load_job *)job;

	if (ks_worker__pause(w))
		j->err = ks_proc_load(j->env, j->l.pid, &j->l);
	else
		j->err = -ECANCELED;
}

static void load_finish(struct ks_job *job, bool ran)
{
	struct load_job *j = (struct load_job *)job;

	if (ran && !j->err) {
		ident_publish(j->id, j->serial, &j->l);
	} else if (ran) {
		struct pent *e = (struct pent *)ks_ident__find(j->id, j->l.pid);

		if (e && e->serial == j->serial) {
			e->pending = false;	/* asked again at a later record */
			e->retry_ts = 0;
		}
	}
	ks_proc_load_free(&j->l);
	free(j);
}

int ident_queue_load(struct ks_ident *id, struct pent *e)
{
	struct load_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->j.run = load_run;
	j->j.finish = load_finish;
	j->id = id;
	j->env = &id->env;
	j->serial = e->serial;
	j->l.pid = e->p.pid;
	if (ks_worker__submit(id->w, &j->j)) {
		free(j);
		id->st.dropped++;
		return -EAGAIN;
	}
	e->pending = true;
	id->st.queued++;
	return 0;
}

static void seed_list(struct seed_job *j)
{
	DIR *d = opendir(j->env->proc_root);
	struct dirent *de;

	j->listed = true;
	if (!d)
		return;
	j->pids = calloc(j->env->max, sizeof(*j->pids));
	while (j->pids && j->npids < j->env->max && (de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!*end && pid && pid <= UINT32_MAX)
			j->pids[j->npids++] = pid;
	}
	closedir(d);
}

static void seed_run(struct ks_job *job, struct ks_worker *w)
{
	struct seed_job *j = (struct seed_job *)job;

	if (!j->listed)
		seed_list(j);
	j->n = 0;
	while (j->n < SEED_CHUNK && j->next < j->npids) {
		if (!ks_worker__pause(w))	/* the test delay: per process */
			break;
		if (!ks_proc_load(j->env, j->pids[j->next++], &j->v[j->n]) && j->v[j->n].found)
			j->n++;
		else
			ks_proc_load_free(&j->v[j->n]);
	}
}

static void seed_finish(struct ks_job *job, bool ran)
{
	struct seed_job *j = (struct seed_job *)job;

	for (size_t i = 0; i < j->n; i++) {
		if (ran)
			ident_publish(j->id, 0, &j->v[i]);
		ks_proc_load_free(&j->v[i]);
	}
	j->n = 0;
	if (ran && j->next < j->npids && !ks_worker__submit(j->id->w, &j->j))
		return;	/* the next chunk */
	free(j->pids);
	free(j);
}

int ident_queue_seed(struct ks_ident *id)
{
	struct seed_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->j.run = seed_run;
	j->j.finish = seed_finish;
	j->id = id;
	j->env = &id->env;
	if (ks_worker__submit(id->w, &j->j)) {
		free(j);
		id->st.dropped++;
		return -EAGAIN;
	}
	id->st.queued++;
	return 0;
}
