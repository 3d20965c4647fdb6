// SPDX-License-Identifier: GPL-2.0
/* The sweep of killed owners' journals (legacy.h): what they list is removed if still theirs. */
#include "core/legacy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/probe.h"
#include "core/procfs.h"

/* The events of tracefs @file whose names start with @prefix, one "group/name" per line. */
static int tracefs_events(const char *file, const char *prefix, char *out, size_t len)
{
	const char *tracefs = ks_tracefs();
	char path[128], *buf = malloc(1 << 16), *line, *save;
	size_t n = 0;

	out[0] = 0;
	if (!tracefs || !buf) {
		free(buf);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	if (ks_read_file(path, buf, 1 << 16) < 0) {
		free(buf);
		return -ENOENT;
	}
	/* "p:uprobes/name /path:0x..." */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ev = strchr(line, ':'), *sp, *name;

		if (!ev || !(sp = strchr(ev, ' ')))
			continue;
		*sp = 0;
		name = strchr(ev + 1, '/');
		name = name ? name + 1 : ev + 1;
		if (!strncmp(name, prefix, strlen(prefix)) && n + strlen(ev + 1) + 2 < len)
			n += snprintf(out + n, len - n, "%s\n", ev + 1);
	}
	free(buf);
	return 0;
}

static bool has_line(const char *list, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = list; (p = strstr(p, line)); p += n)
		if ((p == list || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void say(FILE *out, bool dry, const char *what, int pid, const char *obj)
{
	if (out)
		fprintf(out, "%s %s left by ksight %d (killed)\n",
			dry ? "would remove" : what, obj, pid);
}

#define MAX_ENTS 256

/* One dead owner's journal, being applied. */
struct owner_sweep {
	struct ks_jent ents[MAX_ENTS];
	bool removed[MAX_ENTS];		/* a filter this sweep removed (or would) */
	int n, pid;
	bool dry;
	FILE *out;
	struct ks_sweep *r;
};

static void account(struct owner_sweep *o, int res, const char *obj)
{
	if (res > 0) {
		o->r->removed++;
		say(o->out, o->dry, "removed", o->pid, obj);
	} else if (res == 0) {
		o->r->gone++;
	} else {
		o->r->failed++;
		if (o->out)
			fprintf(o->out, "could not remove %s left by ksight %d: %s\n", obj, o->pid,
				strerror(-res));
	}
}

/* A filter, or the qdisc ksight made, in the network namespace it was made in. */
static void sweep_tc(struct owner_sweep *o, int i)
{
	const struct ks_jent *x = &o->ents[i];
	int saved = -1, in = ks_netns_enter(x->tc.netns, &saved), res, going = 0;
	char obj[200];

	if (in == -ENOENT) {	/* the namespace is gone, and all that was in it */
		o->r->gone++;
		return;
	}
	if (in < 0) {
		account(o, in, "an object in another network namespace");
		return;
	}
	if (x->kind == KS_J_FILTER) {
		res = ks_tc_filter_remove(&x->tc, o->dry);
		o->removed[i] = res > 0;
		snprintf(obj, sizeof(obj), "tc filter (ifindex %d, parent %x:%x, handle 0x%x, "
			 "pref %u, prog %u)", x->tc.ifindex, x->tc.parent >> 16,
			 x->tc.parent & 0xffff, x->tc.handle, x->tc.prio, x->tc.prog_id);
	} else {
		/* a dry run left its filters there: they count as gone */
		for (int k = 0; k < o->n; k++)
			going += o->removed[k] && o->ents[k].tc.ifindex == x->tc.ifindex &&
				 o->ents[k].tc.netns == x->tc.netns;
		res = ks_tc_qdisc_release(x->tc.ifindex, o->dry, going);
		snprintf(obj, sizeof(obj), "clsact qdisc it made (ifindex %d)", x->tc.ifindex);
	}
	if (in == 0)
		ks_netns_leave(saved);
	account(o, res, obj);
}

/* Whether qdisc entry @i is the last word on its qdisc and says ksight made it. */
static bool qdisc_made(const struct owner_sweep *o, int i)
{
	const struct ks_jent *x = &o->ents[i];

	for (int k = i + 1; k < o->n; k++)
		if (o->ents[k].kind == KS_J_QDISC && o->ents[k].tc.ifindex == x->tc.ifindex &&
		    o->ents[k].tc.netns == x->tc.netns)
			return false;
	return x->qstate == KS_Q_CREATED;
}

static void sweep_tracefs(struct owner_sweep *o, const struct ks_jent *x)
{
	const char *base = strchr(x->name, '/');
	char list[4096], obj[200];
	int res;

	tracefs_events(x->file, base ? base + 1 : x->name, list, sizeof(list));
	if (!has_line(list, x->name))
		res = 0;
	else if (o->dry)
		res = 1;
	else if ((res = ks_tracefs_event_remove(x->file, x->name)) >= 0)
		res = 1;
	snprintf(obj, sizeof(obj), "%s event %s", x->file, x->name);
	account(o, res, obj);
}

/* libbpf's own events, libbpf_<pid>_...: only while no process has that pid, which
 * could be another libbpf user's now. */
static void sweep_libbpf(struct owner_sweep *o, const struct ks_jent *x)
{
	char path[32], list[4096], obj[200], *save;

	snprintf(path, sizeof(path), "/proc/%d", o->pid);
	if (!access(path, F_OK)) {
		account(o, -EBUSY, "libbpf's tracefs events (its pid is in use again)");
		return;
	}
	tracefs_events(x->file, x->name, list, sizeof(list));
	for (char *ev = strtok_r(list, "\n", &save); ev; ev = strtok_r(NULL, "\n", &save)) {
		int err = o->dry ? 0 : ks_tracefs_event_remove(x->file, ev);

		snprintf(obj, sizeof(obj), "%s event %s", x->file, ev);
		account(o, err == -ENOENT ? 0 : err ? err : 1, obj);
	}
}

/* What one dead owner's journal lists: its filters, then the qdiscs they were on, then
 * its tracefs events. */
static void sweep_owner(FILE *j, bool dry, FILE *out, struct ks_sweep *r)
{
	struct owner_sweep *o = calloc(1, sizeof(*o));
	char line[512];
	struct ks_jent e;

	if (!o) {
		r->failed++;
		return;
	}
	o->dry = dry;
	o->out = out;
	o->r = r;
	while (o->n < MAX_ENTS && fgets(line, sizeof(line), j)) {
		line[strcspn(line, "\n")] = 0;
		if (ks_journal_parse(line, &e))
			continue;
		if (e.kind == KS_J_OWNER)
			o->pid = e.pid;
		else
			o->ents[o->n++] = e;
	}
	for (int i = 0; i < o->n; i++)
		if (o->ents[i].kind == KS_J_FILTER)
			sweep_tc(o, i);
	for (int i = 0; i < o->n; i++)
		if (o->ents[i].kind == KS_J_QDISC && qdisc_made(o, i))
			sweep_tc(o, i);
	for (int i = 0; i < o->n; i++) {
		if (o->ents[i].kind == KS_J_TRACEFS)
			sweep_tracefs(o, &o->ents[i]);
		else if (o->ents[i].kind == KS_J_LIBBPF)
			sweep_libbpf(o, &o->ents[i]);
	}
	free(o);
}

int ks_legacy_sweep(bool dry_run, FILE *out, struct ks_sweep *r)
{
	DIR *dir = opendir(KS_LEGACY_DIR);
	struct dirent *de;

	memset(r, 0, sizeof(*r));
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		char path[300];
		struct stat st;
		int fd, failed;
		FILE *j;

		/* a journal its owner died before locking and naming: it lists nothing */
		if (!strncmp(de->d_name, "tmp-", 4)) {
			int pid = atoi(de->d_name + 4);

			if (pid > 0 && kill(pid, 0) && errno == ESRCH && !dry_run) {
				snprintf(path, sizeof(path), KS_LEGACY_DIR "/%s", de->d_name);
				unlink(path);
			}
			continue;
		}
		if (strncmp(de->d_name, "owner-", 6))
			continue;
		snprintf(path, sizeof(path), KS_LEGACY_DIR "/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a running owner holds its journal locked; a dead one's lock died with it */
		if (atoi(de->d_name + 6) == getpid() || flock(fd, LOCK_EX | LOCK_NB)) {
			if (out && atoi(de->d_name + 6) != getpid())
				fprintf(out, "left alone: what running ksight %s owns\n",
					de->d_name + 6);
			r->live++;
			close(fd);
			continue;
		}
		/* another sweeper finished with it while this one waited */
		if (fstat(fd, &st) || !st.st_nlink || !(j = fdopen(fd, "r"))) {
			close(fd);
			continue;
		}
		failed = r->failed;
		r->owners++;
		sweep_owner(j, dry_run, out, r);
		if (!dry_run && r->failed == failed)
			unlink(path);
		fclose(j);
	}
	closedir(dir);
	return 0;
}

void ks_legacy_sweep_at_start(const char *label)
{
	struct ks_sweep r;

	if (ks_legacy_sweep(false, NULL, &r))
		return;
	if (r.removed)
		fprintf(stderr, "ksight %s: removed %d legacy attachment%s left by a killed ksight\n",
			label, r.removed, r.removed == 1 ? "" : "s");
	if (r.failed)
		fprintf(stderr, "ksight %s: %d legacy attachment%s left by a killed ksight could not "
			"be removed (ksight cleanup says which)\n", label, r.failed,
			r.failed == 1 ? "" : "s");
}
