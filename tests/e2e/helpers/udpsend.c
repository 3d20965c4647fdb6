// SPDX-License-Identifier: GPL-2.0
/*
 * udpsend: send an exact number of UDP datagrams, for the packet-counting tests.
 *   udpsend ADDR PORT N [SRCPORT]
 * Sends N datagrams of 32 bytes to ADDR:PORT (IPv4) from SRCPORT (default: any), one
 * sendto each, and exits 0 once all were sent. Run it in a network namespace with
 * `ip netns exec`.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET }, src = { .sin_family = AF_INET };
	char payload[32];
	long n;
	int fd;

	if (argc < 4 || argc > 5 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udpsend ADDR PORT N [SRCPORT]\n");
		return 2;
	}
	dst.sin_port = htons(atoi(argv[2]));
	n = atol(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	if (argc == 5) {
		src.sin_port = htons(atoi(argv[4]));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)))
			return 1;
	}
	memset(payload, 'k', sizeof(payload));
	for (long i = 0; i < n; i++)
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&dst,
			   sizeof(dst)) != sizeof(payload)) {
			perror("udpsend: sendto");
			return 1;
		}
	close(fd);
	return 0;
}
