// SPDX-License-Identifier: GPL-2.0
/*
 * floortrace: a reference tracer with nothing but the essentials (floortrace.bpf.c), so a
 * benchmark can show, in the same run as ksight and its peers, what any tracer built on
 * the syscall tracepoints costs on this kernel. Streams the read/write family of one
 * process or cgroup; a reader drains the ring every 2 ms and discards the records.
 *   floortrace attach|stream|latency|sums -p PID | -c CGROUP_DIR
 * (sums counts the whole machine's syscalls whatever the filter: floortrace.bpf.c.)
 * Prints "floortrace: ready" on stderr once attached, and at SIGINT/SIGTERM
 * "floortrace MODE: N records, M lost". Exit 2 on bad arguments, 1 if loading failed.
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
		"-p PID | -c CGROUP_DIR\n", why);
	return 2;
}

static int attach(struct bpf_program *prog)
{
	if (bpf_program__attach(prog))
		return 0;
	fprintf(stderr, "floortrace: cannot attach %s: %s\n", bpf_program__name(prog),
		strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	struct floortrace_bpf *skel;
	struct ring_buffer *rb = NULL;
	unsigned long records = 0, lost = 0;
	const char *mode = argc > 1 ? argv[1] : "";
	bool stream = !strcmp(mode, "stream"), latency = !strcmp(mode, "latency");
	bool sums = !strcmp(mode, "sums");
	struct stat st;
	long pid = 0;
	int err = 1;

	if (argc != 4 || (!stream && !latency && !sums && strcmp(mode, "attach")))
		return usage("expected a mode and one filter");
	if (!strcmp(argv[2], "-p")) {
		pid = strtol(argv[3], NULL, 10);
		if (pid <= 0 || kill(pid, 0))
			return usage("no such process");
	} else if (strcmp(argv[2], "-c") || stat(argv[3], &st) || !S_ISDIR(st.st_mode)) {
		return usage("-c needs a cgroup v2 directory");
	}
	skel = floortrace_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->targ_tgid = pid;
	skel->rodata->targ_cgroup = pid ? 0 : st.st_ino;	/* a cgroup v2 id is its inode */
	skel->rodata->timed = latency;
	for (size_t i = 0; i < sizeof(rw_family) / sizeof(rw_family[0]); i++)
		skel->rodata->calls[rw_family[i]] = 1;
	bpf_program__set_autoload(skel->progs.floor_attach, !stream && !latency && !sums);
	bpf_program__set_autoload(skel->progs.floor_sums, sums);
	bpf_program__set_autoload(skel->progs.floor_exit, stream || latency);
	bpf_program__set_autoload(skel->progs.floor_enter, latency);
	if (floortrace_bpf__load(skel)) {
		fprintf(stderr, "floortrace: loading failed\n");
		goto out;
	}
	if (stream || latency) {
		if (attach(skel->progs.floor_exit) ||
		    (latency && attach(skel->progs.floor_enter)))
			goto out;
		rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), count, &records, NULL);
		if (!rb)
			goto out;
	} else if (attach(sums ? skel->progs.floor_sums : skel->progs.floor_attach)) {
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floortrace: ready\n");
	while (!stop) {
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
	fprintf(stderr, "floortrace %s: %lu records, %lu lost\n", mode, records, lost);
	err = 0;
out:
	ring_buffer__free(rb);
	floortrace_bpf__destroy(skel);
	return err;
}
