// SPDX-License-Identifier: GPL-2.0
/* Entering another network namespace by its inode, to remove what a ksight left there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/legacy.h"

/* Open @path if it is network namespace @ino. */
static int open_if(const char *path, uint64_t ino)
{
	struct stat st;

	if (stat(path, &st) || st.st_ino != ino)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int find_netns(uint64_t ino)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	char path[300];
	int fd = -1;

	for (int d = 0; d < 2 && fd < 0; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		while (dir && fd < 0 && (de = readdir(dir))) {
			if (de->d_name[0] == '.' || (d == 1 && atoi(de->d_name) <= 0))
				continue;
			snprintf(path, sizeof(path), d ? "/proc/%s/ns/net" : "/run/netns/%s",
				 de->d_name);
			fd = open_if(path, ino);
		}
		if (dir)
			closedir(dir);
	}
	return fd;
}

int ks_netns_enter(uint64_t netns, int *saved)
{
	int fd, err = 0;

	if (!netns || netns == ks_netns_self())
		return 1;
	fd = find_netns(netns);
	if (fd < 0)
		return -ENOENT;
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		if (*saved >= 0)
			close(*saved);
	}
	close(fd);
	return err;
}

void ks_netns_leave(int saved)
{
	if (setns(saved, CLONE_NEWNET))
		fprintf(stderr, "ksight: cannot return to its network namespace: %m\n");
	close(saved);
}
