/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on a pure v2 system,
 * /sys/fs/cgroup/unified on a hybrid one (systemd's v1 + v2), anywhere else an
 * administrator put it (read from /proc/self/mountinfo, procfs.h).
 */
#ifndef KSIGHT_CGROUP2_H
#define KSIGHT_CGROUP2_H

#include <stddef.h>

/* The cgroup2 mount point of this process's mounts. Returns 0 with it in @out, or -ENOENT. */
int ks_cgroup2_root(char *out, size_t len);

/*
 * The directory of cgroup @arg: a path on a cgroup2 file system as given, else a path
 * relative to the cgroup2 mount ("system.slice/x.service", "/system.slice/x.service").
 * Returns 0 with the path in @out, or -errno with the reason in @why.
 */
int ks_cgroup2_path(const char *arg, char *out, size_t len, char *why, size_t wlen);

#endif
