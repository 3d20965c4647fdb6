// SPDX-License-Identifier: GPL-2.0
/*
 * perf_event programs and counters: one event per online CPU (or one following a process),
 * each owned by this process (a BPF link holding the event, or the event's fd).
 * CPUs that come online later are not covered.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/attachments.h"
#include "core/procfs.h"
#include "core/session_int.h"

#define MAX_CPUS 1024

static int online_cpus(int *cpus, int max)
{
	char buf[256];

	if (ks_read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	return ks_cpu_list_parse(buf, cpus, max);
}

static void perf_attr(const struct ks_perf_spec *s, struct perf_event_attr *a, bool sampling)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = s->type;
	a->config = s->config;
	if (sampling) {
		a->freq = !s->period;
		if (s->period)
			a->sample_period = s->period;
		else
			a->sample_freq = s->freq;
	}
}

static int perf_open(struct perf_event_attr *a, int pid, int cpu)
{
	int fd = syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static const char *perf_why(const struct ks_perf_spec *s, int err)
{
	if (s->type == PERF_TYPE_HARDWARE && (err == -ENOENT || err == -EOPNOTSUPP))
		return "no hardware counters here (no PMU)";
	if (err == -EINVAL && !s->period)
		return "invalid (a frequency above kernel.perf_event_max_sample_rate?)";
	return strerror(-err);
}

int ks_attach_perf(struct ks_ctx *c, struct bpf_program *prog, const struct ks_perf_spec *s)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	int cpus[MAX_CPUS], n = 1, err;
	struct perf_event_attr a;

	if (!in)
		return -EINVAL;
	if (!s->period && !s->freq)
		return ks_att_fail(in, -EINVAL, "perf: neither a period nor a frequency");
	if (s->pid <= 0 && (n = online_cpus(cpus, MAX_CPUS)) <= 0)
		return ks_att_fail(in, -ENOENT, "perf: cannot read the online CPUs");
	perf_attr(s, &a, true);
	for (int i = 0; i < n; i++) {
		struct ks_att att = { .kind = KS_ATT_LINK };
		int pfd = s->pid > 0 ? perf_open(&a, s->pid, -1) : perf_open(&a, -1, cpus[i]);

		if (pfd < 0)
			return ks_att_fail(in, pfd, "perf event (type %u, config %llu) on CPU %d: %s",
					   s->type, (unsigned long long)s->config,
					   s->pid > 0 ? -1 : cpus[i], perf_why(s, pfd));
		/* the link owns the event from here: destroying it closes the fd */
		att.link = bpf_program__attach_perf_event(prog, pfd);
		if (!att.link) {
			err = -errno;
			close(pfd);
			return ks_att_fail(in, err, "perf: cannot attach %s: %s",
					   bpf_program__name(prog), strerror(-err));
		}
		if ((err = ks_attset_add(&in->dyn, &att)))
			return ks_att_fail(in, err, "perf: out of memory");
	}
	return 0;
}

int ks_perf_counters(struct ks_ctx *c, struct bpf_map *array, const struct ks_perf_spec *s)
{
	struct ks_inst *in = ks_ctx_map_owner(c, array);
	int cpus[MAX_CPUS], n, err, map_fd = bpf_map__fd(array);
	struct perf_event_attr a;

	if (!in)
		return -EINVAL;
	if ((n = online_cpus(cpus, MAX_CPUS)) <= 0)
		return ks_att_fail(in, -ENOENT, "perf: cannot read the online CPUs");
	perf_attr(s, &a, false);
	for (int i = 0; i < n; i++) {
		struct ks_att att = { .kind = KS_ATT_PERF_ARRAY, .map_fd = map_fd, .key = cpus[i] };

		att.fd = perf_open(&a, -1, cpus[i]);
		if (att.fd < 0)
			return ks_att_fail(in, att.fd, "perf counter (type %u, config %llu) on CPU %d: "
					   "%s", s->type, (unsigned long long)s->config, cpus[i],
					   perf_why(s, att.fd));
		if (bpf_map_update_elem(map_fd, &att.key, &att.fd, BPF_ANY)) {
			err = -errno;
			close(att.fd);
			return ks_att_fail(in, err, "perf: cannot store the counter of CPU %d in %s: "
					   "%s", cpus[i], bpf_map__name(array), strerror(-err));
		}
		if ((err = ks_attset_add(&in->dyn, &att)))
			return ks_att_fail(in, err, "perf: out of memory");
	}
	return 0;
}
