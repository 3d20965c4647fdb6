// SPDX-License-Identifier: GPL-2.0
/*
 * switcher: context switches, migrations and threads on command, for `ksight sched`.
 *   switcher ROUNDS MIGRATIONS THREADS
 * With ROUNDS > 0, starts two threads, A and B, and pins itself and them to CPU 0; prints
 * "ready PID [TID_A TID_B]" and waits for a line on stdin. Then A and B pass a byte back
 * and forth through two pipes ROUNDS times (each pass blocks one and wakes the other), A
 * moves itself between CPU 1 and CPU 0 MIGRATIONS times, and tells the main thread, which
 * starts and joins THREADS threads that do nothing, prints "done" and waits for stdin to
 * close. A and B stay blocked on their pipes until the process exits.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long rounds, migrations;
static int ab[2], ba[2], go_a[2], a_done[2];
static pid_t tid_a, tid_b;
static pthread_barrier_t started;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("switcher: sched_setaffinity");
		exit(1);
	}
}

static void xread(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1) {
		perror("switcher: read");
		exit(1);
	}
}

static void xwrite(int fd)
{
	if (write(fd, "x", 1) != 1) {
		perror("switcher: write");
		exit(1);
	}
}

static void *thread_a(void *arg __attribute__((unused)))
{
	tid_a = syscall(SYS_gettid);
	pin(0);
	pthread_barrier_wait(&started);
	xread(go_a[0]);
	for (long i = 0; i < rounds; i++) {
		xwrite(ab[1]);
		xread(ba[0]);
	}
	for (long i = 0; i < migrations; i++)
		pin(i % 2 ? 0 : 1);
	xwrite(a_done[1]);
	xread(go_a[0]);		/* blocked until the process ends */
	return NULL;
}

static void *thread_b(void *arg __attribute__((unused)))
{
	tid_b = syscall(SYS_gettid);
	pin(0);
	pthread_barrier_wait(&started);
	for (long i = 0; i < rounds; i++) {
		xread(ab[0]);
		xwrite(ba[1]);
	}
	xread(ab[0]);		/* blocked until the process ends */
	return NULL;
}

static void *idle_thread(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	long threads;
	char line[64];

	if (argc != 4) {
		fprintf(stderr, "usage: switcher ROUNDS MIGRATIONS THREADS\n");
		return 2;
	}
	rounds = atol(argv[1]);
	migrations = atol(argv[2]);
	threads = atol(argv[3]);
	if (pipe(ab) || pipe(ba) || pipe(go_a) || pipe(a_done)) {
		perror("switcher: pipe");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (rounds > 0) {
		pin(0);
		pthread_barrier_init(&started, NULL, 3);
		if (pthread_create(&a, NULL, thread_a, NULL) ||
		    pthread_create(&b, NULL, thread_b, NULL)) {
			fprintf(stderr, "switcher: cannot start threads\n");
			return 1;
		}
		pthread_barrier_wait(&started);
		printf("ready %d %d %d\n", getpid(), tid_a, tid_b);
	} else {
		printf("ready %d\n", getpid());
	}
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (rounds > 0) {
		xwrite(go_a[1]);
		xread(a_done[0]);
	}
	for (long i = 0; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, idle_thread, NULL) || pthread_join(t, NULL)) {
			fprintf(stderr, "switcher: cannot start a thread\n");
			return 1;
		}
	}
	printf("done\n");
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}
