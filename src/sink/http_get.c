// SPDX-License-Identifier: GPL-2.0
/*
 * One GET for `ksight map --prometheus` (its query API): HTTP/1.0, so that the server
 * answers with the body up to the connection's close, never chunked, and the client
 * stays this small.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sink/http_conn.h"

#define GET_MAX (64u << 20)	/* an answer larger than this is refused */

/* The whole answer until the server closes, into *@all (*@n bytes, NUL-ended). */
static int read_all(int fd, uint64_t deadline, char **all, size_t *n)
{
	size_t cap = 1 << 16;
	char *b = malloc(cap);

	*n = 0;
	if (!b)
		return -1;
	for (;;) {
		ssize_t r;

		if (cap - *n < 4096) {
			char *nb = cap < GET_MAX ? realloc(b, cap * 2) : NULL;

			if (!nb) {
				free(b);
				errno = cap < GET_MAX ? ENOMEM : EFBIG;
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		r = recv(fd, b + *n, cap - *n - 1, 0);
		if (r > 0) {
			*n += r;
			continue;
		}
		if (!r)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || ks_http_wait(-1, fd, POLLIN, deadline) != 1) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			free(b);
			return -1;
		}
	}
	b[*n] = 0;
	*all = b;
	return 0;
}

int ks_http_get(const struct ks_http_url *u, const char *target, int timeout_ms, int *code,
		char **body, size_t *len, char *err, size_t errlen)
{
	uint64_t deadline = ks_http_now_ms() + timeout_ms;
	char *head, *all, *end;
	size_t n;
	int fd, hl;

	*body = NULL;
	*len = 0;
	fd = ks_http_dial(u, -1, deadline);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", u->hostport, strerror(errno));
		return -1;
	}
	hl = asprintf(&head, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: ksight\r\n"
		      "Accept: application/json\r\n\r\n", target, u->hostport);
	if (hl < 0 || ks_http_send_all(-1, fd, head, hl, deadline) ||
	    read_all(fd, deadline, &all, &n)) {
		snprintf(err, errlen, "%s: %s", u->hostport, strerror(errno));
		if (hl >= 0)
			free(head);
		close(fd);
		return -1;
	}
	free(head);
	close(fd);
	end = strstr(all, "\r\n\r\n");
	if (sscanf(all, "HTTP/1.%*1[01] %3d", code) != 1 || !end) {
		snprintf(err, errlen, "%s: not an HTTP answer", u->hostport);
		free(all);
		return -1;
	}
	end += 4;
	*len = n - (end - all);
	memmove(all, end, *len + 1);
	*body = all;
	return 0;
}
