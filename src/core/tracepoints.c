// SPDX-License-Identifier: GPL-2.0
#include "core/tracepoints.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core/procfs.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

int ks_tp_decl_name(const char *decl, char *name, size_t len)
{
	const char *end = decl + strlen(decl), *p;

	/* "type name[16]": the name is the last identifier before any [...] */
	while (end > decl && (end[-1] == ' ' || end[-1] == ']')) {
		if (end[-1] == ']') {
			while (end > decl && end[-1] != '[')
				end--;
			if (end > decl)
				end--;
		} else {
			end--;
		}
	}
	p = end;
	while (p > decl && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
		p--;
	if (p == end || (size_t)(end - p) >= len)
		return -EINVAL;
	memcpy(name, p, end - p);
	name[end - p] = 0;
	return 0;
}

/* One "field:DECL;\toffset:N;\tsize:N;\tsigned:N;" line into @f. */
static int parse_line(const char *line, size_t n, struct ks_tp_field *f)
{
	const char *semi = memchr(line, ';', n);
	char rest[128];
	unsigned int off, size, sgn;
	size_t dl;

	if (!semi)
		return -EINVAL;
	dl = semi - line;
	if (dl >= sizeof(f->decl))
		dl = sizeof(f->decl) - 1;
	memcpy(f->decl, line, dl);
	f->decl[dl] = 0;
	n -= semi + 1 - line;
	if (n >= sizeof(rest))
		n = sizeof(rest) - 1;
	memcpy(rest, semi + 1, n);
	rest[n] = 0;
	/* signed: is missing in very old kernels' formats */
	sgn = 0;
	if (sscanf(rest, " offset:%u; size:%u; signed:%u;", &off, &size, &sgn) < 2)
		return -EINVAL;
	f->offset = off;
	f->size = size;
	f->is_signed = sgn;
	return ks_tp_decl_name(f->decl, f->name, sizeof(f->name));
}

int ks_tp_format_parse(const char *text, struct ks_tp_field *f, int max, bool common)
{
	int n = 0;

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n'), *s = p;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct ks_tp_field tmp;

		p = nl ? nl + 1 : NULL;
		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (len < 6 || strncmp(s, "field:", 6))
			continue;
		if (parse_line(s + 6, len - 6, &tmp))
			return -EINVAL;
		if (!common && !strncmp(tmp.name, "common_", 7))
			continue;
		if (n < max)
			f[n] = tmp;
		n++;
	}
	return n;
}

static bool has_events(const char *dir)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/events", dir);
	return !access(path, F_OK);
}

const char *ks_tracefs_get(bool *mounted)
{
	*mounted = false;
	if (has_events(TRACEFS))
		return TRACEFS;
	if (has_events(DEBUGFS_TRACING))
		return DEBUGFS_TRACING;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return NULL;
	*mounted = true;
	return TRACEFS;
}

void ks_tracefs_done(bool mounted)
{
	/* MNT_DETACH would hide it from a user who started using it meanwhile: a busy
	 * mount stays */
	if (mounted)
		umount2(TRACEFS, 0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ks_tp_names_free(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* Append "@cat:@name" to *@v if it matches @glob and is a tracepoint (has an id). */
static int add_match(const char *events, const char *cat, const char *name, const char *glob,
		     char ***v, int *n, int *cap)
{
	char tp[512], id[1024];

	if (snprintf(tp, sizeof(tp), "%s:%s", cat, name) >= (int)sizeof(tp) ||
	    fnmatch(glob, tp, 0))
		return 0;
	if (snprintf(id, sizeof(id), "%s/%s/%s/id", events, cat, name) >= (int)sizeof(id) ||
	    access(id, F_OK))
		return 0;
	if (*n == *cap) {
		int c = *cap ? *cap * 2 : 256;
		char **nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(tp)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int ks_tp_names(const char *tracefs, const char *glob, char ***out)
{
	char events[256], sub[512];
	int n = 0, cap = 0, err = 0;
	char **v = NULL;
	struct dirent *c, *e;
	DIR *d, *dd;

	*out = NULL;
	snprintf(events, sizeof(events), "%s/events", tracefs);
	d = opendir(events);
	if (!d)
		return -errno;
	while (!err && (c = readdir(d))) {
		if (c->d_name[0] == '.' || (c->d_type != DT_DIR && c->d_type != DT_UNKNOWN))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", events, c->d_name);
		dd = opendir(sub);
		if (!dd)
			continue;
		while (!err && (e = readdir(dd)))
			if (e->d_name[0] != '.' && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN))
				err = add_match(events, c->d_name, e->d_name, glob, &v, &n, &cap);
		closedir(dd);
	}
	closedir(d);
	if (err) {
		ks_tp_names_free(v, n);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_name);
	*out = v;
	return n;
}

/* "cat:name" -> "@tracefs/events/cat/name/@file"; -EINVAL without exactly one ':'. */
static int tp_path(const char *tracefs, const char *tp, const char *file, char *buf,
		   size_t len)
{
	const char *colon = strchr(tp, ':');

	if (!colon || strchr(colon + 1, ':') || strchr(tp, '/'))
		return -EINVAL;
	if (snprintf(buf, len, "%s/events/%.*s/%s/%s", tracefs, (int)(colon - tp), tp, colon + 1,
		     file) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int ks_tp_id(const char *tracefs, const char *tp, uint64_t *id)
{
	char path[512], buf[32];
	unsigned long long v;
	int err = tp_path(tracefs, tp, "id", path, sizeof(path));

	if (err)
		return err;
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu", &v) != 1)
		return -ENOENT;
	*id = v;
	return 0;
}

char *ks_tp_format(const char *tracefs, const char *tp)
{
	size_t cap = 4096, n = 0;
	char path[512], *buf = NULL;
	int fd, err = tp_path(tracefs, tp, "format", path, sizeof(path));
	ssize_t r;

	if (err) {
		errno = -err;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += r;
		if (cap - n - 1 == 0) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	else
		errno = ENOMEM;
	return buf;
}
