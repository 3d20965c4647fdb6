/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fake proc root the identity tests share: a tmp directory with <pid>/{stat,status,
 * cmdline,exe,cgroup} and self/mountinfo naming a cgroup2 "mount" that is a plain
 * directory tree (so cgroups resolve by the fallback walk). The worker runs jobs inline:
 * a load happens at the lookup, its result is published at ks_worker__drain(), as the
 * reader would see it.
 */
#ifndef KSIGHT_IDENT_FAKE_H
#define KSIGHT_IDENT_FAKE_H

#include "testutil.h"

#include <errno.h>
#include <time.h>

#include "core/ident.h"
#include "core/worker.h"

static char *root;		/* the fake /proc */
static char cgroot[256];	/* the fake cgroup2 mount */
static double tick_ns;
static struct ks_worker *w;

static inline int64_t boot_ahead(void)
{
	struct timespec b, m;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (b.tv_sec - m.tv_sec) * 1000000000LL + (b.tv_nsec - m.tv_nsec);
}

static inline void fake_proc(uint32_t pid, const char *comm, uint32_t ppid, uint32_t uid,
		      uint64_t start, const char *exe, const char *cmdline, size_t cmdlen)
{
	char dir[32], text[512], path[512];

	snprintf(dir, sizeof(dir), "%u", pid);
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(text, sizeof(text), "%u (%s) S %u %u %u 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		 "%llu 1000 200 18446744073709551615\n", pid, comm, ppid, pid, pid,
		 (unsigned long long)start);
	snprintf(path, sizeof(path), "%s/stat", dir);
	tu_write(root, path, text, -1);
	snprintf(text, sizeof(text), "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%u\n"
		 "Pid:\t%u\nPPid:\t%u\nUid:\t%u\t%u\t%u\t%u\n", comm, pid, pid, ppid, uid, uid + 1,
		 uid, uid);
	snprintf(path, sizeof(path), "%s/status", dir);
	tu_write(root, path, text, -1);
	if (cmdline) {
		snprintf(path, sizeof(path), "%s/cmdline", dir);
		tu_write(root, path, cmdline, cmdlen);
	}
	if (exe) {
		snprintf(path, sizeof(path), "%s/%s/exe", root, dir);
		assert_int_equal(symlink(exe, path), 0);	/* dangling is fine: readlink */
	}
}

static inline void proc_cgroup(uint32_t pid, const char *text)
{
	char name[64];

	snprintf(name, sizeof(name), "%u/cgroup", pid);
	tu_write(root, name, text, -1);
}

static inline void rm_proc(uint32_t pid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	tu_rmtree(strdup(path));
}

static inline struct ks_hdr hdr(uint32_t pid, const char *comm, uint64_t cgroup, uint64_t ts)
{
	struct ks_hdr h = { .pid = pid, .tid = pid, .cgroup = cgroup, .ts = ts };

	snprintf(h.comm, sizeof(h.comm), "%.15s", comm);
	return h;
}

static inline const struct ks_proc *look(struct ks_ident *id, uint32_t pid, uint64_t ts)
{
	struct ks_hdr h = hdr(pid, "rec", 0, ts);

	return ks_ident__lookup(id, &h);
}

static inline struct ks_ident_stats stats(struct ks_ident *id)
{
	struct ks_ident_stats st;

	ks_ident__stats(id, &st);
	return st;
}

static int setup(void **state)
{
	char path[512], text[600];

	tick_ns = 1e9 / sysconf(_SC_CLK_TCK);
	root = tu_mkdtemp("ksident");
	snprintf(path, sizeof(path), "%s/self", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(cgroot, sizeof(cgroot), "%s/cg", root);
	assert_int_equal(mkdir(cgroot, 0755), 0);
	snprintf(text, sizeof(text),
		 "22 28 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		 "26 22 0:23 / %s rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", cgroot);
	tu_write(root, "self/mountinfo", text, -1);
	w = ks_worker__new(64, 0, false);
	assert_non_null(w);
	return 0;
}

static int teardown(void **state)
{
	ks_worker__free(w);
	tu_rmtree(root);
	return 0;
}

static inline uint64_t mkcg(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", cgroot, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

#endif
