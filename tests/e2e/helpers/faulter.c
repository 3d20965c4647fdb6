// SPDX-License-Identifier: GPL-2.0
/*
 * faulter: a process that takes an exact number of page faults at known addresses.
 *   faulter N [BRK]
 * Prints "ready PID", waits for a line on stdin, maps N fresh anonymous pages, writes one
 * byte to each (one fault per page), and prints "done START END BREAK" (the pages' address
 * range and the program break, in decimal), then unmaps them. With BRK, each line also
 * moves the program break up by BRK bytes first (sbrk), touching nothing. Exits 0 at the
 * end of stdin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc >= 2 ? atol(argv[1]) : 0, page = sysconf(_SC_PAGESIZE);
	long brk_step = argc == 3 ? atol(argv[2]) : 0;
	char line[16];

	if (n <= 0 || argc > 3 || brk_step < 0) {
		fprintf(stderr, "usage: faulter N [BRK]\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char *p;

		if (brk_step && sbrk(brk_step) == (void *)-1)
			return 1;
		/* no transparent huge pages: one fault per 4 KiB page */
		p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED || madvise(p, n * page, MADV_NOHUGEPAGE))
			return 1;
		for (long i = 0; i < n; i++)
			((volatile char *)p)[i * page] = 1;
		printf("done %lu %lu %lu\n", (unsigned long)p, (unsigned long)(p + n * page),
		       (unsigned long)(uintptr_t)sbrk(0));
		fflush(stdout);
		munmap(p, n * page);
	}
	return 0;
}
