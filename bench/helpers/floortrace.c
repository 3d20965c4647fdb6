// SPDX-License-Identifier: GPL-2.0
/*
 * floortrace: a reference tracer with nothing but the essentials (floortrace.bpf.c), so a
 * benchmark can show, in the same run as ksight and its peers, what any tracer built on
 * the same hooks costs on this kernel. Streams the read/write family of one process or
 * cgroup; a reader drains the ring every 2 ms and discards the records.
 *   floortrace attach|stream|latency|sums -p PID | -c CGROUP_DIR
 *   floortrace switch|sched|sockstate|runqmin
 * (sums counts the whole machine's syscalls whatever the filter; the second line's modes
 * are empty programs on the scheduler's or sock:inet_sock_set_state, machine-wide, in
 * tp_btf or, if the kernel refuses that, raw_tp; runqmin a minimal runqlat, tp_btf only,
 * its "records" the waits it measured: floortrace.bpf.c.)
 * Prints "floortrace MODE: FLAVOUR/HOOK..." (what it attached) and "floortrace: ready" on
 * stderr once attached, and at SIGINT/SIGTERM "floortrace MODE: N records, M lost".
 * Exit 2 on bad arguments, 1 if loading failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "floortrace.skel.h"

static const int rw_family[] = { SYS_read,     SYS_write,    SYS_pread64,  SYS_pwrite64,
				 SYS_readv,    SYS_writev,   SYS_preadv,   SYS_pwritev,
				 SYS_preadv2,  SYS_pwritev2, SYS_sendfile, SYS_recvfrom,
				 SYS_sendto,   SYS_recvmsg,  SYS_sendmsg };

/*
 * Each mode's programs (floortrace.bpf.c): the tp_btf one and, for the empty ones, its
 * raw_tp twin, loaded instead when the kernel refuses the tp_btf flavour.
 */
static const struct mode {
	const char *name;
	bool filtered;	/* takes -p PID or -c CGROUP_DIR */
	bool ring;	/* streams records: drained every 2 ms */
	bool quiet;	/* no 2 ms wakeups: on a scheduler hook they would be traced switches */
	const char *progs[3][2];
} modes[] = {
	{ "attach", true, false, false, { { "floor_attach" } } },
	{ "stream", true, true, false, { { "floor_exit" } } },
	{ "latency", true, true, false, { { "floor_exit" }, { "floor_enter" } } },
	{ "sums", true, false, false, { { "floor_sums" } } },
	{ "switch", false, false, true, { { "floor_switch", "floor_switch_r" } } },
	{ "sched", false, false, true, { { "floor_switch", "floor_switch_r" },
					 { "floor_wakeup", "floor_wakeup_r" },
					 { "floor_wakeup_n", "floor_wakeupn_r" } } },
	{ "sockstate", false, false, true, { { "floor_sockstate", "floor_sockst_r" } } },
	{ "runqmin", false, false, true, { { "floor_rq_switch" }, { "floor_rq_wakeup" },
					   { "floor_rq_wakeup_n" } } },
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int count(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long *)ctx)++;
	return 0;
}

static int usage(const char *why)
{
	fprintf(stderr, "floortrace: %s\nusage: floortrace attach|stream|latency|sums "
		"-p PID | -c CGROUP_DIR\n       floortrace switch|sched|sockstate|runqmin\n", why);
	return 2;
}

/* Opens and loads MODE's programs of FLAVOUR (0: tp_btf, 1: raw_tp); NULL if that failed. */
static struct floortrace_bpf *load(const struct mode *m, int flavour, long pid, __u64 cgroup)
{
	struct floortrace_bpf *skel = floortrace_bpf__open();
	struct bpf_program *prog;

	if (!skel)
		return NULL;
	skel->rodata->targ_tgid = pid;
	skel->rodata->targ_cgroup = cgroup;
	skel->rodata->timed = !strcmp(m->name, "latency");
	for (size_t i = 0; i < sizeof(rw_family) / sizeof(rw_family[0]); i++)
		skel->rodata->calls[rw_family[i]] = 1;
	bpf_object__for_each_program(prog, skel->obj) {
		bool on = false;

		for (int i = 0; i < 3 && m->progs[i][0]; i++)
			on |= !strcmp(bpf_program__name(prog), m->progs[i][flavour]);
		bpf_program__set_autoload(prog, on);
	}
	if (floortrace_bpf__load(skel)) {
		floortrace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Attaches MODE's programs of FLAVOUR and says which on stderr; 0 or -1. */
static int attach(struct floortrace_bpf *skel, const struct mode *m, int flavour)
{
	for (int i = 0; i < 3 && m->progs[i][0]; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(skel->obj, m->progs[i][flavour]);

		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "floortrace: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return -1;
		}
	}
	fprintf(stderr, "floortrace %s:", m->name);
	for (int i = 0; i < 3 && m->progs[i][0]; i++)
		fprintf(stderr, " %s", bpf_program__section_name(bpf_object__find_program_by_name(
					       skel->obj, m->progs[i][flavour])));
	fprintf(stderr, "\n");
	return 0;
}

/* runqmin: the waits its histogram holds, every CPU's slots summed. */
static unsigned long histogram_total(struct floortrace_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long per[ncpu > 0 ? ncpu : 1], n = 0;

	for (__u32 slot = 0; ncpu > 0 && slot < 64; slot++)
		if (!bpf_map__lookup_elem(skel->maps.rq_hist, &slot, sizeof(slot), per,
					  sizeof(per), 0))
			for (int i = 0; i < ncpu; i++)
				n += per[i];
	return n;
}

int main(int argc, char **argv)
{
	struct floortrace_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	unsigned long records = 0, lost = 0;
	const struct mode *m = NULL;
	struct stat st;
	int flavour = 0, err = 1;
	__u64 cgroup = 0;
	long pid = 0;

	for (size_t i = 0; argc > 1 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			m = &modes[i];
	if (!m)
		return usage("no such mode");
	if (argc != (m->filtered ? 4 : 2))
		return usage(m->filtered ? "expected a mode and one filter" : "no filter here");
	if (m->filtered && !strcmp(argv[2], "-p")) {
		pid = strtol(argv[3], NULL, 10);
		if (pid <= 0 || kill(pid, 0))
			return usage("no such process");
	} else if (m->filtered) {
		if (strcmp(argv[2], "-c") || stat(argv[3], &st) || !S_ISDIR(st.st_mode))
			return usage("-c needs a cgroup v2 directory");
		cgroup = st.st_ino;	/* a cgroup v2 id is its inode */
	}
	skel = load(m, 0, pid, cgroup);
	if (!skel && m->progs[0][1]) {
		fprintf(stderr, "floortrace %s: tp_btf refused, loading raw_tp\n", m->name);
		flavour = 1;
		skel = load(m, 1, pid, cgroup);
	}
	if (!skel) {
		fprintf(stderr, "floortrace: loading failed\n");
		return 1;
	}
	if (attach(skel, m, flavour))
		goto out;
	if (m->ring) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), count, &records, NULL);
		if (!rb)
			goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floortrace: ready\n");
	while (!stop) {
		if (m->quiet)
			sleep(1);	/* cut short by the signal */
		else
			usleep(2000);
		if (rb)
			ring_buffer__consume(rb);
	}
	if (rb)
		ring_buffer__consume(rb);
	{
		int ncpu = libbpf_num_possible_cpus();
		unsigned long per[ncpu > 0 ? ncpu : 1];
		__u32 zero = 0;

		if (ncpu > 0 && !bpf_map__lookup_elem(skel->maps.lost, &zero, sizeof(zero), per,
						     sizeof(per), 0))
			for (int i = 0; i < ncpu; i++)
				lost += per[i];
	}
	if (!strcmp(m->name, "runqmin"))
		records = histogram_total(skel);
	fprintf(stderr, "floortrace %s: %lu records, %lu lost\n", m->name, records, lost);
	err = 0;
out:
	ring_buffer__free(rb);
	floortrace_bpf__destroy(skel);
	return err;
}
