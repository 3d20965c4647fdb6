// SPDX-License-Identifier: GPL-2.0
/*
 * guardnet: the fd patterns `ksight guard` must see, and their benign twins. Each mode
 * prints "ready PID", waits for a line on stdin, acts, prints what it did and exits.
 *   guardnet stdio tcp|unix|unixout|pipe PORT PROG ARG...
 *                         a child with fds 0 and 1 on a TCP connection to 127.0.0.1:PORT,
 *                         one end of a unix socketpair (unixout: fd 1 only), or pipes,
 *                         execs PROG;
 *                         prints "child PID STATUS"
 *   guardnet service listen|bound|early PROG ARG...
 *                         a TCP socket on 127.0.0.1 bound and listening (or only bound;
 *                         early: listening before "ready"); a child execs PROG; prints
 *                         "child PID STATUS"
 *   guardnet memwrite other|self
 *                         writes 8 bytes into a variable of a forked child (other) or of
 *                         itself (self): /proc/PID/mem opened O_RDWR and pwritten, then
 *                         process_vm_writev; prints "target PID open OK pwrite N vm N
 *                         value HEX" (the child's value read back through /proc/PID/mem)
 *   guardnet memloop N    N pwrites of 8 bytes into a forked child's /proc/PID/mem;
 *                         prints "target PID pwrites OK"
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint64_t target_var = 0x1111111111111111ULL;

static int run_child(int in, int out, char **argv)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && out != in)
		close(out);
	waitpid(pid, &st, 0);
	printf("child %d %d\n", pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int stdio(const char *how, int port, char **argv)
{
	int fds[2];

	if (!strcmp(how, "tcp")) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		int s = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
			perror("guardnet: connect");
			return 1;
		}
		return run_child(s, s, argv);
	}
	if (!strcmp(how, "unix")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			return 1;
		run_child(fds[0], fds[0], argv);
		close(fds[1]);
		return 0;
	}
	if (!strcmp(how, "unixout")) {	/* stdout only, as journald's stream socket */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			return 1;
		run_child(-1, fds[0], argv);
		close(fds[1]);
		return 0;
	}
	if (pipe(fds))
		return 1;
	/* the child reads the pipe's end and writes to it too: fd 1 on a pipe as well */
	{
		int out[2];

		if (pipe(out))
			return 1;
		run_child(fds[0], out[1], argv);
		close(fds[1]);
		close(out[0]);
	}
	return 0;
}

/* A TCP socket on 127.0.0.1, bound and, with @listening, listening. */
static int bound(bool listening)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || (listening && listen(s, 4))) {
		perror("guardnet: listen");
		return -1;
	}
	return s;
}

static int service(const char *how, char **argv)
{
	if (strcmp(how, "early") && bound(!strcmp(how, "listen")) < 0)
		return 1;
	return run_child(-1, -1, argv);
}

/* @n pwrites of 8 bytes into a forked child through /proc/PID/mem. */
static int memloop(int n)
{
	uint64_t v = 0x4444444444444444ULL;
	int pipefd[2], fd, ok = 0;
	char path[64], c;
	pid_t pid;

	if (pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR);
	for (int i = 0; fd >= 0 && i < n; i++)
		ok += pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)&target_var) == sizeof(v);
	close(fd);
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	printf("target %d pwrites %d\n", pid, ok);
	return 0;
}

static int memwrite(bool other)
{
	uint64_t v = 0x4242424242424242ULL, back = 0;
	int pipefd[2], fd;
	pid_t pid = getpid();
	char path[64];
	ssize_t pw, vm;
	struct iovec l = { &v, sizeof(v) }, r = { (void *)&target_var, sizeof(v) };

	if (other) {
		if (pipe(pipefd))
			return 1;
		pid = fork();
		if (pid == 0) {
			char c;

			close(pipefd[1]);
			read(pipefd[0], &c, 1);	/* until the parent is done */
			_exit(0);
		}
		close(pipefd[0]);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		perror("guardnet: open mem");
		return 1;
	}
	pw = pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)&target_var);
	v = 0x4343434343434343ULL;
	vm = process_vm_writev(pid, &l, 1, &r, 1, 0);
	pread(fd, &back, sizeof(back), (off_t)(uintptr_t)&target_var);
	close(fd);
	printf("target %d open OK pwrite %zd vm %zd value %llx\n", pid, pw, vm,
	       (unsigned long long)back);
	if (other) {
		close(pipefd[1]);
		waitpid(pid, NULL, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		goto usage;
	/* a service listening before guard starts (found in /proc at its start) */
	if (!strcmp(argv[1], "service") && !strcmp(argv[2], "early") && bound(true) < 0)
		return 1;
	printf("ready %d\n", getpid());
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!strcmp(argv[1], "stdio") && argc >= 5)
		return stdio(argv[2], atoi(argv[3]), argv + 4);
	if (!strcmp(argv[1], "service") && argc >= 4)
		return service(argv[2], argv + 3);
	if (!strcmp(argv[1], "memwrite"))
		return memwrite(!strcmp(argv[2], "other"));
	if (!strcmp(argv[1], "memloop"))
		return memloop(atoi(argv[2]));
usage:
	fprintf(stderr, "usage: guardnet stdio tcp|unix|unixout|pipe PORT PROG ARG... | "
		"service listen|bound|early PROG ARG... | memwrite other|self | "
		"memloop N\n");
	return 2;
}
