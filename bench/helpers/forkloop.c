// SPDX-License-Identifier: GPL-2.0
/*
 * forkloop: the load of bench/proc_cost.sh. Creates and ends tasks in a tight loop and
 * prints what one cycle cost in wall time.
 *
 *   forkloop [-n COUNT] fork|thread
 *
 * "fork": fork(), the child _exit(0)s at once, the parent waitpid()s it (one fork, one
 * process exit). "thread": pthread_create() of a thread that returns at once, then
 * pthread_join() (one thread creation, one thread exit). -n COUNT cycles (default 10000).
 * Pin it with taskset: the child or thread then shares the CPU, as on a busy machine.
 * Prints one line: "ops N secs S ns_per_op X ops_per_s Y". Exits 1 if a cycle fails, 2 on
 * bad usage.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *nothing(void *arg)
{
	return arg;
}

static int one_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

static int one_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, nothing, NULL))
		return -1;
	return pthread_join(t, NULL) ? -1 : 0;
}

int main(int argc, char **argv)
{
	long count = 10000;
	int (*op)(void);
	double t0, t;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (count = atol(optarg)) <= 0) {
			fprintf(stderr, "usage: forkloop [-n COUNT] fork|thread\n");
			return 2;
		}
	}
	if (optind + 1 != argc ||
	    (strcmp(argv[optind], "fork") && strcmp(argv[optind], "thread"))) {
		fprintf(stderr, "usage: forkloop [-n COUNT] fork|thread\n");
		return 2;
	}
	op = strcmp(argv[optind], "fork") ? one_thread : one_fork;
	t0 = now();
	for (long i = 0; i < count; i++) {
		if (op()) {
			perror("forkloop");
			return 1;
		}
	}
	t = now() - t0;
	printf("ops %ld secs %.6f ns_per_op %.1f ops_per_s %.1f\n", count, t, t * 1e9 / count,
	       count / t);
	return 0;
}
