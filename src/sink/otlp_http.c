// SPDX-License-Identifier: GPL-2.0
/*
 * The OTLP exporter's HTTP/1.1 client: one POST per export over a fresh connection
 * (Connection: close), every step bounded by one deadline and woken by the sink's stop
 * eventfd, so that neither a silent receiver nor the agent's exit waits longer. http://
 * only: TLS would need a library, and a collector on the machine can forward.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sink/http_conn.h"
#include "sink/otlp.h"

/* The answer's status code (read until the status line is whole), or -1. */
static int status_of(int stopfd, int fd, uint64_t deadline)
{
	char buf[512];
	size_t got = 0;
	int code;

	while (got < sizeof(buf) - 1) {
		ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

		if (r > 0) {
			got += r;
			buf[got] = 0;
			if (strchr(buf, '\n'))
				break;
			continue;
		}
		if (!r)
			errno = 0;	/* closed before a whole status line */
		if (!r || (errno != EAGAIN && errno != EINTR))
			return -1;
		if (ks_http_wait(stopfd, fd, POLLIN, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	buf[got] = 0;
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &code) != 1)
		return -1;
	return code;
}

int ks_otlp_url_parse(const char *text, struct ks_http_url *u, char *err, size_t len)
{
	return ks_http_url_parse("--otlp", "/v1/metrics", text, u, err, len);
}

int ks_otlp_post(const struct ks_http_url *u, int stopfd, bool protobuf, const void *body,
		 size_t len, int timeout_ms, int *code)
{
	uint64_t deadline = ks_http_now_ms() + timeout_ms;
	char head[1536];
	int fd, n;

	*code = 0;
	fd = ks_http_dial(u, stopfd, deadline);
	if (fd < 0)
		return KS_OTLP_CONNECT;
	n = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ksight\r\n"
		     "Content-Type: application/%s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", u->path, u->hostport,
		     protobuf ? "x-protobuf" : "json", len);
	if (ks_http_send_all(stopfd, fd, head, n, deadline) ||
	    ks_http_send_all(stopfd, fd, body, len, deadline)) {
		close(fd);
		return KS_OTLP_SEND;
	}
	*code = status_of(stopfd, fd, deadline);
	close(fd);
	if (*code < 0)
		return KS_OTLP_SEND;
	return *code >= 200 && *code < 300 ? KS_OTLP_OK : KS_OTLP_STATUS;
}
