// SPDX-License-Identifier: GPL-2.0
/*
 * execer: execs, failed execs and exits on command, for exec tests.
 *   execer [-u UID] [-F BADPATH]... [-f] PATH ARG0 [ARG...]   exec PATH with ARG0 ARG...
 *   execer [-u UID] -e CODE                                    a child exits with CODE
 *   execer [-u UID] -k                                         a child is killed by SIGKILL
 * Drops to UID (-u), prints "ready PID", waits for a line on stdin, then acts. Each -F
 * first tries to exec BADPATH with the same arguments (it must fail). Without -f the execs
 * happen in this process: if PATH fails too it prints "failed ERRNO" and exits 0. With -f,
 * -e or -k the work happens in a forked child and this process prints
 * "child PID ERRNO STATUS" (ERRNO: the failed exec's, else 0; STATUS: the raw wait status).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_BAD 8

static const char *bad[MAX_BAD];
static int nbad;

/* Every -F path, then PATH; returns the errno of the last failure. */
static int try_execs(const char *path, char **args)
{
	for (int i = 0; i < nbad; i++)
		execv(bad[i], args);
	execv(path, args);
	return errno;
}

int main(int argc, char **argv)
{
	int opt, fork_first = 0, code = -1, kill_self = 0, status, pipefd[2], err = 0;
	long uid = -1;
	char line[16];
	pid_t pid;

	while ((opt = getopt(argc, argv, "+u:F:fe:k")) != -1) {
		switch (opt) {
		case 'u':
			uid = atol(optarg);
			break;
		case 'F':
			if (nbad == MAX_BAD)
				return 2;
			bad[nbad++] = optarg;
			break;
		case 'f':
			fork_first = 1;
			break;
		case 'e':
			code = atoi(optarg);
			break;
		case 'k':
			kill_self = 1;
			break;
		default:
			return 2;
		}
	}
	if (code < 0 && !kill_self && argc - optind < 2)
		return 2;
	if (uid >= 0 && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))) {
		perror("setresuid");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (code < 0 && !kill_self && !fork_first) {
		printf("failed %d\n", try_execs(argv[optind], argv + optind + 1));
		return 0;
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		close(pipefd[0]);
		if (kill_self)
			raise(SIGKILL);
		if (code >= 0)
			_exit(code);
		err = try_execs(argv[optind], argv + optind + 1);
		if (write(pipefd[1], &err, sizeof(err)) != sizeof(err))
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &err, sizeof(err)) != sizeof(err))
		err = 0;	/* the exec succeeded: close-on-exec closed the pipe */
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	printf("child %d %d %d\n", pid, err, status);
	return 0;
}
