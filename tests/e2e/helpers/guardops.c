// SPDX-License-Identifier: GPL-2.0
/*
 * guardops: what `ksight guard` must see, one act per mode. Each prints "ready PID",
 * waits for a line on stdin, acts, and prints its result.
 *   guardops memfd BINARY ARG...   copies BINARY into a memfd named "guardtest" and
 *                                  fexecve()s it with argv BINARY-name ARG... (fileless)
 *   guardops ptrace PID            PTRACE_ATTACH to PID, waits for its stop, detaches;
 *                                  prints "attach RET"
 *   guardops setuid                setuid(0); prints "setuid RET UID EUID" (installed
 *                                  setuid-root by the test and run by another user)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int memfd_exec(char **argv)
{
	char buf[65536];
	ssize_t n;
	int in = open(argv[0], O_RDONLY), fd = memfd_create("guardtest", MFD_CLOEXEC);

	if (in < 0 || fd < 0) {
		perror("guardops: open/memfd_create");
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n) {
			perror("guardops: write");
			return 1;
		}
	close(in);
	argv[0] = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	fexecve(fd, argv, environ);
	perror("guardops: fexecve");
	return 1;
}

static int attach(pid_t pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	int st;

	if (r == 0) {
		waitpid(pid, &st, 0);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	printf("attach %ld\n", r);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	char line[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		goto usage;
	printf("ready %d\n", getpid());
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!strcmp(argv[1], "memfd") && argc >= 3)
		return memfd_exec(argv + 2);
	if (!strcmp(argv[1], "ptrace") && argc == 3)
		return attach(atoi(argv[2]));
	if (!strcmp(argv[1], "setuid")) {
		int r = setuid(0);

		printf("setuid %d %d %d\n", r ? -errno : 0, getuid(), geteuid());
		return 0;
	}
usage:
	fprintf(stderr, "usage: guardops memfd BINARY ARG... | ptrace PID | setuid\n");
	return 2;
}
