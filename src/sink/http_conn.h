/* SPDX-License-Identifier: GPL-2.0 */
/* A small HTTP/1.x client's parts (http_conn.c): the URL, a connection, sending. */
#ifndef KSIGHT_HTTP_CONN_H
#define KSIGHT_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

struct ks_http_url {
	char host[256];		/* a name or an address, IPv6 without brackets */
	char port[8];		/* decimal, 80 when the URL gives none */
	char path[1024];	/* from the first '/', @dflt_path when the URL gives none */
	char hostport[272];	/* for the Host header, as the URL has it */
};

/* Parse http://HOST[:PORT][/PATH] (http only: no TLS here), given as option @opt (named in
 * the errors), its path @dflt_path when it has none. Returns 0, or -1 with one line in
 * @err naming what is wrong. */
int ks_http_url_parse(const char *opt, const char *dflt_path, const char *text,
		      struct ks_http_url *u, char *err, size_t len);

/* CLOCK_MONOTONIC in ms: the deadlines below. */
uint64_t ks_http_now_ms(void);

/* Wait for @ev on @fd until @deadline (ms): 1 ready, 0 timed out or @stopfd readable
 * (-1: no stop fd), -1 an error. */
int ks_http_wait(int stopfd, int fd, short ev, uint64_t deadline);

/* A connected non-blocking socket to @u, or -1 (errno). */
int ks_http_dial(const struct ks_http_url *u, int stopfd, uint64_t deadline);

/* Send all @n bytes of @p: 0, or -1 (errno; ETIMEDOUT past @deadline). */
int ks_http_send_all(int stopfd, int fd, const char *p, size_t n, uint64_t deadline);

/*
 * GET @target (a path with its query, already encoded) from @u's server within
 * @timeout_ms as HTTP/1.0, so that the answer is its body up to the connection's close
 * (never chunked). Returns 0 with the status code in *@code and the body in *@body
 * (malloc'd, NUL-ended, *@len bytes), or -1 with one line in @err.
 */
int ks_http_get(const struct ks_http_url *u, const char *target, int timeout_ms, int *code,
		char **body, size_t *len, char *err, size_t errlen);

#endif
