// SPDX-License-Identifier: GPL-2.0
/* Journals of legacy attachments, their removal, and the sweep of killed owners' (legacy.h). */
#include "core/legacy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/probe.h"
#include "core/procfs.h"

/* This process's journal: open and locked while it owns legacy objects. */
static int journal_fd = -1;
static int live_objects;

uint64_t ks_netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

static uint64_t start_time(int pid)
{
	char path[64], buf[1024];
	struct ks_stat st;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || ks_parse_stat(buf, &st))
		return 0;
	return st.starttime;
}

/*
 * Create and lock the journal. It is written under a temporary name and renamed once
 * locked, so a sweeper never finds an owner's journal unlocked while the owner lives.
 */
static int journal_open(void)
{
	char tmp[96], path[96], line[64];
	struct ks_jent e = { .kind = KS_J_OWNER, .pid = getpid(), .start = start_time(getpid()) };
	int fd, n, err;

	if (journal_fd >= 0)
		return 0;
	if (mkdir(KS_LEGACY_DIR, 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), KS_LEGACY_DIR "/tmp-%d", getpid());
	snprintf(path, sizeof(path), KS_LEGACY_DIR "/owner-%d", getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = ks_journal_format(&e, line, sizeof(line));
	if (flock(fd, LOCK_EX) || write(fd, line, n) != n || rename(tmp, path)) {
		err = -(errno ?: EIO);
		unlink(tmp);
		close(fd);
		return err;
	}
	journal_fd = fd;
	return 0;
}

static int journal_add(const struct ks_jent *e)
{
	char line[256];
	int n = ks_journal_format(e, line, sizeof(line)), err;

	if (n < 0)
		return -EINVAL;
	if ((err = journal_open()))
		return err;
	return write(journal_fd, line, n) == n ? 0 : -(errno ?: EIO);
}

int ks_legacy_note_qdisc(uint64_t netns, int ifindex, const char *state)
{
	struct ks_jent e = { .kind = KS_J_QDISC, .tc = { .netns = netns, .ifindex = ifindex } };

	e.qstate = !strcmp(state, "created") ? KS_Q_CREATED :
		   !strcmp(state, "existed") ? KS_Q_EXISTED : KS_Q_INTENT;
	return journal_add(&e);
}

int ks_legacy_note_filter(const struct ks_tc_filter *f)
{
	struct ks_jent e = { .kind = KS_J_FILTER, .tc = *f };

	return journal_add(&e);
}

int ks_legacy_note_tracefs(const char *file, const char *event)
{
	struct ks_jent e = { .kind = KS_J_TRACEFS };

	snprintf(e.file, sizeof(e.file), "%s", file);
	snprintf(e.name, sizeof(e.name), "%s", event);
	return journal_add(&e);
}

int ks_legacy_note_libbpf(const char *file)
{
	struct ks_jent e = { .kind = KS_J_LIBBPF };

	snprintf(e.file, sizeof(e.file), "%s", file);
	snprintf(e.name, sizeof(e.name), "libbpf_%d_", getpid());
	return journal_add(&e);
}

void ks_legacy_made(void)
{
	live_objects++;
}

void ks_legacy_removed(void)
{
	if (--live_objects <= 0)
		ks_legacy_release();
}

void ks_legacy_release(void)
{
	char path[96];

	if (live_objects > 0 || journal_fd < 0)
		return;
	live_objects = 0;
	snprintf(path, sizeof(path), KS_LEGACY_DIR "/owner-%d", getpid());
	unlink(path);
	close(journal_fd);
	journal_fd = -1;
}

int ks_tracefs_event_remove(const char *file, const char *event)
{
	const char *tracefs = ks_tracefs();
	char path[128], cmd[160];
	int fd, n, err = 0;

	if (!tracefs)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(cmd, sizeof(cmd), "-:%s\n", event);
	if (write(fd, cmd, n) != n)
		err = errno == ENOENT || errno == EINVAL ? -ENOENT : -errno;
	close(fd);
	return err;
}

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

/* What one dead owner's journal lists, applied. */
static void sweep_owner(FILE *j, bool dry, FILE *out, struct ks_sweep *r)
{
	struct ks_jent ents[256], e;
	int n = 0, pid = 0;
	char line[512], obj[200], list[4096];

	while (n < 256 && fgets(line, sizeof(line), j)) {
		line[strcspn(line, "\n")] = 0;
		if (ks_journal_parse(line, &e))
			continue;
		if (e.kind == KS_J_OWNER)
			pid = e.pid;
		else
			ents[n++] = e;
	}
	/* filters first, then the qdiscs they were on, then tracefs events */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < n; i++) {
			struct ks_jent *x = &ents[i];
			int saved = -1, in, res;

			if ((pass == 0) != (x->kind == KS_J_FILTER) ||
			    (pass == 1) != (x->kind == KS_J_QDISC) ||
			    (pass == 2) != (x->kind == KS_J_TRACEFS || x->kind == KS_J_LIBBPF))
				continue;
			if (x->kind == KS_J_QDISC) {
				/* the last word on a qdisc counts: only one ksight made stays */
				bool later = false;

				for (int k = i + 1; k < n; k++)
					later |= ents[k].kind == KS_J_QDISC &&
						 ents[k].tc.ifindex == x->tc.ifindex &&
						 ents[k].tc.netns == x->tc.netns;
				if (later || x->qstate != KS_Q_CREATED)
					continue;
			}
			if (x->kind == KS_J_FILTER || x->kind == KS_J_QDISC) {
				in = ks_netns_enter(x->tc.netns, &saved);
				if (in == -ENOENT) {	/* the namespace is gone, and all in it */
					r->gone++;
					continue;
				}
				if (in < 0) {
					r->failed++;
					continue;
				}
				if (x->kind == KS_J_FILTER) {
					res = ks_tc_filter_remove(&x->tc, dry);
					snprintf(obj, sizeof(obj), "tc filter (ifindex %d, parent %x:%x, "
						 "handle 0x%x, pref %u, prog %u)", x->tc.ifindex,
						 x->tc.parent >> 16, x->tc.parent & 0xffff,
						 x->tc.handle, x->tc.prio, x->tc.prog_id);
				} else {
					res = ks_tc_qdisc_release(x->tc.ifindex, dry);
					snprintf(obj, sizeof(obj), "clsact qdisc it made (ifindex %d)",
						 x->tc.ifindex);
				}
				if (in == 0)
					ks_netns_leave(saved);
			} else if (x->kind == KS_J_TRACEFS) {
				const char *base = strchr(x->name, '/');

				tracefs_events(x->file, base ? base + 1 : x->name, list, sizeof(list));
				if (!has_line(list, x->name))
					res = 0;
				else if (dry)
					res = 1;
				else if ((res = ks_tracefs_event_remove(x->file, x->name)) >= 0)
					res = 1;
				snprintf(obj, sizeof(obj), "%s event %s", x->file, x->name);
			} else {
				char path[32];

				/* libbpf_<pid>_...: only while no process has that pid */
				snprintf(path, sizeof(path), "/proc/%d", pid);
				if (!access(path, F_OK)) {
					r->failed++;
					continue;
				}
				res = 0;
				tracefs_events(x->file, x->name, list, sizeof(list));
				for (char *ev = strtok(list, "\n"); ev; ev = strtok(NULL, "\n")) {
					int e2 = dry ? 0 : ks_tracefs_event_remove(x->file, ev);

					snprintf(obj, sizeof(obj), "%s event %s", x->file, ev);
					if (!e2) {
						r->removed++;
						say(out, dry, "removed", pid, obj);
					} else if (e2 != -ENOENT) {
						r->failed++;
					}
				}
				continue;
			}
			if (res > 0) {
				r->removed++;
				say(out, dry, "removed", pid, obj);
			} else if (res == 0) {
				r->gone++;
			} else {
				r->failed++;
				if (out)
					fprintf(out, "could not remove %s left by ksight %d: %s\n", obj,
						pid, strerror(-res));
			}
		}
	}
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
