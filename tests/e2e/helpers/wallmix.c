// SPDX-License-Identifier: GPL-2.0
/*
 * wallmix: known on-CPU, off-CPU and run-queue time in known functions, for
 * `ksight profile --wall`.
 *   wallmix SPIN_MS SLEEP_MS QUEUE_MS
 * Prints "ready PID", waits for a line on stdin, then: the main thread spins in
 * ks_wall_spin() until its CPU time grew SPIN_MS, sleeps SLEEP_MS in ks_wall_sleep()
 * (nanosleep), and starts two threads ("ks_queue") that pin themselves to the main
 * thread's CPU and each spin in ks_wall_queue() until their CPU time grew QUEUE_MS: while
 * both are runnable on one CPU, one waits in the run queue. Each thread reads its own
 * /proc/thread-self/schedstat (run time, run-queue wait) when it starts and when its work
 * is done. Prints "done RUN_NS WAIT_NS": the sums of those changes over the three threads.
 * Built with frame pointers, -O1 (Makefile); ks_wall_sleep makes the system call itself,
 * so that the user stack's first frame is its own.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long spin_ms, sleep_ms, queue_ms;
static int cpu;
static pthread_barrier_t pinned;
static unsigned long long run_ns[3], wait_ns[3];

static void schedstat(unsigned long long *run, unsigned long long *wait)
{
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f || fscanf(f, "%llu %llu", run, wait) != 2)
		exit(1);
	fclose(f);
}

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin until this thread's CPU time grew @ms; the clock is read every few hundred
 * microseconds, so the samples fall in the loop. */
static __attribute__((noinline)) void spin(long ms)
{
	long long end = cpu_ns() + ms * 1000000LL;
	volatile unsigned long x = 0;

	do {
		for (int i = 0; i < 200000; i++)
			x += i;
	} while (cpu_ns() < end);
}

__attribute__((noinline)) void ks_wall_spin(long ms)
{
	spin(ms);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

__attribute__((noinline)) void ks_wall_queue(long ms)
{
	spin(ms);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) long ks_wall_sleep(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };
	long ret;

#if defined(__x86_64__)
	__asm__ volatile("syscall" : "=a"(ret) : "a"(SYS_nanosleep), "D"(&ts), "S"(0)
			 : "rcx", "r11", "memory");
#else
	ret = syscall(SYS_nanosleep, &ts, NULL);
#endif
	__asm__ volatile("" ::: "memory");
	return ret;
}

static void *queuer(void *arg)
{
	long i = (long)arg;
	unsigned long long r0, w0, r1, w1;
	cpu_set_t set;

	schedstat(&r0, &w0);
	pthread_setname_np(pthread_self(), "ks_queue");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		exit(1);
	pthread_barrier_wait(&pinned);
	ks_wall_queue(queue_ms);
	schedstat(&r1, &w1);
	run_ns[i] = r1 - r0;
	wait_ns[i] = w1 - w0;
	return arg;
}

int main(int argc, char **argv)
{
	unsigned long long r0, w0, r1, w1;
	pthread_t t[2];
	char line[16];

	if (argc != 4 || (spin_ms = atol(argv[1])) <= 0 || (sleep_ms = atol(argv[2])) <= 0 ||
	    (queue_ms = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: wallmix SPIN_MS SLEEP_MS QUEUE_MS\n");
		return 2;
	}
	pthread_barrier_init(&pinned, NULL, 2);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	schedstat(&r0, &w0);
	ks_wall_spin(spin_ms);
	ks_wall_sleep(sleep_ms);
	cpu = sched_getcpu();
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, queuer, (void *)(i + 1)))
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	schedstat(&r1, &w1);
	run_ns[0] = r1 - r0;
	wait_ns[0] = w1 - w0;
	printf("done %llu %llu\n", run_ns[0] + run_ns[1] + run_ns[2],
	       wait_ns[0] + wait_ns[1] + wait_ns[2]);
	return 0;
}
