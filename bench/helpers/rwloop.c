// SPDX-License-Identifier: GPL-2.0
/*
 * rwloop: a tight loop of one cheap syscall, for the rw benchmarks.
 *   rwloop [-t THREADS] [-c CPU] [-n CALLS | -d SECS] [-r REPS] [-w] zero|pipe|getppid
 * zero: 1-byte read() of /dev/zero; pipe: a 1-byte write() then read() of a pipe (both
 * count as calls); getppid.
 * Prints "ready PID", waits for a line on stdin (-w: starts at once), runs, prints
 * "calls N ns_per_call X secs S" (ns per call of one thread, averaged over threads).
 * -c pins thread i to CPU (CPU + i) % ncpu. -r runs the whole thing REPS times (one thread)
 * and reports the fastest run's ns per call (the one least disturbed by other load).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { ZERO, PIPE, GETPPID };

static enum mode mode;
static long n_calls;
static double secs;
static int pin = -1;
static volatile int stop;

struct worker {
	pthread_t t;
	int idx;
	long calls;
	double ns;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int fd = -1, p[2] = { -1, -1 };
	char c = 0;
	double t0, t1;
	long i = 0;

	if (pin >= 0) {
		cpu_set_t set;
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&set);
		CPU_SET((pin + w->idx) % ncpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (mode == ZERO)
		fd = open("/dev/zero", O_RDONLY);
	if (mode == PIPE && pipe(p))
		return NULL;
	t0 = now();
	for (;;) {
		if (n_calls ? i >= n_calls : (i & 1023) == 0 && (stop || now() - t0 >= secs))
			break;
		switch (mode) {
		case ZERO:
			if (read(fd, &c, 1) != 1)
				abort();
			break;
		case PIPE:
			if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
				abort();
			break;
		case GETPPID:
			syscall(SYS_getppid);
			break;
		}
		i++;
	}
	t1 = now();
	w->calls = mode == PIPE ? 2 * i : i;
	w->ns = (t1 - t0) * 1e9 / (w->calls ? w->calls : 1);
	return NULL;
}

int main(int argc, char **argv)
{
	int opt, threads = 1, wait = 1, reps = 1;
	struct worker ws[64] = {};
	long total = 0;
	double ns = 0, t0;
	char line[16];

	while ((opt = getopt(argc, argv, "t:c:n:d:r:w")) != -1) {
		switch (opt) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'c':
			pin = atoi(optarg);
			break;
		case 'n':
			n_calls = atol(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'w':
			wait = 0;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || threads < 1 || threads > 64 || (!n_calls && secs <= 0) ||
	    reps < 1)
		return 2;
	if (!strcmp(argv[optind], "zero"))
		mode = ZERO;
	else if (!strcmp(argv[optind], "pipe"))
		mode = PIPE;
	else if (!strcmp(argv[optind], "getppid"))
		mode = GETPPID;
	else
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (wait && !fgets(line, sizeof(line), stdin))
		return 1;
	t0 = now();
	if (threads == 1) {
		for (int r = 0; r < reps; r++) {
			run(&ws[0]);
			total += ws[0].calls;
			if (!r || ws[0].ns < ns)
				ns = ws[0].ns;
		}
	} else {
		for (int i = 0; i < threads; i++) {
			ws[i].idx = i;
			pthread_create(&ws[i].t, NULL, run, &ws[i]);
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(ws[i].t, NULL);
			total += ws[i].calls;
			ns += ws[i].ns / threads;
		}
	}
	printf("calls %ld ns_per_call %.1f secs %.3f\n", total, ns, now() - t0);
	return 0;
}
