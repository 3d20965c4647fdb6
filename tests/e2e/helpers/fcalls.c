// SPDX-License-Identifier: GPL-2.0
/*
 * fcalls: known numbers of function calls, syscalls and forks, for funccount and tplist.
 *   fcalls N
 * Prints "ready PID", waits for a line on stdin, then calls fc_one() N times, fc_two() 2N
 * times, fc_three() 3N times, getppid() N times and forks N children that exit at once
 * (each waited for); prints "done" and waits for the next line; exits 0 at the end of
 * stdin. Single-threaded, so per-thread counters of its pid see all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long sink;

#define FC_FUNC(name, k)                                     \
	__attribute__((noinline, used)) void name(long i)    \
	{                                                    \
		__asm__ volatile("" ::: "memory");           \
		sink += i * k;                               \
	}

FC_FUNC(fc_one, 1)
FC_FUNC(fc_two, 2)
FC_FUNC(fc_three, 3)

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : -1;
	char line[16];

	if (n < 0) {
		fprintf(stderr, "usage: fcalls N\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		for (long i = 0; i < n; i++)
			fc_one(i);
		for (long i = 0; i < 2 * n; i++)
			fc_two(i);
		for (long i = 0; i < 3 * n; i++)
			fc_three(i);
		/* the syscall itself: glibc's getppid() is never cached, but be plain */
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		for (long i = 0; i < n; i++) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c < 0 || waitpid(c, NULL, 0) != c)
				return 1;
		}
		printf("done\n");
		fflush(stdout);
	}
	return 0;
}
