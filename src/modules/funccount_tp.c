// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints counted with no BPF at all: a perf counter (PERF_TYPE_TRACEPOINT, counting,
 * never sampling) per tracepoint and online CPU, or per thread of the one process (-p) or
 * thread (-t) asked for. The kernel adds one per hit in the tracepoint's own perf hook; no
 * program runs, nothing is copied, and user space reads the sums when it reports.
 * Limits: a CPU brought online later and, with -p, threads started later are not counted.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/procfs.h"
#include "modules/funccount_int.h"

#define FC_CPUS 1024

/* Where each tracepoint's counters go: (pid, cpu) pairs. Returns the count, or -errno. */
static int targets(const struct fc_state *st, int *pids, int *cpus, int max)
{
	char buf[4096], path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (st->tid || st->pid) {
		if (st->tid) {
			pids[0] = st->tid;
			cpus[0] = -1;
			return 1;
		}
		snprintf(path, sizeof(path), "/proc/%llu/task", (unsigned long long)st->pid);
		d = opendir(path);
		if (!d)
			return -errno;
		while ((e = readdir(d)) && n < max)
			if (e->d_name[0] != '.') {
				pids[n] = atoi(e->d_name);
				cpus[n++] = -1;
			}
		closedir(d);
		return n;
	}
	if (ks_read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -EIO;
	n = ks_cpu_list_parse(buf, cpus, max);
	for (int i = 0; i < n; i++)
		pids[i] = -1;
	return n < 0 ? -EIO : n;
}

/* Every counter needs a descriptor: `t:syscalls:*` is 700 tracepoints per CPU. */
static void raise_fd_limit(size_t need)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < need + 256) {
		r.rlim_cur = need + 256 < r.rlim_max ? need + 256 : r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int fc_tp_open(struct fc_state *st, char *err, size_t len)
{
	static int pids[FC_CPUS], cpus[FC_CPUS];
	int n = targets(st, pids, cpus, FC_CPUS);

	if (n <= 0) {
		snprintf(err, len, "tracepoint counters: cannot list %s: %s",
			 st->pid ? "the process's threads" : "the online CPUs",
			 strerror(n < 0 ? -n : ENOENT));
		return n < 0 ? n : -ENOENT;
	}
	raise_fd_limit((size_t)n * st->ntp);
	for (int t = 0; t < st->ntp; t++) {
		struct fc_tp *tp = &st->tps[t];
		struct perf_event_attr a = {
			.type = PERF_TYPE_TRACEPOINT,
			.size = sizeof(a),
			.config = tp->id,
		};

		tp->fds = calloc(n, sizeof(int));
		if (!tp->fds)
			return -ENOMEM;
		for (int i = 0; i < n; i++) {
			int fd = syscall(__NR_perf_event_open, &a, pids[i], cpus[i], -1,
					 PERF_FLAG_FD_CLOEXEC);

			/* a thread of -p that ended meanwhile is no loss */
			if (fd < 0 && errno == ESRCH && pids[i] > 0)
				continue;
			if (fd < 0) {
				int e = errno;

				snprintf(err, len, "%s: perf counter on %s %d: %s", tp->name,
					 pids[i] > 0 ? "thread" : "CPU",
					 pids[i] > 0 ? pids[i] : cpus[i], strerror(e));
				return -e;
			}
			tp->fds[tp->nfds++] = fd;
		}
	}
	return 0;
}

uint64_t fc_tp_read(const struct fc_tp *tp)
{
	uint64_t sum = 0, v;

	for (int i = 0; i < tp->nfds; i++)
		if (read(tp->fds[i], &v, sizeof(v)) == sizeof(v))
			sum += v;
	return sum;
}

void fc_tp_close(struct fc_state *st)
{
	for (int t = 0; t < st->ntp; t++) {
		for (int i = 0; i < st->tps[t].nfds; i++)
			close(st->tps[t].fds[i]);
		free(st->tps[t].fds);
		st->tps[t].fds = NULL;
		st->tps[t].nfds = 0;
	}
}
