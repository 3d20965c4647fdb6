// SPDX-License-Identifier: GPL-2.0
/*
 * Probes for the families whose programs the core does not attach through a section name
 * alone (module.h, from KS_FAM_LSM on). Each asks the kernel with a trial that changes
 * nothing: it loads the family's smallest program, then attaches it where that has no
 * effect (a disabled perf event, a uprobe on this binary's entry point, which never runs
 * again) or asks for a link to a target that cannot exist (ifindex 0, fd -1), where a
 * kernel that has such links answers "no such target" and an older one "invalid".
 * On success @why holds a note for `ksight status` (how the family attaches here).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/elfsym.h"
#include "core/procfs.h"
#include "core/probe_int.h"
#include "core/tcx.h"

#define UPROBE_PMU "/sys/bus/event_source/devices/uprobe"

static int read_int(const char *path, int *v)
{
	char buf[32];

	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%d", v) != 1)
		return -ENOENT;
	return 0;
}

int ks_uprobe_pmu_type(void)
{
	int type;

	return read_int(UPROBE_PMU "/type", &type) ? -ENOENT : type;
}

int ks_uprobe_pmu_retbit(void)
{
	char buf[32];
	int bit;

	if (ks_read_file(UPROBE_PMU "/format/retprobe", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "config:%d", &bit) != 1)
		return -ENOENT;
	return bit;
}

static int note(char *w, size_t len, const char *text)
{
	snprintf(w, len, "%s", text);
	return 0;
}

/* Whether the kernel lists bpf among its active LSMs (securityfs, mounted if needed). */
static int bpf_lsm_active(void)
{
	const char *path = "/sys/kernel/security/lsm";
	char buf[512];

	if (access(path, R_OK))
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	for (char *tok = strtok(buf, ",\n"); tok; tok = strtok(NULL, ",\n"))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

static int probe_lsm(struct ks_probe *p, const char *hook, char *w, size_t len)
{
	struct btf *btf = ks_probe__btf(p);
	char fn[96];
	int id, fd, active;

	if (!btf)
		return ks_probe_why(w, len, -ENOENT, "kernel has no BTF (%s)",
				    "CONFIG_DEBUG_INFO_BTF");
	snprintf(fn, sizeof(fn), "bpf_lsm_%s", hook);
	id = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
	if (id < 0)
		return ks_probe_why(w, len, -ENOENT, "no BPF LSM hook %s (CONFIG_BPF_LSM)", hook);
	fd = ks_probe_prog(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, id, false);
	if (fd < 0)
		return ks_probe_why(w, len, fd, "BPF LSM program on %s refused: BPF trampolines "
				    "not allowed", hook);
	close(fd);
	active = bpf_lsm_active();
	if (active < 0)
		return ks_probe_why(w, len, -ENOENT, "cannot read the active LSMs (%s)",
				    "/sys/kernel/security/lsm");
	if (!active)
		return ks_probe_why(w, len, -EOPNOTSUPP, "bpf is not an active LSM: programs "
				    "would never run (boot with lsm=...,bpf)%s", "");
	return 0;
}

static int perf_open(struct perf_event_attr *a, int pid, int cpu)
{
	int fd = syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Attach program @prog to perf event @pfd the way libbpf will: a BPF link where the kernel
 * has perf links, else the event's ioctl. Returns 0 with a note, or -errno.
 */
static int perf_attach_trial(int prog, int pfd, char *w, size_t len)
{
	int link = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);

	if (link >= 0) {
		close(link);
		return note(w, len, "perf links");
	}
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog))
		return -errno;
	return note(w, len, "perf event ioctl, no perf links");
}

static int probe_perf(const char *kind, char *w, size_t len)
{
	bool hw = !strcmp(kind, "hardware");
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = hw ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE,
		.config = hw ? PERF_COUNT_HW_CPU_CYCLES : PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1ULL << 40,
		.disabled = 1,
	};
	int cpu = sched_getcpu(), pfd, prog, err;

	pfd = perf_open(&a, -1, cpu < 0 ? 0 : cpu);
	if (pfd < 0) {
		if (hw && (pfd == -ENOENT || pfd == -EOPNOTSUPP || pfd == -ENODEV))
			return ks_probe_why(w, len, pfd, "no hardware counters: the CPU (or VM) "
					    "exposes no PMU%s", "");
		return ks_probe_why(w, len, pfd, "perf_event_open of a %s event refused", kind);
	}
	prog = ks_probe_prog(BPF_PROG_TYPE_PERF_EVENT, 0, 0, false);
	if (prog < 0) {
		close(pfd);
		return ks_probe_why(w, len, prog, "perf_event programs refused%s", "");
	}
	err = perf_attach_trial(prog, pfd, w, len);
	close(prog);
	close(pfd);
	if (err)
		return ks_probe_why(w, len, err, "cannot attach a program to a %s perf event", kind);
	return 0;
}

static int tracefs_writable(const char *file)
{
	const char *tracefs = ks_tracefs();
	char path[128];

	if (!tracefs)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	return !access(path, W_OK);
}

static int probe_uprobe(bool ret, char *w, size_t len)
{
	struct perf_event_attr a = { .size = sizeof(a) };
	int type = ks_uprobe_pmu_type(), bit = ks_uprobe_pmu_retbit(), pfd, prog, err;
	const char *self = "/proc/self/exe";
	char how[64];
	uint64_t off;

	if (type < 0) {
		if (tracefs_writable("uprobe_events"))
			return note(w, len, "tracefs uprobe_events, no perf PMU: events tagged "
					    "ksight_<pid>");
		return ks_probe_why(w, len, -EOPNOTSUPP, "kernel built without uprobes "
				    "(CONFIG_UPROBE_EVENTS)%s", "");
	}
	if (ret && bit < 0)
		return ks_probe_why(w, len, -EOPNOTSUPP, "the uprobe PMU has no retprobe bit%s",
				    "");
	prog = ks_probe_prog(BPF_PROG_TYPE_KPROBE, 0, 0, false);
	if (prog < 0)
		return ks_probe_why(w, len, prog, "uprobe (kprobe-type) programs refused%s", "");
	if (ks_elf_entry_offset(self, &off)) {
		close(prog);
		return note(w, len, "perf PMU (not tried: this binary's entry point not found)");
	}
	a.type = type;
	a.config = ret ? 1ULL << bit : 0;
	a.config1 = (uint64_t)(unsigned long)self;	/* uprobe_path */
	a.config2 = off;				/* probe_offset */
	pfd = perf_open(&a, getpid(), -1);
	if (pfd < 0) {
		close(prog);
		return ks_probe_why(w, len, pfd, "a %s on this binary was refused",
				    ret ? "uretprobe" : "uprobe");
	}
	err = perf_attach_trial(prog, pfd, how, sizeof(how));
	close(pfd);
	close(prog);
	if (err)
		return ks_probe_why(w, len, err, "cannot attach a program to a %s",
				    ret ? "uretprobe" : "uprobe");
	snprintf(w, len, "perf PMU, %s", how);
	return 0;
}

static int probe_usdt(char *w, size_t len)
{
	char sem[128];
	int err = probe_uprobe(false, w, len);

	if (err)
		return err;
	snprintf(sem, sizeof(sem), "%s; semaphores %s", w,
		 access(UPROBE_PMU "/format/ref_ctr_offset", F_OK) ? "not counted by the kernel"
								     : "counted by the kernel");
	return note(w, len, sem);
}

static int probe_tc(const char *mode, char *w, size_t len)
{
	int prog = ks_probe_prog(BPF_PROG_TYPE_SCHED_CLS, 0, 0, false), link, err;

	if (prog < 0)
		return ks_probe_why(w, len, prog, "TC BPF programs refused%s", "");
	/* ifindex 0 names no device: a kernel with tcx says so, an older one knows no such
	 * attach type */
	link = bpf_link_create(prog, 0, KS_BPF_TCX_INGRESS, NULL);
	err = link >= 0 ? 0 : -errno;
	if (link >= 0)
		close(link);
	close(prog);
	if (!err || err == -ENODEV)
		return note(w, len, "tcx links");
	if (!strcmp(mode, "tcx"))
		return ks_probe_why(w, len, err, "no tcx links: the kernel knows no tcx attach "
				    "type%s", "");
	return note(w, len, "legacy clsact filters, tagged and removed by ksight: no tcx here");
}

static int probe_xdp(struct ks_probe *p, char *w, size_t len)
{
	int prog = ks_probe_prog(BPF_PROG_TYPE_XDP, 0, 0, false);
	struct btf *btf = ks_probe__btf(p);

	if (prog < 0)
		return ks_probe_why(w, len, prog, "XDP programs refused%s", "");
	close(prog);
	if (!btf || btf__find_by_name_kind(btf, "bpf_xdp_link", BTF_KIND_STRUCT) < 0)
		return ks_probe_why(w, len, -EOPNOTSUPP, "no XDP links (no struct bpf_xdp_link in "
				    "the kernel's BTF)%s", "");
	return note(w, len, "links");
}

static const struct {
	const char *name;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
} cgroup_kinds[] = {
	{ "skb", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
	{ "sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE },
	{ "sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
	{ "sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS },
};

static int probe_cgroup(const char *kind, char *w, size_t len)
{
	char root[512];
	int prog, link, err;

	for (size_t i = 0; i < sizeof(cgroup_kinds) / sizeof(cgroup_kinds[0]); i++) {
		if (strcmp(kind, cgroup_kinds[i].name))
			continue;
		if (ks_cgroup2_root(root, sizeof(root)))
			return ks_probe_why(w, len, -ENOENT, "no cgroup v2 hierarchy mounted%s", "");
		prog = ks_probe_prog(cgroup_kinds[i].type, cgroup_kinds[i].attach, 0, false);
		if (prog < 0)
			return ks_probe_why(w, len, prog, "cgroup %s programs refused", kind);
		/* fd -1 is no cgroup: a kernel with cgroup links says "bad fd" */
		link = bpf_link_create(prog, -1, cgroup_kinds[i].attach, NULL);
		err = link >= 0 ? 0 : -errno;
		if (link >= 0)
			close(link);
		close(prog);
		if (err && err != -EBADF)
			return ks_probe_why(w, len, err, "no cgroup BPF links%s", "");
		snprintf(w, len, "links, cgroup v2 at %s", root);
		return 0;
	}
	return ks_probe_why(w, len, -EINVAL, "no cgroup program kind %s", kind);
}

int ks_probe_dynamic(struct ks_probe *p, enum ks_family family, const char *target, char *w,
		     size_t len)
{
	switch (family) {
	case KS_FAM_LSM:
		return probe_lsm(p, target, w, len);
	case KS_FAM_PERF:
		return probe_perf(target, w, len);
	case KS_FAM_UPROBE:
		return probe_uprobe(!strcmp(target, "uretprobe"), w, len);
	case KS_FAM_USDT:
		return probe_usdt(w, len);
	case KS_FAM_TC:
		return probe_tc(target, w, len);
	case KS_FAM_XDP:
		return probe_xdp(p, w, len);
	case KS_FAM_CGROUP:
		return probe_cgroup(target, w, len);
	default:
		return ks_probe_why(w, len, -EINVAL, "no such hook family%s", "");
	}
}
