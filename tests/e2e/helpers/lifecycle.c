// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: threads and child processes on command, for the proc module's exact tests.
 *   lifecycle [-t THREADS] [-v | -k]
 * Prints "ready PID" and waits for a line on stdin. Then starts THREADS threads (default 3)
 * that each use 5 ms of CPU and prints "threads TID...", joins them, forks two children
 * that each use 10 ms of CPU before going on (with -v the first is started with vfork
 * instead and exits at once), and prints "children A B". After a second line on stdin, it
 * lets A exit with code 7, kills B with SIGKILL, reaps both and prints
 * "done A_STATUS B_STATUS" (the wait statuses), then exits 0 after a third line.
 * With -k the threads stay alive (blocked) after "threads TID...": the process waits to be
 * killed, so all its threads exit at once.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static pid_t tids[MAX_THREADS];
static int keep;		/* -k */
static int block[2];		/* -k: the threads wait on it forever */

static void burn(long ns)
{
	struct timespec t;
	long start;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	start = t.tv_sec * 1000000000L + t.tv_nsec;
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	while (t.tv_sec * 1000000000L + t.tv_nsec - start < ns);
}

static void *thread_main(void *arg)
{
	__atomic_store_n(&tids[(long)arg], syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	burn(5000000);
	if (keep) {
		char c;

		for (;;)
			if (read(block[0], &c, 1) < 0)
				pause();
	}
	return NULL;
}

static void wait_line(void)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

int main(int argc, char **argv)
{
	int opt, nthreads = 3, use_vfork = 0, go[2], up[2], status_a, status_b;
	pthread_t th[MAX_THREADS];
	pid_t a, b;
	char c;

	while ((opt = getopt(argc, argv, "t:vk")) != -1) {
		switch (opt) {
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'v':
			use_vfork = 1;
			break;
		case 'k':
			keep = 1;
			break;
		default:
			return 2;
		}
	}
	if (nthreads < 0 || nthreads > MAX_THREADS || pipe(go) || pipe(up) || pipe(block))
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	wait_line();

	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)i))
			return 1;
	if (keep) {
		/* every thread has written its tid once it is burning */
		for (int i = 0; i < nthreads; i++)
			while (!__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST))
				usleep(1000);
	} else {
		for (int i = 0; i < nthreads; i++)
			pthread_join(th[i], NULL);
	}
	printf("threads");
	for (int i = 0; i < nthreads; i++)
		printf(" %d", tids[i]);
	printf("\n");
	fflush(stdout);
	if (keep)
		for (;;)
			pause();

	if (use_vfork) {
		/* the child borrows the parent's memory until it exits: nothing but _exit */
		a = vfork();
		if (a == 0)
			_exit(7);
	} else {
		a = fork();
		if (a == 0) {
			burn(10000000);
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			_exit(7);
		}
	}
	b = fork();
	if (a < 0 || b < 0)
		return 1;
	if (b == 0) {
		burn(10000000);
		if (write(up[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	/* B has used its CPU time before anyone looks */
	if (read(up[0], &c, 1) != 1)
		return 1;
	printf("children %d %d\n", a, b);
	fflush(stdout);
	wait_line();

	if (write(go[1], "x", 1) != 1 || kill(b, SIGKILL))
		return 1;
	if (waitpid(a, &status_a, 0) != a || waitpid(b, &status_b, 0) != b)
		return 1;
	printf("done %d %d\n", status_a, status_b);
	fflush(stdout);
	wait_line();
	return 0;
}
