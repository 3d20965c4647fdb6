// SPDX-License-Identifier: GPL-2.0
/* The accept() calls already waiting when ksight started (bpf/tcp_late.bpf.h says why the
 * fexit program misses them): found in /proc, watched at sys_exit until each returned. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "modules/tcp_int.h"

int tcp_late_is_accept(const char *line)
{
	unsigned long long fd;
	char *end;
	long nr = strtol(line, &end, 10);

	/* "NR ARG0 ... SP PC" while in a call (hex arguments); "running", or -1 outside one */
	if (end == line || *end != ' ' || (nr != SYS_accept && nr != SYS_accept4))
		return -1;
	line = end;
	fd = strtoull(line, &end, 16);
	if (end == line || fd > INT32_MAX)
		return -1;
	return fd;
}

/* Whether socket inode @ino is a TCP listener in @table (/proc/PID/net/tcp or tcp6, of
 * the process's namespace): state 0A, inode the 10th field. */
static bool listens_in(const char *table, unsigned long ino)
{
	char line[512], st[8];
	unsigned long i;
	bool yes = false;
	FILE *f = fopen(table, "re");

	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		yes = sscanf(line, "%*s %*s %*s %7s %*s %*s %*s %*s %*s %lu", st, &i) == 2 &&
		      !strcmp(st, "0A") && i == ino;
	fclose(f);
	return yes;
}

/* Whether thread @tid of @pid waits in accept() or accept4() on a TCP listener now (a
 * unix socket's accept may wait for ever: not watched). */
static bool in_accept(unsigned long pid, unsigned long tid)
{
	char path[64], line[256];
	unsigned long ino;
	int fd = -1;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lu/task/%lu/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return false;	/* gone meanwhile */
	if (fgets(line, sizeof(line), f))
		fd = tcp_late_is_accept(line);
	fclose(f);
	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%lu/fd/%d", pid, fd);
	n = readlink(path, line, sizeof(line) - 1);
	if (n <= 0)
		return false;
	line[n] = 0;
	if (sscanf(line, "socket:[%lu]", &ino) != 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%lu/net/tcp", pid);
	if (listens_in(path, ino))
		return true;
	snprintf(path, sizeof(path), "/proc/%lu/net/tcp6", pid);
	return listens_in(path, ino);
}

/* Put every thread of @pid waiting in accept() into @fd; returns how many, and counts in
 * @full those the map had no room for. */
static int list_threads(int fd, unsigned long pid, int *full)
{
	char path[64];
	struct dirent *t;
	DIR *d;
	int n = 0;
	__u8 one = 1;

	snprintf(path, sizeof(path), "/proc/%lu/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((t = readdir(d))) {
		__u32 tid = strtoul(t->d_name, NULL, 10);

		if (!tid || !in_accept(pid, tid))
			continue;
		if (bpf_map_update_elem(fd, &tid, &one, 0))
			(*full)++;
		else
			n++;
	}
	closedir(d);
	return n;
}

struct bpf_link *tcp_late_start(struct bpf_program *prog, struct bpf_map *map,
				unsigned long only, int *err)
{
	int fd = bpf_map__fd(map), n = 0, full = 0;
	struct bpf_link *link;
	struct dirent *p;
	DIR *d = opendir("/proc");

	*err = 0;
	if (!d) {
		*err = -errno;
		return NULL;
	}
	while ((p = readdir(d))) {
		unsigned long pid = strtoul(p->d_name, NULL, 10);

		if (pid && pid != (unsigned long)getpid() && (!only || pid == only))
			n += list_threads(fd, pid, &full);
	}
	closedir(d);
	if (full)
		fprintf(stderr, "ksight: %d more threads wait in accept() than the %d watched: "
			"the connections they accept have no owner\n", full, TCP_LATE_TIDS);
	if (!n)
		return NULL;
	link = bpf_program__attach(prog);
	if (!link)
		*err = -errno;
	return link;
}

struct bpf_link *tcp_late_check(struct bpf_link *link, struct bpf_map *map)
{
	__u32 key, next, *prev = NULL;
	bool left = false;
	char path[32];
	int fd;

	if (!link)
		return NULL;
	fd = bpf_map__fd(map);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		snprintf(path, sizeof(path), "/proc/%u", key);
		/* a thread killed in accept() never reaches sys_exit. (Past a deleted key the
		 * walk starts again from the first: a few threads, the walk is short.) */
		if (access(path, F_OK) && errno == ENOENT)
			bpf_map_delete_elem(fd, &key);
		else
			left = true;
	}
	if (left)
		return link;
	bpf_link__destroy(link);
	return NULL;
}
