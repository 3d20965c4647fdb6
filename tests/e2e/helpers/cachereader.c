// SPDX-License-Identifier: GPL-2.0
/*
 * cachereader: a process that reads one file, whole, each time it is told to.
 *   cachereader PATH
 * Prints "ready PID", then for each line on stdin reads PATH from offset 0 to its end with
 * read(2) of 1 MiB (buffered, through the page cache) and prints "done BYTES". Exits 0 at
 * the end of stdin.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK (1 << 20)

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	char line[16];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: cachereader PATH\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		long long total = 0;
		ssize_t n;

		if (lseek(fd, 0, SEEK_SET))
			return 1;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		if (n < 0)
			return 1;
		printf("done %lld\n", total);
		fflush(stdout);
	}
	return 0;
}
