// SPDX-License-Identifier: GPL-2.0
/* The accept() calls already waiting when ksight started (bpf/tcp_late.bpf.h says why the
 * fexit program misses them): found in /proc, watched at sys_exit until each returned. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "modules/tcp_int.h"

bool tcp_late_is_accept(const char *line)
{
	char *end;
	long nr = strtol(line, &end, 10);

	/* "NR ARGS... SP PC" while in a call; "running", or -1 outside one */
	if (end == line || (*end != ' ' && *end != '\n' && *end))
		return false;
	return nr == SYS_accept || nr == SYS_accept4;
}

/* Whether thread @tid of @pid waits in accept() or accept4() now. */
static bool in_accept(unsigned long pid, unsigned long tid)
{
	char path[64], line[64];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lu/task/%lu/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return false;	/* gone meanwhile */
	if (fgets(line, sizeof(line), f))
		yes = tcp_late_is_accept(line);
	fclose(f);
	return yes;
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

struct bpf_link *tcp_late_start(struct bpf_program *prog, struct bpf_map *map, int *err)
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

		if (pid && pid != (unsigned long)getpid())
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
