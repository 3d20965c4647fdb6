// SPDX-License-Identifier: GPL-2.0
/*
 * napper: a CPU-0 neighbour pair for `ksight runqlat --preemptor`.
 *   napper spin               pinned to CPU 0, prints "ready PID", spins until killed
 *   napper nap ROUNDS USEC    pinned to CPU 0, prints "ready PID", waits for a line on
 *                             stdin, sleeps USEC microseconds ROUNDS times (each sleep
 *                             ends in a wakeup and a wait on CPU 0's run queue), prints
 *                             "done" and waits for stdin to close
 * One thread each, so /proc/PID/schedstat is the thread's. Each starts a session of its
 * own, so that with autogroups the test can set its autogroup's nice without touching
 * the caller's.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void pin0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("napper: sched_setaffinity");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char line[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	setsid();
	if (argc == 2 && !strcmp(argv[1], "spin")) {
		volatile unsigned long n = 0;

		pin0();
		printf("ready %d\n", getpid());
		for (;;)
			n++;
	}
	if (argc == 4 && !strcmp(argv[1], "nap")) {
		long rounds = atol(argv[2]), usec = atol(argv[3]);
		struct timespec ts = { usec / 1000000, usec % 1000000 * 1000 };

		pin0();
		printf("ready %d\n", getpid());
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		for (long i = 0; i < rounds; i++)
			nanosleep(&ts, NULL);
		printf("done\n");
		while (fgets(line, sizeof(line), stdin))
			;
		return 0;
	}
	fprintf(stderr, "usage: napper spin | napper nap ROUNDS USEC\n");
	return 2;
}
