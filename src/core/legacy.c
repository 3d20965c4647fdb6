// SPDX-License-Identifier: GPL-2.0
/* The owner's side of legacy attachments (legacy.h): its journal, and tracefs events. */
#include "core/legacy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

