// SPDX-License-Identifier: GPL-2.0
/*
 * chain: a chain of processes, each forked and exec'd by the one before, for exec tests.
 *   chain DEPTH
 * Prints "ready PID", waits for a line on stdin, then forks a child that execs this same
 * program as "chain -l DEPTH-1 'level DEPTH-1 has spaces'"; that one does the same down to
 * level 0. Each exec'd level prints "level K PID PPID" and exits with code 10 + K once its
 * own child has exited with the code it expects. The first process prints "done" and
 * exits 0 when the whole chain ended as expected, else 1.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char self[PATH_MAX];

/* Fork and exec level @k; returns 0 if it exited with 10 + k. */
static int spawn(int k)
{
	char level[16], text[64];
	int status;
	pid_t pid;

	snprintf(level, sizeof(level), "%d", k);
	snprintf(text, sizeof(text), "level %d has spaces", k);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		char *const argv[] = { self, "-l", level, text, NULL };

		execv(self, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 10 + k ? 0 : -1;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char line[16];
	int k;

	if (n <= 0)
		return 1;
	self[n] = 0;
	if (argc == 4 && !strcmp(argv[1], "-l")) {
		k = atoi(argv[2]);
		printf("level %d %d %d\n", k, getpid(), getppid());
		if (k > 0 && spawn(k - 1))
			return 1;
		return 10 + k;
	}
	if (argc != 2 || (k = atoi(argv[1])) < 1 || k > 50)
		return 2;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (spawn(k - 1))
		return 1;
	printf("done\n");
	return 0;
}
