// SPDX-License-Identifier: GPL-2.0
/*
 * getpid_loop: N getpid system calls in a tight loop, then one line
 * "calls N ns_per_call X" (wall time per call). The cheapest syscall there is, so what a
 * syscall tracer adds to every call stands out. Pin it with taskset.
 *   getpid_loop [N]      (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct timespec a, b;
	double ns;

	if (n <= 0 || argc > 2) {
		fprintf(stderr, "usage: getpid_loop [N]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	printf("calls %ld ns_per_call %.1f\n", n, ns / n);
	return 0;
}
