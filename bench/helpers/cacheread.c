// SPDX-License-Identifier: GPL-2.0
/*
 * cacheread: read one file, whole, PASSES times with read(2) of BS bytes (through the page
 * cache), then one line "pages N cpu_ns_per_page X wall_ns_per_page Y": the thread's CPU
 * time (user + system: what a page-cache tracer adds runs in the reader's context), which
 * other load on a shared machine disturbs much less than the wall time. Pin it with taskset.
 *   cacheread FILE [BS [PASSES]]      (default 16384 bytes, 4 passes)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long bs = argc > 2 ? atol(argv[2]) : 16384, passes = argc > 3 ? atol(argv[3]) : 4;
	double c0, w0, pages = 0;
	char *buf;
	int fd;

	if (argc < 2 || argc > 4 || bs <= 0 || passes <= 0 || !(buf = malloc(bs))) {
		fprintf(stderr, "usage: cacheread FILE [BS [PASSES]]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	c0 = ns(CLOCK_THREAD_CPUTIME_ID);
	w0 = ns(CLOCK_MONOTONIC);
	for (long p = 0; p < passes; p++) {
		ssize_t n;

		if (lseek(fd, 0, SEEK_SET))
			return 1;
		while ((n = read(fd, buf, bs)) > 0)
			pages += n / 4096.0;
		if (n < 0)
			return 1;
	}
	printf("pages %.0f cpu_ns_per_page %.1f wall_ns_per_page %.1f\n", pages,
	       (ns(CLOCK_THREAD_CPUTIME_ID) - c0) / pages, (ns(CLOCK_MONOTONIC) - w0) / pages);
	return 0;
}
