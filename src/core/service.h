/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What service a cgroup path names. Pure (tested without a kernel).
 *
 * A systemd service unit is named as such ("nginx.service", the innermost one); a container
 * as "<runtime>:<id>" with the id cut to 12 characters like `docker ps` shows it
 * ("docker:3f4e5d6c7b8a", "podman:...", "containerd:...", "crio:...", "k8s:..." for any
 * container of a Kubernetes pod), or by its name where the path has one ("lxc:web",
 * "machine:debian" for systemd-nspawn and other machined guests). A container wins over a
 * unit, whether the unit is above it (containerd.service) or inside it (a container's own
 * systemd).
 */
#ifndef KSIGHT_SERVICE_H
#define KSIGHT_SERVICE_H

#include <stddef.h>

enum ks_svc_kind {
	KS_SVC_NONE,		/* the path names neither (root, slices, sessions) */
	KS_SVC_UNIT,		/* a systemd service unit */
	KS_SVC_CONTAINER,	/* a container or machine */
	KS_SVC_EXE,		/* not from a cgroup: the executable's file name */
	KS_SVC_COMM,		/* not even that: the task's comm */
};

/* "none", "unit", "container", "exe", "comm". Never NULL. */
const char *ks_svc_kind_name(enum ks_svc_kind k);

/*
 * The service cgroup @path (below the cgroup2 mount, or a name=systemd v1 path) names,
 * written to @out. Returns its kind; KS_SVC_NONE when the path names none or the name
 * does not fit in @len bytes with its NUL (@out then holds nothing to use).
 */
enum ks_svc_kind ks_service_from_cgroup(const char *path, char *out, size_t len);

#endif
