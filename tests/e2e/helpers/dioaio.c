// SPDX-License-Identifier: GPL-2.0
/*
 * dioaio: a known number of 4 KiB O_DIRECT reads and writes on a block device, submitted
 * in batches by one io_submit each (Linux AIO, raw system calls). io_submit plugs a batch:
 * when the queue has fewer requests than the batch (a small nr_requests), the submitter
 * sleeps for one, the plug is flushed from the scheduler, and the queue is run
 * asynchronously: a kworker of kblockd issues the requests the helper made.
 *   dioaio DEV BATCHES READS WRITES FIRST
 * Opens DEV with O_DIRECT, prints "ready PID", waits for a line on stdin, then BATCHES
 * times submits READS reads and WRITES writes together and waits for all of them; the
 * i-th request of the whole run at 4 KiB block FIRST + 2 * i (every other block: no two
 * requests adjoin, none merges). Prints "done READS*BATCHES WRITES*BATCHES", then keeps
 * the device open until stdin has another line or ends, so closing it adds no request
 * while the test still counts.
 */
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BS 4096
#define MAXB 256

int main(int argc, char **argv)
{
	static struct iocb cbs[MAXB];
	static struct iocb *ptrs[MAXB];
	static struct io_event evs[MAXB];
	long batches, reads, writes, first, n, blk;
	aio_context_t ctx = 0;
	char line[16], *buf;
	int fd;

	if (argc != 6)
		return 2;
	batches = atol(argv[2]);
	reads = atol(argv[3]);
	writes = atol(argv[4]);
	first = atol(argv[5]);
	n = reads + writes;
	if (batches < 1 || reads < 0 || writes < 0 || n < 1 || n > MAXB || first < 0)
		return 2;
	fd = open(argv[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || posix_memalign((void **)&buf, BS, (size_t)n * BS)) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, (size_t)n * BS);
	if (syscall(SYS_io_setup, n, &ctx)) {
		perror("io_setup");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	blk = first;
	for (long b = 0; b < batches; b++) {
		for (long i = 0; i < n; i++) {
			memset(&cbs[i], 0, sizeof(cbs[i]));
			cbs[i].aio_fildes = fd;
			cbs[i].aio_lio_opcode = i < reads ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
			cbs[i].aio_buf = (uint64_t)(uintptr_t)(buf + i * BS);
			cbs[i].aio_nbytes = BS;
			cbs[i].aio_offset = blk * BS;
			blk += 2;
			ptrs[i] = &cbs[i];
		}
		if (syscall(SYS_io_submit, ctx, n, ptrs) != n) {
			perror("io_submit");
			return 1;
		}
		for (long got = 0; got < n;) {
			long r = syscall(SYS_io_getevents, ctx, 1, n - got, evs, NULL);

			if (r <= 0) {
				perror("io_getevents");
				return 1;
			}
			for (long i = 0; i < r; i++)
				if (evs[i].res != BS) {
					fprintf(stderr, "aio: %lld\n", (long long)evs[i].res);
					return 1;
				}
			got += r;
		}
	}
	printf("done %ld %ld\n", reads * batches, writes * batches);
	fflush(stdout);
	fgets(line, sizeof(line), stdin);
	syscall(SYS_io_destroy, ctx);
	close(fd);
	free(buf);
	return 0;
}
