// SPDX-License-Identifier: GPL-2.0
/*
 * netcg: a process with a known network workload on the loopback, for the cgroup program
 * tests (the test moves it into its cgroup first).
 *   netcg PORT N K
 * Prints "ready PID", waits for a line on stdin, then: opens a UDP socket bound to
 * 127.0.0.1:PORT and another to send from, sends N datagrams to the first and receives
 * them; opens a TCP listener on 127.0.0.1:PORT and makes K connections to it (each
 * accepted, then both ends closed). That is 3 + K socket() calls, N UDP datagrams each
 * way through the stack (out of one socket, into the other), and K TCP connects to PORT.
 * Prints "done RECEIVED ACCEPTED" and exits 0 at the end of stdin.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int sock(int type, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, type, 0);

	if (fd < 0)
		exit(1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (port && bind(fd, (struct sockaddr *)&a, sizeof(a)))
		exit(1);
	return fd;
}

int main(int argc, char **argv)
{
	int port = argc == 4 ? atoi(argv[1]) : 0;
	long n = argc == 4 ? atol(argv[2]) : 0, k = argc == 4 ? atol(argv[3]) : 0;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char line[16], buf[64];

	if (port <= 0) {
		fprintf(stderr, "usage: netcg PORT N K\n");
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		int rx = sock(SOCK_DGRAM, port), tx = sock(SOCK_DGRAM, 0), ls;
		long got = 0, acc = 0;

		for (long i = 0; i < n; i++) {
			if (sendto(tx, "netcg", 5, 0, (struct sockaddr *)&to, sizeof(to)) != 5)
				return 1;
			got += recv(rx, buf, sizeof(buf), 0) == 5;
		}
		close(rx);
		close(tx);
		ls = sock(SOCK_STREAM, port);
		if (listen(ls, 64))
			return 1;
		for (long i = 0; i < k; i++) {
			int c = socket(AF_INET, SOCK_STREAM, 0), s;

			if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)))
				return 1;
			s = accept(ls, NULL, NULL);
			acc += s >= 0;
			close(c);
			if (s >= 0)
				close(s);
		}
		close(ls);
		printf("done %ld %ld\n", got, acc);
		fflush(stdout);
	}
	return 0;
}
