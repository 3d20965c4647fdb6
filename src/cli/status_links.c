// SPDX-License-Identifier: GPL-2.0
/*
 * Where programs are attached (status_links.h), read from every link of the machine:
 * the link's own info names its hook. Programs attached without a link (a module's tail-
 * called handlers, TC's legacy clsact filters, perf events on kernels before 5.15) have
 * none and are shown without one.
 */
#include "cli/status_links.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * union bpf_link_info's perf_event member (uapi 6.6; Debian 12's headers are 6.1): the
 * union starts at 16 (it has 8-byte members), the event's name at 24 whatever its kind
 * (a uprobe's file, a kprobe's function, a tracepoint's name). A kernel before 6.6 has a
 * shorter struct and refuses the pointer set past its end (E2BIG): then only the link's
 * type is known.
 */
struct link_info_perf {
	__u32 type, id, prog_id, pad0;
	__u32 ev_type, pad1;
	__u64 name;
	__u32 name_len;
	__u32 offset;		/* a uprobe's or kprobe's offset */
	__u64 tail[4];
};

enum { PERF_EV_UPROBE = 1, PERF_EV_URETPROBE, PERF_EV_KPROBE, PERF_EV_KRETPROBE,
       PERF_EV_TRACEPOINT };

static struct btf *vmlinux;	/* loaded once, at the first tracing link */

/* The name of type @id of BTF object @obj_id (vmlinux, or a module's split on it). */
static const char *btf_name(__u32 obj_id, __u32 id, char *buf, size_t len)
{
	const struct btf_type *t;
	struct btf *mod = NULL;
	const char *name = NULL;

	if (!vmlinux && !(vmlinux = btf__load_vmlinux_btf()))
		return NULL;
	if (id < btf__type_cnt(vmlinux)) {
		t = btf__type_by_id(vmlinux, id);
		name = t ? btf__name_by_offset(vmlinux, t->name_off) : NULL;
	} else if ((mod = btf__load_from_kernel_by_id_split(obj_id, vmlinux))) {
		t = btf__type_by_id(mod, id);
		name = t ? btf__name_by_offset(mod, t->name_off) : NULL;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	btf__free(mod);
	return name ? buf : NULL;
}

static void tracing(const struct bpf_link_info *li, char *where, size_t len)
{
	const char *kind, *strip = "";
	char name[96];

	switch (li->tracing.attach_type) {
	case BPF_TRACE_RAW_TP: kind = "tp_btf"; strip = "btf_trace_"; break;
	case BPF_TRACE_FENTRY: kind = "fentry"; break;
	case BPF_TRACE_FEXIT: kind = "fexit"; break;
	case BPF_MODIFY_RETURN: kind = "fmod_ret"; break;
	case BPF_LSM_MAC: kind = "lsm"; strip = "bpf_lsm_"; break;
	default: kind = "tracing"; break;
	}
	if (!li->tracing.target_btf_id ||	/* before 5.13 */
	    !btf_name(li->tracing.target_obj_id, li->tracing.target_btf_id, name, sizeof(name))) {
		snprintf(where, len, "%s", kind);
		return;
	}
	if (!strncmp(name, strip, strlen(strip)))
		snprintf(where, len, "%s:%s", kind, name + strlen(strip));
	else
		snprintf(where, len, "%s:%s", kind, name);
}

static void perf_event(int fd, char *where, size_t len)
{
	static const char *const kinds[] = { "perf_event", "uprobe", "uretprobe", "kprobe",
					     "kretprobe", "tp" };
	struct link_info_perf pi = { 0 };
	char name[96] = "";
	__u32 l = sizeof(pi);

	pi.name = (__u64)(unsigned long)name;
	pi.name_len = sizeof(name);
	if (bpf_obj_get_info_by_fd(fd, &pi, &l) || !name[0] || pi.ev_type > PERF_EV_TRACEPOINT) {
		snprintf(where, len, "perf_event");
		return;
	}
	if (pi.ev_type == PERF_EV_UPROBE || pi.ev_type == PERF_EV_URETPROBE)
		snprintf(where, len, "%s:%s+0x%x", kinds[pi.ev_type], name, pi.offset);
	else if (pi.offset)
		snprintf(where, len, "%s:%s+0x%x", kinds[pi.ev_type], name, pi.offset);
	else
		snprintf(where, len, "%s:%s", kinds[pi.ev_type], name);
}

/* What link @fd, of info @li, is attached to. */
static void describe(int fd, struct bpf_link_info *li, char *where, size_t len)
{
	char name[96] = "";
	__u32 l = sizeof(*li);

	switch (li->type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		li->raw_tracepoint.tp_name = (__u64)(unsigned long)name;
		li->raw_tracepoint.tp_name_len = sizeof(name);
		if (!bpf_obj_get_info_by_fd(fd, li, &l) && name[0])
			snprintf(where, len, "raw_tp:%s", name);
		else
			snprintf(where, len, "raw_tp");
		break;
	case BPF_LINK_TYPE_TRACING:
		tracing(li, where, len);
		break;
	case BPF_LINK_TYPE_CGROUP:
		snprintf(where, len, "cgroup:%llu", (unsigned long long)li->cgroup.cgroup_id);
		break;
	case BPF_LINK_TYPE_ITER:
		li->iter.target_name = (__u64)(unsigned long)name;
		li->iter.target_name_len = sizeof(name);
		if (!bpf_obj_get_info_by_fd(fd, li, &l) && name[0])
			snprintf(where, len, "iter:%s", name);
		else
			snprintf(where, len, "iter");
		break;
	case BPF_LINK_TYPE_NETNS:
		snprintf(where, len, "netns:%u", li->netns.netns_ino);
		break;
	case BPF_LINK_TYPE_XDP:
		snprintf(where, len, "xdp:%s", if_indextoname(li->xdp.ifindex, name) ?: "?");
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		perf_event(fd, where, len);
		break;
	case BPF_LINK_TYPE_KPROBE_MULTI:
		snprintf(where, len, "kprobe.multi");
		break;
	default:
		snprintf(where, len, "link type %u", li->type);
		break;
	}
}

size_t ks_link_targets(struct ks_link_target *out, size_t max)
{
	__u32 id = 0;
	size_t n = 0;

	while (n < max && !bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info li;
		__u32 l = sizeof(li);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* gone meanwhile */
		memset(&li, 0, sizeof(li));
		if (!bpf_obj_get_info_by_fd(fd, &li, &l)) {
			out[n].prog_id = li.prog_id;
			describe(fd, &li, out[n].where, sizeof(out[n].where));
			n++;
		}
		close(fd);
	}
	return n;
}
