// SPDX-License-Identifier: GPL-2.0
/*
 * filecycle: the load of bench/files_cost.sh. Runs file lifecycles in a tight loop and
 * prints what each one cost in wall time.
 *
 *   filecycle [-n COUNT] [-b BYTES] [-w WRITES] DIR    COUNT cycles in DIR: create a file
 *                                  (O_CREAT|O_EXCL), write BYTES in WRITES writes, close,
 *                                  unlink (defaults 20000, 4096, 4)
 *   filecycle [-n COUNT] getppid   COUNT getppid calls: a syscall the files module does not
 *                                  watch, what a tracer costs everyone else
 *
 * Pin it with taskset. Prints one line: "ops N secs S ns_per_op X". Exits 1 if a call
 * fails, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	long n = 20000, bytes = 4096, writes = 4;
	char path[4096];
	double t0, t;
	int opt;

	while ((opt = getopt(argc, argv, "n:b:w:")) != -1) {
		switch (opt) {
		case 'n':
			n = atol(optarg);
			break;
		case 'b':
			bytes = atol(optarg);
			break;
		case 'w':
			writes = atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || n < 1 || writes < 1 || bytes < writes ||
	    bytes / writes > (long)sizeof(buf))
		return 2;
	memset(buf, 'x', sizeof(buf));
	t0 = now();
	if (!strcmp(argv[optind], "getppid")) {
		for (long i = 0; i < n; i++)
			getppid();
	} else {
		snprintf(path, sizeof(path), "%s/f", argv[optind]);
		for (long i = 0; i < n; i++) {
			int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

			if (fd < 0) {
				perror(path);
				return 1;
			}
			for (long w = 0; w < writes; w++) {
				long len = bytes / writes;

				if (write(fd, buf, len) != len) {
					perror("write");
					return 1;
				}
			}
			if (close(fd) || unlink(path)) {
				perror("close/unlink");
				return 1;
			}
		}
	}
	t = now() - t0;
	printf("ops %ld secs %.3f ns_per_op %.0f\n", n, t, t * 1e9 / n);
	return 0;
}
