// SPDX-License-Identifier: GPL-2.0
/*
 * oploop: the load of the benchmarks. Runs one system call pattern in a tight loop and
 * prints what each one cost in wall time.
 *
 *   oploop [-n COUNT | -d SECS] [-t THREADS] [-r RATE] [-w] OP [PATH]
 *
 * OP is "open" (open(PATH, O_RDONLY) then close: one openat and one close, PATH must
 * exist), "openw" (the same with O_WRONLY: what a tracer of writes sees; PATH must
 * exist), "pwrite" (pwrite of one byte at offset 0 of PATH, opened O_WRONLY once:
 * what a tracer of writes to an fd costs), "mkdir" (mkdir then rmdir of PATH, which must
 * not exist; one thread) or "getppid" (a syscall no ksight module
 * watches: what a tracer costs everyone else). -n COUNT operations per thread (default
 * 100000), or -d SECS of running instead;
 * -t THREADS threads (default 1, at most 64); -r RATE at most RATE operations per second
 * per thread (a light load), 0 = flat out; -w prints "ready PID" and waits for SIGUSR1
 * before starting, so a tracer can be given the pid first.
 *
 * Pin it with taskset: the figure is then one CPU's cost, not the scheduler's mood.
 * Prints one line: "ops N secs S ns_per_op X ops_per_s Y", where ops counts every
 * thread's operations, ns_per_op is one thread's wall time per operation and ops_per_s
 * the total rate. Exits 1 if an operation fails, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS 64
#define CHECK_EVERY 1024	/* operations between clock reads in -d mode */

static const char *path;
static int is_open, is_write, is_mkdir, pwrite_fd = -1;
static long count = 100000;
static double secs, rate;
static pthread_barrier_t start;

struct worker {
	pthread_t tid;
	long ops;
	int err;		/* errno of a failed operation, 0 if none */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one_op(void)
{
	int fd;

	if (pwrite_fd >= 0)
		return pwrite(pwrite_fd, "x", 1, 0) == 1 ? 0 : errno;
	if (is_mkdir)
		return mkdir(path, 0755) || rmdir(path) ? errno : 0;
	if (!is_open) {
		getppid();
		return 0;
	}
	fd = open(path, is_write ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* With -r: sleep until operation @i is due. */
static void pace(double t0, long i)
{
	double due = t0 + i / rate, t = now();
	struct timespec ts;

	if (due <= t)
		return;
	ts.tv_sec = (time_t)(due - t);
	ts.tv_nsec = (long)((due - t - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double t0, end;

	pthread_barrier_wait(&start);
	t0 = now();
	end = t0 + secs;
	for (long i = 0; secs ? 1 : i < count; i++) {
		if (secs && i % CHECK_EVERY == 0 && now() >= end)
			break;
		if (rate)
			pace(t0, i);
		w->err = one_op();
		if (w->err)
			break;
		w->ops++;
	}
	return NULL;
}

static int usage(const char *msg)
{
	fprintf(stderr, "oploop: %s\nusage: oploop [-n COUNT | -d SECS] [-t THREADS] [-r RATE] "
		"[-w] open|openw|pwrite PATH | getppid\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS] = {};
	int opt, threads = 1, wait_sig = 0, sig, err;
	long ops = 0;
	double t0, t1;
	sigset_t set;

	while ((opt = getopt(argc, argv, "n:d:t:r:w")) != -1) {
		switch (opt) {
		case 'n':
			count = atol(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'w':
			wait_sig = 1;
			break;
		default:
			return usage("unknown option");
		}
	}
	if (optind >= argc)
		return usage("no operation");
	is_write = !strcmp(argv[optind], "openw");
	is_open = is_write || !strcmp(argv[optind], "open");
	if (!strcmp(argv[optind], "pwrite")) {
		if (optind + 1 >= argc)
			return usage("pwrite needs a PATH");
		pwrite_fd = open(argv[optind + 1], O_WRONLY);
		if (pwrite_fd < 0)
			return usage("cannot open PATH for writing");
	} else if (!strcmp(argv[optind], "mkdir")) {
		is_mkdir = 1;
		if (!(path = argv[optind + 1]) || threads != 1)
			return usage("mkdir needs a PATH and one thread");
	} else if (!is_open && strcmp(argv[optind], "getppid")) {
		return usage("operation must be open, openw, pwrite, mkdir or getppid");
	}
	if (is_open && !(path = argv[optind + 1]))
		return usage("open needs a PATH");
	if (count <= 0 || secs < 0 || rate < 0 || threads < 1 || threads > MAX_THREADS)
		return usage("COUNT, SECS, RATE or THREADS out of range");
	if (is_open && (err = one_op())) {
		fprintf(stderr, "oploop: open %s: %s\n", path, strerror(err));
		return 1;
	}

	if (wait_sig) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", getpid());
		fflush(stdout);
		sigwait(&set, &sig);
	}
	pthread_barrier_init(&start, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&w[i].tid, NULL, run, &w[i])) {
			fprintf(stderr, "oploop: pthread_create failed\n");
			return 1;
		}
	}
	t0 = now();
	pthread_barrier_wait(&start);
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now();
	for (int i = 0; i < threads; i++) {
		if (w[i].err) {
			fprintf(stderr, "oploop: %s: %s\n", argv[optind], strerror(w[i].err));
			return 1;
		}
		ops += w[i].ops;
	}
	printf("ops %ld secs %.6f ns_per_op %.1f ops_per_s %.0f\n", ops, t1 - t0,
	       (t1 - t0) * 1e9 * threads / ops, ops / (t1 - t0));
	return 0;
}
