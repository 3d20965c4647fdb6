// SPDX-License-Identifier: GPL-2.0
/*
 * bioio: a known list of O_DIRECT reads and writes of known sizes on a block device, for
 * exact per-request block I/O checks (biotop, biosnoop).
 *   bioio DEV READS WRITES SIZE[,SIZE...]
 * Opens DEV with O_DIRECT, prints "ready PID", waits for a line on stdin, makes READS
 * preads then WRITES pwrites, the i-th of each SIZES[i % n] bytes (multiples of 4096,
 * at most 64 KiB: one request each), at distinct aligned offsets one after the other
 * (synchronous calls: no merging), prints "done READS WRITES RBYTES WBYTES", then keeps the
 * device open until stdin has another line or ends, so closing it adds no request while
 * the test still counts.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXBS (64 << 10)

int main(int argc, char **argv)
{
	long reads, writes, sizes[32], n = 0, off = 0, rb = 0, wb = 0;
	char line[16], *s, *tok;
	void *buf;
	int fd;

	if (argc != 5)
		return 2;
	reads = atol(argv[2]);
	writes = atol(argv[3]);
	for (s = argv[4]; (tok = strtok(s, ",")) && n < 32; s = NULL) {
		sizes[n] = atol(tok);
		if (sizes[n] <= 0 || sizes[n] % 4096 || sizes[n] > MAXBS)
			return 2;
		n++;
	}
	if (!n)
		return 2;
	fd = open(argv[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || posix_memalign(&buf, 4096, MAXBS)) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, MAXBS);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (long i = 0; i < reads; i++) {
		long bs = sizes[i % n];

		if (pread(fd, buf, bs, off) != bs) {
			perror("pread");
			return 1;
		}
		off += bs;
		rb += bs;
	}
	for (long i = 0; i < writes; i++) {
		long bs = sizes[i % n];

		if (pwrite(fd, buf, bs, off) != bs) {
			perror("pwrite");
			return 1;
		}
		off += bs;
		wb += bs;
	}
	printf("done %ld %ld %ld %ld\n", reads, writes, rb, wb);
	fflush(stdout);
	fgets(line, sizeof(line), stdin);
	close(fd);
	free(buf);
	return 0;
}
