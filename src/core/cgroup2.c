// SPDX-License-Identifier: GPL-2.0
#include "core/cgroup2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "core/procfs.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

int ks_cgroup2_root(char *out, size_t len)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n = buf ? ks_read_file("/proc/self/mountinfo", buf, cap) : -ENOMEM;
	int err = n > 0 && !ks_parse_mountinfo_cgroup2(buf, out, len) ? 0 : -ENOENT;

	free(buf);
	return err;
}

static int is_cgroup2(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_SUPER_MAGIC;
}

int ks_cgroup2_path(const char *arg, char *out, size_t len, char *why, size_t wlen)
{
	char root[4096];
	struct stat st;
	int err;

	if (arg[0] == '/' && is_cgroup2(arg)) {
		snprintf(out, len, "%s", arg);
		return 0;
	}
	err = ks_cgroup2_root(root, sizeof(root));
	if (err) {
		snprintf(why, wlen, "no cgroup v2 hierarchy is mounted");
		return err;
	}
	snprintf(out, len, "%s/%s", root, arg + (arg[0] == '/'));
	if (stat(out, &st) || !S_ISDIR(st.st_mode) || !is_cgroup2(out)) {
		snprintf(why, wlen, "%s: not a cgroup v2 directory (under %s)", arg, root);
		return -ENOENT;
	}
	return 0;
}
