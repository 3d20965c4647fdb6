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

#include "sink/otlp.h"

int ks_otlp_url_parse(const char *text, struct ks_otlp_url *u, char *err, size_t len)
{
	const char *p = text, *slash, *colon, *hend;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "http://", 7)) {
		snprintf(err, len, "--otlp %.80s: not an http:// URL (e.g. "
			 "http://127.0.0.1:4318/v1/metrics; https is not supported)", text);
		return -1;
	}
	p += 7;
	slash = strchr(p, '/');
	hend = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', hend - p);

		if (!rb) {
			snprintf(err, len, "--otlp %.80s: an IPv6 address lacks its ']'", text);
			return -1;
		}
		hl = rb - p - 1;
		memcpy(u->host, p + 1, hl < sizeof(u->host) ? hl : 0);
		colon = rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < hend && !colon) {
			snprintf(err, len, "--otlp %.80s: text after the ']'", text);
			return -1;
		}
	} else {
		colon = memchr(p, ':', hend - p);
		hl = (colon ? colon : hend) - p;
		if (hl < sizeof(u->host))
			memcpy(u->host, p, hl);
	}
	if (!hl || hl >= sizeof(u->host)) {
		snprintf(err, len, "--otlp %.80s: no host", text);
		return -1;
	}
	for (const char *c = p; c < (colon ? colon : hend); c++)
		if (*c <= ' ' || *c == '@' || *c == '?' || *c == '#' || *c == 0x7f) {
			snprintf(err, len, "--otlp %.80s: a bad character in the host", text);
			return -1;
		}
	if (colon) {
		size_t pl = hend - colon - 1;
		long port;

		if (!pl || pl > 5 || strspn(colon + 1, "0123456789") < pl ||
		    (port = strtol(colon + 1, NULL, 10)) < 1 || port > 65535) {
			snprintf(err, len, "--otlp %.80s: the port is not 1-65535", text);
			return -1;
		}
		snprintf(u->port, sizeof(u->port), "%ld", port);
	} else {
		strcpy(u->port, "80");
	}
	if ((size_t)(hend - p) >= sizeof(u->hostport)) {
		snprintf(err, len, "--otlp %.80s: the host is too long", text);
		return -1;
	}
	memcpy(u->hostport, p, hend - p);
	snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/v1/metrics");
	if (slash && strlen(slash) >= sizeof(u->path)) {
		snprintf(err, len, "--otlp %.80s: the path is too long", text);
		return -1;
	}
	for (const char *c = u->path; *c; c++)
		if (*c <= ' ' || *c == 0x7f) {
			snprintf(err, len, "--otlp %.80s: a space or control in the path", text);
			return -1;
		}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ULL + t.tv_nsec / 1000000;
}

/* Wait for @ev on @fd until @deadline (ms): 1 ready, 0 timed out or told to stop, -1. */
static int wait_fd(int stopfd, int fd, short ev, uint64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = stopfd, .events = POLLIN } };
		uint64_t now = now_ms();
		int r;

		if (now >= deadline)
			return 0;
		r = poll(p, 2, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (p[1].revents)
			return 0;
		if (p[0].revents)
			return 1;
	}
}

/* A connected non-blocking socket to the URL, or -1. */
static int dial(const struct ks_otlp_url *u, int stopfd, uint64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *a;
	int fd = -1;

	if (getaddrinfo(u->host, u->port, &hints, &res)) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		int e = 0;
		socklen_t el = sizeof(e);

		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		e = errno;
		if (e == EINPROGRESS) {
			if (wait_fd(stopfd, fd, POLLOUT, deadline) != 1)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
				e = errno;
			if (!e)
				break;
		}
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	return fd;
}

static int send_all(int stopfd, int fd, const char *p, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (wait_fd(stopfd, fd, POLLOUT, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

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
		if (wait_fd(stopfd, fd, POLLIN, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	buf[got] = 0;
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &code) != 1)
		return -1;
	return code;
}

int ks_otlp_post(const struct ks_otlp_url *u, int stopfd, bool protobuf, const void *body,
		 size_t len, int timeout_ms, int *code)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char head[1536];
	int fd, n;

	*code = 0;
	fd = dial(u, stopfd, deadline);
	if (fd < 0)
		return KS_OTLP_CONNECT;
	n = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ksight\r\n"
		     "Content-Type: application/%s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", u->path, u->hostport,
		     protobuf ? "x-protobuf" : "json", len);
	if (send_all(stopfd, fd, head, n, deadline) || send_all(stopfd, fd, body, len, deadline)) {
		close(fd);
		return KS_OTLP_SEND;
	}
	*code = status_of(stopfd, fd, deadline);
	close(fd);
	if (*code < 0)
		return KS_OTLP_SEND;
	return *code >= 200 && *code < 300 ? KS_OTLP_OK : KS_OTLP_STATUS;
}
