// SPDX-License-Identifier: GPL-2.0
/* The cgroup2 mount, cgroup ids to paths by file handle or by a bounded walk (cgroup.h). */
#include "core/cgroup.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/procfs.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
#define FILEID_KERNFS 0xfe	/* include/linux/exportfs.h: a u64 kernfs node id */

/* Copy mountinfo field @s (ends at a space) undoing the octal escapes ("\040"). */
static int unescape(const char *s, char *out, size_t len)
{
	size_t n = 0;

	while (*s && *s != ' ' && *s != '\n') {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7') {
			c = (s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0');
			s += 3;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

/* Field @i (0-based) of a mountinfo line, or NULL. */
static const char *field(const char *line, const char *end, int i)
{
	while (i-- > 0) {
		line = memchr(line, ' ', end - line);
		if (!line)
			return NULL;
		line++;
	}
	return line < end ? line : NULL;
}

int ks_parse_mountinfo_cgroup2(const char *buf, char *dir, size_t len)
{
	const char *line = buf, *pick = NULL, *pick_end = NULL;
	bool pick_whole = false;

	/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... shared:9 - cgroup2 cgroup2 rw" */
	while (line && *line) {
		const char *end = strchr(line, '\n'), *sep, *root, *mnt;

		if (!end)
			end = line + strlen(line);
		sep = strstr(line, " - cgroup2 ");
		root = field(line, end, 3);
		mnt = field(line, end, 4);
		if (sep && sep < end && root && mnt && mnt < sep) {
			bool whole = !strncmp(root, "/ ", 2);

			if (!pick || (whole && !pick_whole)) {
				pick = line;
				pick_end = end;
				pick_whole = whole;
			}
		}
		line = *end ? end + 1 : NULL;
	}
	if (!pick)
		return -1;
	return unescape(field(pick, pick_end, 4), dir, len);
}

/* Whether ids open as FILEID_KERNFS handles on @fs: the root's own handle is one, holds
 * its inode number, and opening it works (it needs CAP_DAC_READ_SEARCH). */
static bool probe_handles(struct ks_cgfs *fs)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[64];
	} h = { .fh.handle_bytes = 64 };
	struct statfs sfs;
	struct stat st;
	uint64_t id;
	char path[KS_CG_PATH_MAX];
	int mnt;

	if (fstatfs(fs->fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || fstat(fs->fd, &st))
		return false;
	if (name_to_handle_at(fs->fd, "", &h.fh, &mnt, AT_EMPTY_PATH) ||
	    h.fh.handle_type != FILEID_KERNFS || h.fh.handle_bytes != sizeof(id))
		return false;
	memcpy(&id, h.fh.f_handle, sizeof(id));
	if (id != (uint64_t)st.st_ino)
		return false;
	fs->handles = true;
	if (ks_cgfs__path(fs, id, path, sizeof(path)) || strcmp(path, "/"))
		fs->handles = false;
	return fs->handles;
}

int ks_cgfs__open(struct ks_cgfs *fs, const char *proc_root)
{
	char path[256], buf[16384];

	fs->root[0] = 0;
	fs->fd = -1;
	fs->handles = false;
	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 ||
	    ks_parse_mountinfo_cgroup2(buf, fs->root, sizeof(fs->root)))
		return -ENOENT;
	fs->fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->fd < 0) {
		fs->root[0] = 0;
		return -ENOENT;
	}
	probe_handles(fs);
	return 0;
}

void ks_cgfs__close(struct ks_cgfs *fs)
{
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	fs->root[0] = 0;
}

int ks_cgfs__path(const struct ks_cgfs *fs, uint64_t id, char *out, size_t len)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(id), .handle_type = FILEID_KERNFS } };
	size_t rl = strlen(fs->root);
	char link[64], buf[KS_CG_PATH_MAX + 256];
	const char *rel;
	ssize_t n;
	int fd;

	if (!fs->handles)
		return -EOPNOTSUPP;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(fs->fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* seen through another mount (a bind mount, a cgroup namespace): not ours to cut */
	if (strncmp(buf, fs->root, rl) || (buf[rl] && buf[rl] != '/'))
		return -EXDEV;
	rel = buf[rl] ? buf + rl : "/";
	if (strlen(rel) >= len)
		return -ENAMETOOLONG;
	strcpy(out, rel);
	return 0;
}

uint64_t ks_cgfs__id(const struct ks_cgfs *fs, const char *path)
{
	struct stat st;

	while (*path == '/')
		path++;
	if (fs->fd < 0 || fstatat(fs->fd, *path ? path : ".", &st, AT_SYMLINK_NOFOLLOW) ||
	    !S_ISDIR(st.st_mode))
		return 0;
	return st.st_ino;
}

static int push(char ***stack, size_t *n, size_t *cap, char *s)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **v = realloc(*stack, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*stack = v;
		*cap = c;
	}
	(*stack)[(*n)++] = s;
	return 0;
}

/* The subdirectories of @rel ("/a/b"), each visited and pushed; stops at @max. */
static void walk_dir(const struct ks_cgfs *fs, dev_t dev, const char *rel, size_t max,
		     int *visited, char ***stack, size_t *n, size_t *cap, ks_cgfs_visit fn,
		     void *arg)
{
	int dfd = openat(fs->fd, rel[1] ? rel + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;	/* removed meanwhile */
	}
	while ((size_t)*visited < max && (de = readdir(d))) {
		char *child;

		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode) || st.st_dev != dev)
			continue;
		if (asprintf(&child, "%s%s%s", rel, rel[1] ? "/" : "", de->d_name) < 0)
			break;
		fn(arg, st.st_ino, child);
		(*visited)++;
		if (push(stack, n, cap, child)) {
			free(child);
			break;
		}
	}
	closedir(d);
}

int ks_cgfs__walk(const struct ks_cgfs *fs, size_t max_dirs, ks_cgfs_visit fn, void *arg)
{
	size_t n = 0, cap = 0;
	char **stack = NULL, *rel;
	int visited = 1;
	struct stat st;

	if (fs->fd < 0)
		return -ENOENT;
	if (fstat(fs->fd, &st))
		return -errno;
	fn(arg, st.st_ino, "/");
	rel = strdup("/");
	if (!rel || push(&stack, &n, &cap, rel)) {
		free(rel);
		return -ENOMEM;
	}
	while (n) {
		rel = stack[--n];
		if ((size_t)visited < max_dirs)
			walk_dir(fs, st.st_dev, rel, max_dirs, &visited, &stack, &n, &cap, fn, arg);
		free(rel);
	}
	free(stack);
	return visited;
}

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
