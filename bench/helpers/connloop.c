// SPDX-License-Identifier: GPL-2.0
/*
 * connloop: short TCP connections as fast as one client can make them, for the churn
 * benchmark (bench/churn_cost.sh).
 *   connloop server ADDR PORT       accept, read to EOF, close; forever ("listening" once)
 *   connloop client ADDR PORT N     N times: connect, send one byte, close; then one more
 *                                   connection that returns once the server closed all N
 *                                   (so N + 1 in all); one line "conns N per_sec R" (wall
 *                                   time over the N)
 * The client closes first (so its end holds TIME_WAIT, and the server's sockets free at
 * once); SO_LINGER is left alone, so every connection ends with a FIN each way, as real
 * short-lived requests do.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int addr_of(const char *host, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int server(const struct sockaddr_in *sa)
{
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	char buf[64];

	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (const struct sockaddr *)sa, sizeof(*sa)) || listen(ls, 4096)) {
		perror("connloop server");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

/* One more connection, half-closed, read until the server closes it: the server takes
 * connections in order, so by then it has closed every one before (their records are
 * due), whatever its accept queue held when the last connect returned. */
static int sync_server(const struct sockaddr_in *sa)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char c;

	if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof(*sa)) || write(s, "s", 1) != 1 ||
	    shutdown(s, SHUT_WR)) {
		perror("connloop client: sync");
		return 1;
	}
	while (read(s, &c, 1) > 0)
		;
	close(s);
	return 0;
}

static int client(const struct sockaddr_in *sa, long n)
{
	struct timespec a, b;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (const struct sockaddr *)sa, sizeof(*sa)) ||
		    write(s, "x", 1) != 1) {
			perror("connloop client");
			return 1;
		}
		close(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (sync_server(sa))
		return 1;
	secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("conns %ld per_sec %.1f\n", n, n / secs);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc >= 4 && !strcmp(argv[1], "server") && argc == 4 &&
	    !addr_of(argv[2], argv[3], &sa))
		return server(&sa);
	if (argc == 5 && !strcmp(argv[1], "client") && !addr_of(argv[2], argv[3], &sa) &&
	    atol(argv[4]) > 0)
		return client(&sa, atol(argv[4]));
	fprintf(stderr, "usage: connloop server ADDR PORT | connloop client ADDR PORT N\n");
	return 2;
}
