// SPDX-License-Identifier: GPL-2.0
/*
 * pmcload: known software-counter work on command, for `ksight pmc`.
 *   pmcload
 * Prints "ready PID" and then runs one command per line read from stdin, printing "done"
 * after each (and sleeping in the read between them):
 *   fault N   map N fresh anonymous pages and write one byte to each (N page faults)
 *   spin MS   run on the CPU for MS ms of this thread's CPU time
 *   sleep N   sleep 1 ms N times (N voluntary context switches)
 *   thread N  a thread that does "fault N" and "sleep N" and ends; joined, then
 *             "done MINFLT MAJFLT NVCSW NIVCSW": the thread's own counts (getrusage) just
 *             before it returned
 * Exits 0 at the end of stdin.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int fault(long n)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* no transparent huge pages: one fault per 4 KiB page */
	if (p == MAP_FAILED || madvise(p, n * page, MADV_NOHUGEPAGE))
		return -1;
	for (long i = 0; i < n; i++)
		((volatile char *)p)[i * page] = 1;
	return munmap(p, n * page);
}

static void snooze(long n)
{
	struct timespec ms = { 0, 1000000 };

	for (long i = 0; i < n; i++)
		nanosleep(&ms, NULL);
}

static void *worker(void *arg)
{
	static struct rusage ru;
	long n = (long)arg;

	if (fault(n))
		return NULL;
	snooze(n);
	getrusage(RUSAGE_THREAD, &ru);
	return &ru;
}

int main(void)
{
	char line[64], cmd[16];
	long n;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready %d\n", getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%15s %ld", cmd, &n) != 2 || n < 0) {
			fprintf(stderr, "pmcload: bad command %s", line);
			return 2;
		}
		if (!strcmp(cmd, "fault")) {
			if (fault(n))
				return 1;
		} else if (!strcmp(cmd, "spin")) {
			long long end = cpu_ns() + n * 1000000LL;

			while (cpu_ns() < end)
				;
		} else if (!strcmp(cmd, "sleep")) {
			snooze(n);
		} else if (!strcmp(cmd, "thread")) {
			struct rusage *ru = NULL;
			pthread_t t;

			if (pthread_create(&t, NULL, worker, (void *)n) || pthread_join(t, (void **)&ru) ||
			    !ru)
				return 1;
			printf("done %ld %ld %ld %ld\n", ru->ru_minflt, ru->ru_majflt, ru->ru_nvcsw,
			       ru->ru_nivcsw);
			continue;
		} else {
			fprintf(stderr, "pmcload: unknown command %s\n", cmd);
			return 2;
		}
		printf("done\n");
	}
	return 0;
}
