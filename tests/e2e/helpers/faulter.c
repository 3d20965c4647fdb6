// SPDX-License-Identifier: GPL-2.0
/*
 * faulter: a process that takes an exact number of page faults at known addresses.
 *   faulter N
 * Prints "ready PID", waits for a line on stdin, maps N fresh anonymous pages, writes one
 * byte to each (one fault per page), and prints "done START END" (the pages' address
 * range, in decimal). Exits 0 at the end of stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0, page = sysconf(_SC_PAGESIZE);
	char line[16];

	if (n <= 0) {
		fprintf(stderr, "usage: faulter N\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		/* no transparent huge pages: one fault per 4 KiB page */
		char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED || madvise(p, n * page, MADV_NOHUGEPAGE))
			return 1;
		for (long i = 0; i < n; i++)
			((volatile char *)p)[i * page] = 1;
		printf("done %lu %lu\n", (unsigned long)p, (unsigned long)(p + n * page));
		fflush(stdout);
		munmap(p, n * page);
	}
	return 0;
}
