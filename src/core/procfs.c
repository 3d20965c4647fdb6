// SPDX-License-Identifier: GPL-2.0
#include "core/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ks_parse_stat(const char *buf, struct ks_stat *out)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long start = 0;
	unsigned int ppid = 0;
	const char *p;
	size_t n;
	int field;

	if (!open || !close || close < open || close[1] != ' ')
		return -1;
	n = close - open - 1;
	if (n > sizeof(out->comm) - 1)
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = 0;
	p = close + 2;
	out->state = *p;
	/* fields after comm: 3 state, 4 ppid, ..., 22 starttime */
	for (field = 3; *p; field++) {
		if (field == 4 && sscanf(p, "%u", &ppid) != 1)
			return -1;
		if (field == 22) {
			if (sscanf(p, "%llu", &start) != 1)
				return -1;
			out->ppid = ppid;
			out->starttime = start;
			return 0;
		}
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return -1;	/* the line ends before starttime */
}

int ks_parse_status_uid(const char *buf, uint32_t *uid)
{
	const char *p = strstr(buf, "\nUid:");
	unsigned int u;

	if (!p && !strncmp(buf, "Uid:", 4))
		p = buf - 1;
	if (!p || sscanf(p + 5, "%u", &u) != 1)
		return -1;
	*uid = u;
	return 0;
}

/* The path of the first line of /proc/<pid>/cgroup that starts with @prefix. */
static int cgroup_line(const char *buf, const char *prefix, char *path, size_t len)
{
	size_t pl = strlen(prefix);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, prefix, pl)) {
			const char *end = strchr(p, '\n');
			size_t n = end ? (size_t)(end - p - pl) : strlen(p + pl);

			if (n >= len)
				return -1;
			memcpy(path, p + pl, n);
			path[n] = 0;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int ks_parse_cgroup_v2(const char *buf, char *path, size_t len)
{
	return cgroup_line(buf, "0::", path, len);
}

int ks_parse_cgroup_systemd(const char *buf, char *path, size_t len)
{
	const char *p = buf;

	/* "<n>:name=systemd:<path>": the number varies */
	while (p && *p) {
		const char *colon = strchr(p, ':'), *end = strchr(p, '\n');

		if (colon && (!end || colon < end) && !strncmp(colon, ":name=systemd:", 14))
			return cgroup_line(colon, ":name=systemd:", path, len);
		p = end ? end + 1 : NULL;
	}
	return -1;
}

int ks_parse_statm_rss(const char *buf, uint64_t *pages)
{
	unsigned long long size, rss;

	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return -1;
	*pages = rss;
	return 0;
}

ssize_t ks_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		ssize_t n = read(fd, buf + off, len - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = 0;
	close(fd);
	return off;
}

int ks_count_children(const char *root, uint32_t pid)
{
	char path[256], buf[512];
	struct ks_stat st;
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir(root);

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		/* a process that exits meanwhile is simply not counted */
		if (snprintf(path, sizeof(path), "%s/%.32s/stat", root, d->d_name) <
			    (int)sizeof(path) &&
		    ks_read_file(path, buf, sizeof(buf)) > 0 && !ks_parse_stat(buf, &st) &&
		    st.ppid == pid)
			n++;
	}
	closedir(dir);
	return n;
}
