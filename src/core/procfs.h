/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers for /proc text. Pure functions over buffers (tested without a
 * kernel); procfs.c also holds the small readers that fill those buffers.
 */
#ifndef KSIGHT_PROCFS_H
#define KSIGHT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ks_stat {
	char comm[16];
	char state;
	uint32_t ppid;
	uint64_t starttime;	/* clock ticks after boot */
};

/* Parse /proc/<pid>/stat. The comm may hold spaces and ')'; the last ')' ends it.
 * Returns 0 or -1 if malformed. */
int ks_parse_stat(const char *buf, struct ks_stat *out);

/* The real uid from /proc/<pid>/status ("Uid:\t<real>\t..."). Returns 0 or -1. */
int ks_parse_status_uid(const char *buf, uint32_t *uid);

/* The cgroup v2 path from /proc/<pid>/cgroup (the "0::" line). Returns 0 or -1. */
int ks_parse_cgroup_v2(const char *buf, char *path, size_t len);

/* The v1 name=systemd path from /proc/<pid>/cgroup ("1:name=systemd:/system.slice/x"): the
 * units of a host without cgroup2 mounted. Returns 0 or -1. */
int ks_parse_cgroup_systemd(const char *buf, char *path, size_t len);

/* The resident pages from /proc/<pid>/statm, its second field ("size resident shared ...").
 * Returns 0 or -1 if malformed. */
int ks_parse_statm_rss(const char *buf, uint64_t *pages);

/* Read a whole small file into @buf (NUL-terminated). Returns bytes read or -errno. */
ssize_t ks_read_file(const char *path, char *buf, size_t len);

/* How many processes under @root (a /proc) have @pid as their parent; -1 if unreadable. */
int ks_count_children(const char *root, uint32_t pid);

#endif
