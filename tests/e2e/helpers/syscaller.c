// SPDX-License-Identifier: GPL-2.0
/*
 * syscaller: a process that makes an exact number of system calls on command.
 *   syscaller [-c COMM] PATH NPPID NOPEN
 * Sets its name (-c), prints "ready PID", then for every line read on stdin makes NPPID
 * getppid calls and NOPEN openat calls on PATH (which must not exist: each fails with
 * ENOENT), and prints "done PPIDS FAILED". Exits 0 at the end of stdin.
 * The calls go through syscall(2), so no libc wrapper can cache or substitute them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long nppid, nopen;
	char line[16];
	int opt;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c')
			return 2;
		prctl(PR_SET_NAME, optarg);
	}
	if (argc - optind != 3)
		return 2;
	nppid = atol(argv[optind + 1]);
	nopen = atol(argv[optind + 2]);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		long ppids = 0, failed = 0;

		for (long i = 0; i < nppid; i++)
			ppids += syscall(SYS_getppid) > 0;
		for (long i = 0; i < nopen; i++)
			failed += syscall(SYS_openat, AT_FDCWD, argv[optind], O_RDONLY) < 0;
		printf("done %ld %ld\n", ppids, failed);
		fflush(stdout);
	}
	return 0;
}
