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

int ks_parse_cgroup_v2(const char *buf, char *path, size_t len)
{
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, "0::", 3)) {
			const char *end = strchr(p, '\n');
			size_t n = end ? (size_t)(end - p - 3) : strlen(p + 3);

			if (n >= len)
				return -1;
			memcpy(path, p + 3, n);
			path[n] = 0;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int ks_parse_mountinfo_cgroup2(const char *buf, char *dir, size_t len)
{
	const char *line = buf;

	/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... shared:9 - cgroup2 cgroup2 rw" */
	while (line && *line) {
		const char *end = strchr(line, '\n'), *sep = strstr(line, " - cgroup2 ");

		if (sep && (!end || sep < end)) {
			char mnt[4096];

			if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strlen(mnt) < len) {
				strcpy(dir, mnt);
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* "docker-<64 hex>.scope", "cri-containerd-<id>.scope", "libpod-<id>.scope", "crio-<id>". */
static const char *container_id(const char *comp, size_t n, size_t *idlen)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "libpod-", "crio-",
						"containerd-" };
	size_t end = n;

	if (n > 6 && !strncmp(comp + n - 6, ".scope", 6))
		end = n - 6;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);

		if (end > pl + 11 && !strncmp(comp, prefixes[i], pl) && all_hex(comp + pl, end - pl)) {
			*idlen = end - pl;
			return comp + pl;
		}
	}
	if (end >= 12 && all_hex(comp, end) && end == n) {	/* "/docker/<id>" */
		*idlen = end;
		return comp;
	}
	return NULL;
}

const char *ks_service_from_cgroup(const char *path, char *out, size_t len)
{
	const char *found = NULL, *p = path;
	size_t found_len = 0;
	bool is_container = false;

	while (p && *p) {
		const char *next = strchr(p, '/');
		size_t n = next ? (size_t)(next - p) : strlen(p);
		const char *id;
		size_t idlen;

		if ((id = container_id(p, n, &idlen))) {
			found = id;
			found_len = idlen > 12 ? 12 : idlen;
			is_container = true;
		} else if (!is_container && n > 8 && !strncmp(p + n - 8, ".service", 8)) {
			found = p;
			found_len = n;
		}
		p = next ? next + 1 : NULL;
	}
	if (!found || found_len >= len)
		return NULL;
	memcpy(out, found, found_len);
	out[found_len] = 0;
	return out;
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
