// SPDX-License-Identifier: GPL-2.0
#include "core/service.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ID_SHOWN 12	/* what `docker ps` shows of a container id */
#define ID_MIN 12	/* an id after a runtime's prefix */
#define ID_BARE 64	/* a component that is nothing but an id: a whole one */

const char *ks_svc_kind_name(enum ks_svc_kind k)
{
	static const char *const names[] = { "none", "unit", "container", "exe", "comm" };

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "none";
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(s, prefix, pl);
}

struct found {
	const char *runtime;	/* NULL: a unit */
	const char *name;
	size_t len;
};

/*
 * One path component: a runtime's scope ("docker-<id>.scope", "libpod-<id>.scope",
 * "cri-containerd-<id>.scope", "crio-<id>.scope"), a machine ("machine-<name>.scope",
 * "lxc.payload.<name>"), or a bare id (cgroupfs drivers: "/docker/<id>") whose runtime the
 * parent names. Returns whether it is one.
 */
static bool container(const char *c, size_t n, const char *parent, size_t pn, bool k8s,
		      struct found *f)
{
	static const struct {
		const char *prefix, *runtime;
	} ids[] = {
		{ "docker-", "docker" },
		{ "libpod-", "podman" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "crio" },
		{ "containerd-", "containerd" },
	};
	size_t end = n > 6 && !memcmp(c + n - 6, ".scope", 6) ? n - 6 : n;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		size_t pl = strlen(ids[i].prefix);

		if (starts(c, end, ids[i].prefix) && end - pl >= ID_MIN &&
		    all_hex(c + pl, end - pl)) {
			f->runtime = k8s ? "k8s" : ids[i].runtime;
			f->name = c + pl;
			f->len = end - pl > ID_SHOWN ? ID_SHOWN : end - pl;
			return true;
		}
	}
	if (n == ID_BARE && all_hex(c, n)) {
		f->runtime = k8s ? "k8s" : pn == 6 && !memcmp(parent, "docker", 6) ? "docker" :
			     starts(parent, pn, "libpod") ? "podman" : "container";
		f->name = c;
		f->len = ID_SHOWN;
		return true;
	}
	if (starts(c, end, "machine-") && end > 8) {
		*f = (struct found){ "machine", c + 8, end - 8 };
		return true;
	}
	if (starts(c, n, "lxc.payload.") && n > 12) {
		*f = (struct found){ "lxc", c + 12, n - 12 };
		return true;
	}
	return false;
}

enum ks_svc_kind ks_service_from_cgroup(const char *path, char *out, size_t len)
{
	struct found best = { 0 }, f;
	const char *p = path, *parent = "";
	bool in_container = false, k8s = false;
	size_t pn = 0;
	int n;

	while (p && *p) {
		const char *next = strchr(p, '/');
		size_t cn = next ? (size_t)(next - p) : strlen(p);

		k8s |= starts(p, cn, "kubepods");
		if (cn && container(p, cn, parent, pn, k8s, &f)) {
			best = f;
			in_container = true;
		} else if (!in_container && cn > 8 && !memcmp(p + cn - 8, ".service", 8)) {
			best = (struct found){ NULL, p, cn };
		}
		parent = p;
		pn = cn;
		p = next ? next + 1 : NULL;
	}
	if (!best.name)
		return KS_SVC_NONE;
	if (best.runtime)
		n = snprintf(out, len, "%s:%.*s", best.runtime, (int)best.len, best.name);
	else
		n = snprintf(out, len, "%.*s", (int)best.len, best.name);
	if (n < 0 || (size_t)n >= len)
		return KS_SVC_NONE;
	return best.runtime ? KS_SVC_CONTAINER : KS_SVC_UNIT;
}
