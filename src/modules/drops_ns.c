// SPDX-License-Identifier: GPL-2.0
/*
 * drops: network namespaces (--netns, -i in another namespace, the names rows show) and
 * the sockets of -p, from /proc and /run/netns.
 */
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/drops_int.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int drops_netns_resolve(const char *spec, char *path, size_t plen, uint32_t *ino, char *err,
			size_t len)
{
	struct stat sb;

	if (all_digits(spec))
		snprintf(path, plen, "/proc/%s/ns/net", spec);
	else if (strchr(spec, '/'))
		snprintf(path, plen, "%s", spec);
	else
		snprintf(path, plen, "/run/netns/%s", spec);
	if (stat(path, &sb)) {
		snprintf(err, len, "--netns: no network namespace '%s' (%s: %s)", spec, path,
			 strerror(errno));
		return -1;
	}
	*ino = sb.st_ino;
	return 0;
}

uint32_t drops_self_netns(void)
{
	struct stat sb;

	return stat("/proc/self/ns/net", &sb) ? 0 : sb.st_ino;
}

struct ifq {
	const char *nspath, *name;
	unsigned int index;
	int err;
};

/* A thread of its own enters the namespace: setns() moves only the calling thread. */
static void *ifq_run(void *arg)
{
	struct ifq *q = arg;
	int fd = open(q->nspath, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		q->err = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	q->index = if_nametoindex(q->name);
	if (!q->index)
		q->err = errno;
	return NULL;
}

int drops_ifindex(const char *nspath, const char *name, uint32_t *ifindex, char *err,
		  size_t len)
{
	struct ifq q = { nspath, name, 0, 0 };
	pthread_t t;

	if (strlen(name) >= IF_NAMESIZE) {
		snprintf(err, len, "-i: '%s' is longer than an interface name can be", name);
		return -1;
	}
	if (!nspath) {
		q.index = if_nametoindex(name);
		q.err = q.index ? 0 : errno;
	} else if ((q.err = pthread_create(&t, NULL, ifq_run, &q)) == 0) {
		pthread_join(t, NULL);
	}
	if (!q.index) {
		snprintf(err, len, "-i: no interface '%s'%s%s", name,
			 nspath ? " in network namespace " : "", nspath ? nspath : "");
		return -1;
	}
	*ifindex = q.index;
	return 0;
}

const char *drops_netns_name(uint32_t ino, uint32_t self, char *buf, size_t len)
{
	struct dirent *de;
	DIR *d;

	if (!ino || ino == self)
		return "";
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		char path[300];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (!stat(path, &sb) && sb.st_ino == ino) {
			snprintf(buf, len, "%s", de->d_name);
			closedir(d);
			return buf;
		}
	}
	if (d)
		closedir(d);
	snprintf(buf, len, "net:[%u]", ino);
	return buf;
}

int drops_pid_sockets(uint32_t pid, struct bpf_map *map)
{
	char dir[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%u/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[320], link[64];
		unsigned long long ino;
		__u64 key;
		ssize_t l;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		key = ino;
		n++;
		if (map)
			bpf_map__update_elem(map, &key, sizeof(key), &pid, sizeof(pid), BPF_ANY);
	}
	closedir(d);
	return n;
}
