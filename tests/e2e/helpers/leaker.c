// SPDX-License-Identifier: GPL-2.0
/*
 * leaker: a process whose outstanding allocations are known exactly, for mem --leaks.
 *   leaker N SIZE
 * Prints "ready PID", waits for a line on stdin, then: leak_here() mallocs N blocks of SIZE
 * bytes and keeps them; free_here() mallocs N more and frees them all; leak_calloc()
 * callocs N/10 blocks of 4 x SIZE/4 (through quarter_calloc(), inlined); leak_realloc() mallocs N/10 blocks of SIZE and
 * reallocs each to 2 x SIZE; leak_memalign() gets N/10 blocks of SIZE from posix_memalign.
 * Prints "done" with each function's address and waits for the end of stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *kept[5][100000];

__attribute__((noinline)) static void leak_here(long n, long size)
{
	for (long i = 0; i < n; i++)
		kept[0][i] = malloc(size);
}

__attribute__((noinline)) static void free_here(long n, long size)
{
	for (long i = 0; i < n; i++)
		kept[1][i] = malloc(size);
	for (long i = 0; i < n; i++)
		free(kept[1][i]);
}

/* always inlined into leak_calloc: only DWARF shows it (mem --leaks --src) */
static inline __attribute__((always_inline)) void *quarter_calloc(long size)
{
	return calloc(4, size / 4);
}

__attribute__((noinline)) static void leak_calloc(long n, long size)
{
	for (long i = 0; i < n; i++)
		kept[2][i] = quarter_calloc(size);
}

__attribute__((noinline)) static void leak_realloc(long n, long size)
{
	for (long i = 0; i < n; i++)
		kept[3][i] = realloc(malloc(size), 2 * size);
}

__attribute__((noinline)) static void leak_memalign(long n, long size)
{
	for (long i = 0; i < n; i++)
		if (posix_memalign(&kept[4][i], 64, size))
			exit(1);
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? atol(argv[1]) : 0, size = argc == 3 ? atol(argv[2]) : 0;
	char line[16];

	if (n <= 0 || n > 100000 || size < 4) {
		fprintf(stderr, "usage: leaker N SIZE (N <= 100000, SIZE >= 4)\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	leak_here(n, size);
	free_here(n, size);
	leak_calloc(n / 10, size);
	leak_realloc(n / 10, size);
	leak_memalign(n / 10, size);
	printf("done %p %p %p %p %p\n", (void *)leak_here, (void *)free_here, (void *)leak_calloc,
	       (void *)leak_realloc, (void *)leak_memalign);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}
