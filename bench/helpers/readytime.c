// SPDX-License-Identifier: GPL-2.0
/*
 * readytime: how long a tracer takes from exec to attached.
 *
 *   readytime [-t TIMEOUT_MS] [-s STOP_MS] [-e PATH] CMD [ARGS...]
 *
 * Reads the clock, spawns CMD (posix_spawn returns once CMD is exec'd) with stdout and
 * stderr on pipes, and reads the clock again when CMD is ready:
 *   - by default, when a stderr line contains " ready in " (ksight's line);
 *   - with -e PATH, when an output line contains PATH, while readytime opens PATH every
 *     millisecond: the time to the first traced event, which any open tracer can be timed
 *     by (opensnoop, bpftrace). Give CMD line-buffered output (stdbuf -oL) if it uses stdio.
 * STOP_MS later (default 300) it stops CMD with SIGINT, as a user would, and waits for it;
 * -s 0 sends SIGINT at once. Prints one line: "wall_ms W exit E line <ksight's ready
 * line or ->", E being CMD's exit status (128+N if signal N ended it). Exits 0 only if
 * CMD was ready within TIMEOUT_MS (default 10000) and then exited 0; otherwise 1, with
 * the end of CMD's stderr on ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct stream {
	int fd;			/* -1 once at EOF */
	bool keep;		/* keep every line (stderr, for the failure message) */
	char buf[65536];	/* the lines read, NUL-terminated */
	size_t len;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read what is there; returns whether a complete line contains @needle (and copies the
 * first such line to @line). Keeps only the unfinished tail line across reads. */
static bool read_lines(struct stream *s, const char *needle, char *line, size_t cap)
{
	bool found = false;
	ssize_t n;
	char *p, *nl;

	if (s->len == sizeof(s->buf) - 1)
		s->len = 0;	/* a line too long to matter */
	n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			s->fd = -1;
		return false;
	}
	s->len += n;
	s->buf[s->len] = 0;
	for (p = s->buf; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		if (!found && needle && strstr(p, needle)) {
			found = true;
			size_t k = strlen(p) < cap ? strlen(p) : cap - 1;

			memcpy(line, p, k);
			line[k] = 0;
		}
		*nl = '\n';
	}
	if (!s->keep && p != s->buf) {
		s->len -= p - s->buf;
		memmove(s->buf, p, s->len + 1);
	}
	return found;
}

int main(int argc, char **argv)
{
	static struct stream out, err;
	double t0, t_ready = -1, deadline, timeout_ms = 10000, stop_ms = 300;
	const char *marker = NULL, *cmd;
	posix_spawn_file_actions_t fa;
	char ready_line[1024] = "-", dummy[8];
	int po[2], pe[2], status, code, opt;
	bool signalled = false;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:s:e:")) != -1) {
		if (opt == 't')
			timeout_ms = atof(optarg);
		else if (opt == 's')
			stop_ms = atof(optarg);
		else if (opt == 'e')
			marker = optarg;
		else
			timeout_ms = -1;
	}
	if (optind >= argc || timeout_ms <= 0 || stop_ms < 0) {
		fprintf(stderr, "usage: readytime [-t TIMEOUT_MS] [-s STOP_MS] [-e PATH] CMD...\n");
		return 2;
	}
	cmd = argv[optind];
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		perror("readytime: pipe");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	t0 = now_ms();
	errno = posix_spawnp(&pid, cmd, &fa, NULL, argv + optind, environ);
	if (errno) {
		fprintf(stderr, "readytime: %s: %s\n", cmd, strerror(errno));
		return 1;
	}
	close(po[1]);
	close(pe[1]);
	out.fd = po[0];
	err.fd = pe[0];
	err.keep = true;
	deadline = t0 + timeout_ms;

	while (out.fd >= 0 || err.fd >= 0) {
		struct pollfd p[2] = { { .fd = out.fd, .events = POLLIN },
				       { .fd = err.fd, .events = POLLIN } };
		double left = deadline - now_ms();
		int wait = marker && t_ready < 0 ? 1 : (int)left + 1;

		if (left <= 0) {
			fprintf(stderr, "readytime: %s\n", t_ready < 0 ? "not ready in time" :
				"command did not exit within 30 s of SIGINT");
			break;
		}
		if (marker && t_ready < 0) {
			int fd = open(marker, O_RDONLY);

			if (fd >= 0)
				close(fd);
		}
		if (poll(p, 2, wait) <= 0)
			continue;
		if (p[0].revents && read_lines(&out, marker, dummy, sizeof(dummy)) && t_ready < 0)
			t_ready = now_ms();
		if (p[1].revents) {
			bool r = read_lines(&err, " ready in ", ready_line, sizeof(ready_line));

			if (r && !marker && t_ready < 0)
				t_ready = now_ms();
		}
		if (t_ready >= 0 && !signalled) {
			if (stop_ms)
				usleep((useconds_t)(stop_ms * 1000));
			kill(pid, SIGINT);
			signalled = true;
			deadline = now_ms() + 30000;
		}
	}
	if (out.fd >= 0 || err.fd >= 0)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0) {
		perror("readytime: waitpid");
		return 1;
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (t_ready < 0 || code) {
		fprintf(stderr, "readytime: %s exited %d%s; its stderr:\n%s", cmd, code,
			t_ready < 0 ? " before it was ready" : "", err.buf);
		printf("wall_ms - exit %d line -\n", code);
		return 1;
	}
	printf("wall_ms %.2f exit %d line %s\n", t_ready - t0, code, ready_line);
	return 0;
}
