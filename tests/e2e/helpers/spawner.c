// SPDX-License-Identifier: GPL-2.0
/*
 * spawner: children that exec a program, some moved to another cgroup first, for the
 * service map's spawn edges (test_map_spawn.py).
 *   spawner PROCS NMOVE NSTAY PROG [-- SELF ARG...]
 * Prints "ready PID", waits for a line on stdin, then forks NMOVE children that each move
 * themselves into the cgroup whose cgroup.procs file is PROCS and exec PROG (no argument),
 * then NSTAY children that exec it where they are; each is waited for and must exit 0.
 * Prints "moved PID..." and "stayed PID..." (the children, in order), then "done NMOVE
 * NSTAY". With "-- SELF ARG..." it then execs SELF ARG... itself (in place: the same
 * process, its stdin and stdout kept).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that execs @argv after moving into @procs (NULL: where it is); its pid, or -1. */
static pid_t child(const char *procs, char **argv)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (procs) {
		int fd = open(procs, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(120);
		close(fd);
	}
	execv(argv[0], argv);
	_exit(121);
}

/* @n children; their pids printed after @what. 0, or 1 when one failed. */
static int children(const char *what, int n, const char *procs, char **argv)
{
	int status;

	printf("%s", what);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		pid_t pid = child(procs, argv);

		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "spawner: child %d failed (status %#x)\n", i, status);
			return 1;
		}
		printf(" %d", pid);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	char *prog[] = { NULL, NULL };
	int nmove, nstay;
	char line[16];

	if (argc < 5 || (argc > 5 && (strcmp(argv[5], "--") || argc < 7)))
		return 2;
	nmove = atoi(argv[2]);
	nstay = atoi(argv[3]);
	prog[0] = argv[4];
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (children("moved", nmove, argv[1], prog) || children("stayed", nstay, NULL, prog))
		return 1;
	printf("done %d %d\n", nmove, nstay);
	fflush(stdout);
	if (argc > 5) {
		execv(argv[6], argv + 6);
		fprintf(stderr, "spawner: exec %s: %s\n", argv[6], strerror(errno));
		return 1;
	}
	return 0;
}
