// SPDX-License-Identifier: GPL-2.0
/*
 * dio: a known number of 4 KiB O_DIRECT reads and writes on a block device, for exact
 * block I/O counts.
 *   dio DEV READS WRITES
 * Opens DEV with O_DIRECT, prints "ready PID", waits for a line on stdin, makes READS
 * preads then WRITES pwrites of 4 KiB at distinct aligned offsets (one request each: no
 * page cache, no merging of synchronous calls), prints "done READS WRITES", then keeps the
 * device open until stdin has another line or ends, so closing it cannot add requests
 * while the test still counts.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BS 4096

int main(int argc, char **argv)
{
	char line[16];
	long reads, writes;
	void *buf;
	int fd;

	if (argc != 4)
		return 2;
	reads = atol(argv[2]);
	writes = atol(argv[3]);
	fd = open(argv[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || posix_memalign(&buf, BS, BS)) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, BS);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (long i = 0; i < reads; i++)
		if (pread(fd, buf, BS, i * BS) != BS) {
			perror("pread");
			return 1;
		}
	for (long i = 0; i < writes; i++)
		if (pwrite(fd, buf, BS, (reads + i) * BS) != BS) {
			perror("pwrite");
			return 1;
		}
	printf("done %ld %ld\n", reads, writes);
	fflush(stdout);
	fgets(line, sizeof(line), stdin);
	close(fd);
	free(buf);
	return 0;
}
