// SPDX-License-Identifier: GPL-2.0
/*
 * tcpio: TCP sessions with exact byte counts, for the tcplife tests. Both ends print what
 * they sent and received, as write() and read() returned it: the reference ksight's
 * counts are checked against.
 *   tcpio server ADDR PORT N SEND
 *     listen on ADDR:PORT (IPv4 or IPv6), print "ready PID", then accept N connections
 *     one after the other: read each to its end, send SEND bytes, close. Prints
 *     "RECEIVED SENT" (the totals) and exits 0.
 *   tcpio client ADDR PORT N SEND [hold]
 *     print "ready PID", wait for a line on stdin, then N times: connect to ADDR:PORT,
 *     send SEND bytes, shut the sending side, read to the end, close. Prints
 *     "SENT RECEIVED MAX_US" (MAX_US: the longest connect-to-close, microseconds).
 *     With hold, each connection once its bytes are written prints "held LPORT" and waits
 *     for a line before it shuts its sending side (for `ss` to look at it).
 *   tcpio reset ADDR PORT
 *     listen, print "ready PID", accept one connection, wait for its first bytes and close
 *     it without reading them: the kernel answers with a RST. Prints "0 0".
 *   tcpio refused ADDR PORT
 *     print "ready PID", wait for a line, connect once to a port nobody listens on; prints
 *     the errno's number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return sizeof(*a4);
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return sizeof(*a6);
	}
	fprintf(stderr, "tcpio: bad address %s\n", addr);
	exit(2);
}

static long long send_all(int fd, long long n)
{
	static char buf[65536];
	long long done = 0;

	memset(buf, 'k', sizeof(buf));
	while (done < n) {
		size_t chunk = n - done < (long long)sizeof(buf) ? (size_t)(n - done) : sizeof(buf);
		ssize_t w = write(fd, buf, chunk);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpio: write");
			exit(1);
		}
		done += w;
	}
	return done;
}

static long long read_all(int fd)
{
	static char buf[65536];
	long long got = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNRESET)	/* the peer reset it (tcpio reset) */
			return got;
		if (r < 0) {
			perror("tcpio: read");
			exit(1);
		}
		if (!r)
			return got;
		got += r;
	}
}

static void wait_go(void)
{
	char line[16];

	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int server(struct sockaddr_storage *ss, socklen_t len, long n, long long send)
{
	long long rx = 0, tx = 0;
	int one = 1, lfd = socket(ss->ss_family, SOCK_STREAM, 0);

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)ss, len) || listen(lfd, 4096)) {
		perror("tcpio: listen");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			perror("tcpio: accept");
			return 1;
		}
		rx += read_all(fd);
		tx += send_all(fd, send);
		close(fd);
	}
	close(lfd);
	printf("%lld %lld\n", rx, tx);
	return 0;
}

static void hold(int fd)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	int port;

	getsockname(fd, (struct sockaddr *)&me, &len);
	port = me.ss_family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port :
					 ((struct sockaddr_in6 *)&me)->sin6_port;
	printf("held %d\n", ntohs(port));
	fflush(stdout);
	wait_go();
}

static int reset(struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, lfd = socket(ss->ss_family, SOCK_STREAM, 0), fd;
	struct pollfd p = { .events = POLLIN };

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)ss, len) || listen(lfd, 16)) {
		perror("tcpio: listen");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("tcpio: accept");
		return 1;
	}
	p.fd = fd;
	poll(&p, 1, 10000);
	close(fd);	/* unread bytes: a RST, not a FIN */
	close(lfd);
	printf("0 0\n");
	return 0;
}

static int client(struct sockaddr_storage *ss, socklen_t len, long n, long long send,
		  int held)
{
	long long rx = 0, tx = 0, max_us = 0;

	printf("ready %d\n", getpid());
	fflush(stdout);
	wait_go();
	for (long i = 0; i < n; i++) {
		long long t0 = now_us();
		int fd = socket(ss->ss_family, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)ss, len)) {
			perror("tcpio: connect");
			return 1;
		}
		tx += send_all(fd, send);
		if (held)
			hold(fd);
		shutdown(fd, SHUT_WR);
		rx += read_all(fd);
		close(fd);
		if (now_us() - t0 > max_us)
			max_us = now_us() - t0;
	}
	printf("%lld %lld %lld\n", tx, rx, max_us);
	return 0;
}

static int refused(struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), err;

	printf("ready %d\n", getpid());
	fflush(stdout);
	wait_go();
	err = connect(fd, (struct sockaddr *)ss, len) ? errno : 0;
	close(fd);
	printf("%d\n", err);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (argc < 4) {
		fprintf(stderr, "usage: tcpio server|client ADDR PORT N SEND [hold]\n"
				"       tcpio reset|refused ADDR PORT\n");
		return 2;
	}
	len = sockaddr_of(argv[2], atoi(argv[3]), &ss);
	if (!strcmp(argv[1], "refused"))
		return refused(&ss, len);
	if (!strcmp(argv[1], "reset"))
		return reset(&ss, len);
	if (argc != 6 && !(argc == 7 && !strcmp(argv[6], "hold"))) {
		fprintf(stderr, "usage: tcpio server|client ADDR PORT N SEND [hold]\n");
		return 2;
	}
	if (!strcmp(argv[1], "server"))
		return server(&ss, len, atol(argv[4]), atoll(argv[5]));
	if (!strcmp(argv[1], "client"))
		return client(&ss, len, atol(argv[4]), atoll(argv[5]), argc == 7);
	fprintf(stderr, "tcpio: unknown mode %s\n", argv[1]);
	return 2;
}
