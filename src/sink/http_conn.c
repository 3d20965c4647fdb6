// SPDX-License-Identifier: GPL-2.0
/*
 * A small HTTP/1.x client's parts, shared by the OTLP exporter's POST (otlp_http.c) and
 * `ksight map --prometheus`'s GET (http_get.c): the URL, the connection, sending, each step
 * bounded by one deadline and woken by a stop fd. http:// only: TLS would need a library.
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

int ks_http_url_parse(const char *opt, const char *dflt_path, const char *text,
		      struct ks_http_url *u, char *err, size_t len)
{
	const char *p = text, *slash, *colon, *hend;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "http://", 7)) {
		snprintf(err, len, "%s %.80s: not an http:// URL (http://HOST[:PORT]%s; https is "
			 "not supported)", opt, text, dflt_path[1] ? dflt_path : "");
		return -1;
	}
	p += 7;
	slash = strchr(p, '/');
	hend = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', hend - p);

		if (!rb) {
			snprintf(err, len, "%s %.80s: an IPv6 address lacks its ']'", opt, text);
			return -1;
		}
		hl = rb - p - 1;
		memcpy(u->host, p + 1, hl < sizeof(u->host) ? hl : 0);
		colon = rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < hend && !colon) {
			snprintf(err, len, "%s %.80s: text after the ']'", opt, text);
			return -1;
		}
	} else {
		colon = memchr(p, ':', hend - p);
		hl = (colon ? colon : hend) - p;
		if (hl < sizeof(u->host))
			memcpy(u->host, p, hl);
	}
	if (!hl || hl >= sizeof(u->host)) {
		snprintf(err, len, "%s %.80s: no host", opt, text);
		return -1;
	}
	for (const char *c = p; c < (colon ? colon : hend); c++)
		if (*c <= ' ' || *c == '@' || *c == '?' || *c == '#' || *c == 0x7f) {
			snprintf(err, len, "%s %.80s: a bad character in the host", opt, text);
			return -1;
		}
	if (colon) {
		size_t pl = hend - colon - 1;
		long port;

		if (!pl || pl > 5 || strspn(colon + 1, "0123456789") < pl ||
		    (port = strtol(colon + 1, NULL, 10)) < 1 || port > 65535) {
			snprintf(err, len, "%s %.80s: the port is not 1-65535", opt, text);
			return -1;
		}
		snprintf(u->port, sizeof(u->port), "%ld", port);
	} else {
		strcpy(u->port, "80");
	}
	if ((size_t)(hend - p) >= sizeof(u->hostport)) {
		snprintf(err, len, "%s %.80s: the host is too long", opt, text);
		return -1;
	}
	memcpy(u->hostport, p, hend - p);
	snprintf(u->path, sizeof(u->path), "%s", slash ? slash : dflt_path);
	if (slash && strlen(slash) >= sizeof(u->path)) {
		snprintf(err, len, "%s %.80s: the path is too long", opt, text);
		return -1;
	}
	for (const char *c = u->path; *c; c++)
		if (*c <= ' ' || *c == 0x7f) {
			snprintf(err, len, "%s %.80s: a space or control in the path", opt, text);
			return -1;
		}
	return 0;
}

uint64_t ks_http_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ULL + t.tv_nsec / 1000000;
}

int ks_http_wait(int stopfd, int fd, short ev, uint64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = stopfd, .events = POLLIN } };
		uint64_t now = ks_http_now_ms();
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

int ks_http_dial(const struct ks_http_url *u, int stopfd, uint64_t deadline)
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
			if (ks_http_wait(stopfd, fd, POLLOUT, deadline) != 1)
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

int ks_http_send_all(int stopfd, int fd, const char *p, size_t n, uint64_t deadline)
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
		if (ks_http_wait(stopfd, fd, POLLOUT, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}
