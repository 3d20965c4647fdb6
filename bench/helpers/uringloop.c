// SPDX-License-Identifier: GPL-2.0
/*
 * uringloop: io_uring requests as fast as one thread makes them, for bench/uring_cost.sh.
 *   uringloop [-b BATCH] [-r REPS] N
 * Prints "ready PID", waits for a line on stdin, then REPS times: N 1-byte reads of
 * /dev/zero through one io_uring, BATCH per io_uring_enter (default 32), each completion
 * checked. Prints "ns_per_op X" for the fastest repetition (the one least disturbed).
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	int opt, batch = 32, reps = 1, fd;
	static char buf[64][1];
	struct io_uring ring;
	double best = 0;
	char line[16];
	long n;

	while ((opt = getopt(argc, argv, "b:r:")) != -1) {
		if (opt == 'b')
			batch = atoi(optarg);
		else if (opt == 'r')
			reps = atoi(optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || batch < 1 || batch > 64)
		return 2;
	n = atol(argv[optind]);
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0 || io_uring_queue_init(64, &ring, 0))
		return 1;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int r = 0; r < reps; r++) {
		double t0 = now(), ns;

		for (long done = 0; done < n;) {
			int k = n - done < batch ? n - done : batch;
			struct io_uring_cqe *cqe;

			for (int i = 0; i < k; i++)
				io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf[i], 1, 0);
			if (io_uring_submit_and_wait(&ring, k) != k)
				return 1;
			for (int i = 0; i < k; i++) {
				if (io_uring_wait_cqe(&ring, &cqe) || cqe->res != 1)
					return 1;
				io_uring_cqe_seen(&ring, cqe);
			}
			done += k;
		}
		ns = (now() - t0) / n;
		if (!best || ns < best)
			best = ns;
	}
	printf("ns_per_op %.1f\n", best);
	return 0;
}
