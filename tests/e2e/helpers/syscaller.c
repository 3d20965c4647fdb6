// SPDX-License-Identifier: GPL-2.0
/*
 * syscaller: a process that makes an exact number of system calls on command.
 *   syscaller [-c COMM] [-t THREADS] PATH NPPID NOPEN
 * Sets its name (-c), prints "ready PID", then for every line read on stdin makes, in each
 * of THREADS threads (default 1, at most 64) at once, NPPID getppid calls and NOPEN openat
 * calls on PATH (which must not exist: each fails with ENOENT), and prints
 * "done PPIDS FAILED" (totals of the round). Exits 0 at the end of stdin.
 * The calls go through syscall(2), so no libc wrapper can cache or substitute them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path;
static long nppid, nopen;

struct result {
	pthread_t tid;
	long ppids, failed;
};

static void *run(void *arg)
{
	struct result *r = arg;

	for (long i = 0; i < nppid; i++)
		r->ppids += syscall(SYS_getppid) > 0;
	for (long i = 0; i < nopen; i++)
		r->failed += syscall(SYS_openat, AT_FDCWD, path, O_RDONLY) < 0;
	return NULL;
}

int main(int argc, char **argv)
{
	struct result res[64];
	int opt, threads = 1;
	char line[16];

	while ((opt = getopt(argc, argv, "c:t:")) != -1) {
		switch (opt) {
		case 'c':
			prctl(PR_SET_NAME, optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 3 || threads < 1 || threads > 64)
		return 2;
	path = argv[optind];
	nppid = atol(argv[optind + 1]);
	nopen = atol(argv[optind + 2]);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		long ppids = 0, failed = 0;

		for (int i = 0; i < threads; i++) {
			res[i].ppids = res[i].failed = 0;
			if (threads == 1)
				run(&res[i]);
			else if (pthread_create(&res[i].tid, NULL, run, &res[i]))
				return 1;
		}
		for (int i = 0; i < threads; i++) {
			if (threads > 1)
				pthread_join(res[i].tid, NULL);
			ppids += res[i].ppids;
			failed += res[i].failed;
		}
		printf("done %ld %ld\n", ppids, failed);
		fflush(stdout);
	}
	return 0;
}
