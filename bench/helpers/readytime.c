// SPDX-License-Identifier: GPL-2.0
/*
 * readytime: how long a ksight command takes from exec to attached.
 *
 *   readytime [-t TIMEOUT_MS] [-s STOP_MS] CMD [ARGS...]
 *
 * Reads the clock, spawns CMD (posix_spawn returns once CMD is exec'd) with stdout on
 * /dev/null and stderr on a pipe, and reads the clock again when a line containing
 * " ready in " arrives. STOP_MS later (default 300) it stops CMD with SIGINT, as a user
 * would, and waits for it; -s 0 sends SIGINT at once. Prints one line:
 * "wall_ms W exit E line <the ready line>", E being CMD's exit status (128+N if signal N
 * ended it). Exits 0 only if the ready line came within TIMEOUT_MS (default 10000) and
 * CMD then exited 0; otherwise 1, with CMD's stderr on our stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	double t0, t_ready = -1, timeout_ms = 10000, stop_ms = 300;
	posix_spawn_file_actions_t fa;
	char *ready_line = NULL;
	size_t len = 0;
	int pipefd[2], status, code, argi, opt;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:s:")) != -1) {
		if (opt == 't')
			timeout_ms = atof(optarg);
		else if (opt == 's')
			stop_ms = atof(optarg);
		else
			timeout_ms = -1;
	}
	argi = optind;
	if (argi >= argc || timeout_ms <= 0 || stop_ms < 0) {
		fprintf(stderr, "usage: readytime [-t TIMEOUT_MS] [-s STOP_MS] CMD [ARGS...]\n");
		return 2;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		perror("readytime: pipe");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	t0 = now_ms();
	errno = posix_spawnp(&pid, argv[argi], &fa, NULL, argv + argi, environ);
	if (errno) {
		fprintf(stderr, "readytime: %s: %s\n", argv[argi], strerror(errno));
		return 1;
	}
	close(pipefd[1]);

	/* Collect stderr until EOF; the ready line stops the clock and the command. */
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		double left = t_ready < 0 ? timeout_ms - (now_ms() - t0) : 30000;
		ssize_t n;
		char *nl;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			fprintf(stderr, "readytime: %s\n", t_ready < 0 ? "no ready line in time" :
				"command did not exit after SIGINT");
			kill(pid, SIGKILL);
			break;
		}
		if (len == sizeof(buf) - 1)
			len = 0;	/* only the last lines matter */
		n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		buf[len] = 0;
		if (t_ready >= 0)
			continue;
		for (char *line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = 0;
			if (strstr(line, " ready in ")) {
				t_ready = now_ms();
				ready_line = strdup(line);
				if (stop_ms)
					usleep((useconds_t)(stop_ms * 1000));
				kill(pid, SIGINT);
			}
			*nl = '\n';
		}
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("readytime: waitpid");
		return 1;
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (t_ready < 0 || code) {
		fprintf(stderr, "readytime: %s exited %d%s; its stderr:\n%s", argv[argi], code,
			t_ready < 0 ? " without a ready line" : "", buf);
		printf("wall_ms - exit %d line -\n", code);
		return 1;
	}
	printf("wall_ms %.2f exit %d line %s\n", t_ready - t0, code, ready_line);
	free(ready_line);
	return 0;
}
