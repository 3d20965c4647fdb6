// SPDX-License-Identifier: GPL-2.0
/*
 * utarget: a PIE process whose user-space functions the uprobe and USDT tests probe.
 *   utarget N
 * Prints "ready PID", waits for a line on stdin, then N times each: calls ks_target(i, 3i)
 * (its own, returns 2i + 1), kslib_fn(i) (libkstarget.so, returns 5i + 2), getpid()
 * (libc), and passes USDT probe ksight_test:tick(i, 7i), which fires only while a tracer
 * has its semaphore up. Prints "done TICKS" (how many ticks fired) and exits 0 at the end
 * of stdin.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

long kslib_fn(long i);

unsigned short ksight_test_tick_semaphore __attribute__((unused, section(".probes")));

__attribute__((noinline)) long ks_target(long i, long j)
{
	__asm__ volatile("" ::: "memory");
	return 2 * i + 1 + 0 * j;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : -1, ticks = 0, sum = 0;
	char line[16];

	if (n < 0) {
		fprintf(stderr, "usage: utarget N\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		ticks = 0;
		for (long i = 0; i < n; i++) {
			sum += ks_target(i, 3 * i);
			sum += kslib_fn(i);
			sum += getpid() > 0;
			if (ksight_test_tick_semaphore) {
				DTRACE_PROBE2(ksight_test, tick, i, 7 * i);
				ticks++;
			}
		}
		printf("done %ld %ld\n", ticks, sum);
		fflush(stdout);
	}
	return 0;
}
