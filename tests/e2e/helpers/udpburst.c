// SPDX-License-Identifier: GPL-2.0
/*
 * udpburst: a process whose UDP socket is open before it sends, for tests that select
 * packets by the process that owns their socket (ksight drops -p).
 *   udpburst ADDR PORT N
 * Makes an IPv4 UDP socket, prints "ready PID", waits for a line on stdin, tries N
 * sendto()s of 32 bytes to ADDR:PORT, prints "sent OK FAILED" (a datagram a netfilter
 * rule drops on the way out fails with EPERM), then keeps the socket open until stdin
 * ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	char payload[32], line[64];
	long n, ok = 0, failed = 0;
	int fd;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udpburst ADDR PORT N\n");
		return 2;
	}
	dst.sin_port = htons(atoi(argv[2]));
	n = atol(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpburst: socket");
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	memset(payload, 'k', sizeof(payload));
	for (long i = 0; i < n; i++) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&dst,
			   sizeof(dst)) == sizeof(payload))
			ok++;
		else if (errno == EPERM)
			failed++;
		else {
			perror("udpburst: sendto");
			return 1;
		}
	}
	printf("sent %ld %ld\n", ok, failed);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	close(fd);
	return 0;
}
