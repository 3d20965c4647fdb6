/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup v2 filesystem as ksight needs it: where it is mounted, and the path of a
 * cgroup id without walking the tree.
 *
 * Mounts: pure v2 hosts have cgroup2 at /sys/fs/cgroup; hybrid ones (like the VM this was
 * written on) at /sys/fs/cgroup/unified, beside the v1 controllers. Records carry the v2
 * id either way (bpf_get_current_cgroup_id() reads the default hierarchy).
 *
 * Ids: the v2 id is the kernfs node id of the cgroup's directory, which is also its inode
 * number (64-bit kernels), and kernfs encodes file handles of type FILEID_KERNFS holding
 * exactly that id. So open_by_handle_at() on the mount opens the directory from the id
 * alone, and the link /proc/self/fd/N is its path. Where that is unavailable (no
 * CAP_DAC_READ_SEARCH, a kernel without kernfs export, a tree that is not cgroupfs as in
 * tests) a bounded walk maps inode numbers to paths instead.
 *
 * These calls block: use them from the worker thread (core/worker.h), never the reader.
 */
#ifndef KSIGHT_CGROUP_H
#define KSIGHT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_CG_PATH_MAX 512	/* bytes of a cgroup path kept, NUL included */

struct ks_cgfs {
	char root[256];		/* the cgroup2 mount point; "" when there is none */
	int fd;			/* the mount point, open; -1 when there is none */
	bool handles;		/* ids open with FILEID_KERNFS handles */
};

/*
 * The cgroup2 mount point in a /proc/PID/mountinfo text, octal escapes undone: the first
 * whose root is "/" (the whole hierarchy), else the first at all. Returns 0, or -1 when
 * there is none or it does not fit in @len bytes with its NUL.
 */
int ks_parse_mountinfo_cgroup2(const char *buf, char *dir, size_t len);

/*
 * Find and open the cgroup2 mount named by @proc_root/self/mountinfo and try a handle on
 * its root. Returns 0, or -ENOENT when nothing is mounted (then @fs resolves nothing but
 * is safe to use and close). ks_cgfs__close() frees what it holds.
 */
int ks_cgfs__open(struct ks_cgfs *fs, const char *proc_root);
void ks_cgfs__close(struct ks_cgfs *fs);

/*
 * The path of cgroup @id below the mount ("/system.slice/x.service", "/" for the root)
 * into @out. Returns 0; -ESTALE when no such cgroup exists (removed: ids are not reused);
 * -EOPNOTSUPP when handles do not work here (walk instead); another -errno else.
 */
int ks_cgfs__path(const struct ks_cgfs *fs, uint64_t id, char *out, size_t len);

/* The id of cgroup @path (as above), or 0 if it cannot be found. */
uint64_t ks_cgfs__id(const struct ks_cgfs *fs, const char *path);

typedef void (*ks_cgfs_visit)(void *arg, uint64_t id, const char *path);

/*
 * Call @fn for the root and each cgroup below it, parents first, at most @max_dirs in all.
 * Returns how many were visited, or -errno when the root cannot be read.
 */
int ks_cgfs__walk(const struct ks_cgfs *fs, size_t max_dirs, ks_cgfs_visit fn, void *arg);

/* The cgroup2 mount point of this process's mounts. Returns 0 with it in @out, or -ENOENT. */
int ks_cgroup2_root(char *out, size_t len);

/*
 * The directory of cgroup @arg: a path on a cgroup2 file system as given, else a path
 * relative to the cgroup2 mount ("system.slice/x.service", "/system.slice/x.service").
 * Returns 0 with the path in @out, or -errno with the reason in @why.
 */
int ks_cgroup2_path(const char *arg, char *out, size_t len, char *why, size_t wlen);

#endif
