/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cmocka tests: text out of a ks_buf, temporary directories and
 * files (removed again by the tests), output captured through a memfd, and a strict JSON
 * checker for the JSON sink's lines.
 */
#ifndef KSIGHT_TESTUTIL_H
#define KSIGHT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/outbuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The buffer's bytes as a C string (the NUL is not counted in b->len). */
static inline const char *tu_text(struct ks_buf *b)
{
	assert_int_equal(ks_buf_reserve(b, 1), 0);
	b->p[b->len] = 0;
	return b->p;
}

/* Equal within 1e-9 (for interpolated values computed through a division). */
#define assert_near(a, b)                                                                   \
	do {                                                                                \
		double a_ = (a), b_ = (b);                                                  \
		if (!(fabs(a_ - b_) < 1e-9))                                                \
			fail_msg("%.17g != %.17g", a_, b_);                                 \
	} while (0)

/* One line, no newline, and @needle in it: what every option error must look like. */
static inline void tu_one_line(const char *err, const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("'%s' does not name '%s'", err, needle);
	assert_null(strchr(err, '\n'));
	assert_true(err[0] != 0);
}

/* A fresh directory under /tmp; remove with tu_rmtree. */
static inline char *tu_mkdtemp(const char *stem)
{
	char *p;

	assert_true(asprintf(&p, "/tmp/%s.XXXXXX", stem) > 0);
	assert_non_null(mkdtemp(p));
	return p;
}

static int tu_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void tu_rmtree(char *dir)
{
	assert_int_equal(nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* Write @n bytes of @data to @dir/@name (n < 0: strlen). */
static inline void tu_write(const char *dir, const char *name, const void *data, ssize_t n)
{
	char path[512];
	int fd;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	if (n < 0)
		n = strlen(data);
	assert_int_equal(write(fd, data, n), n);
	close(fd);
}

/* An anonymous file to point a sink at; tu_take reads what was written and empties it. */
static inline int tu_memfd(void)
{
	int fd = memfd_create("ksight-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Everything written to @fd so far, as a malloc'd C string; the file is emptied. */
static inline char *tu_take(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_int_equal(pread(fd, s, n, 0), n);
	s[n] = 0;
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return s;
}

/* --- a strict JSON checker (RFC 8259): returns the end of the value or NULL ---------- */

static const char *tu_json_value(const char *p, int depth);

static inline const char *tu_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static inline const char *tu_json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = *p;

		if (c < 0x20)
			return NULL;	/* raw control characters are not allowed */
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (c >= 0x80) {	/* well-formed UTF-8 only */
			int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;

			if (!len || c > 0xf4)
				return NULL;
			for (int i = 1; i < len; i++)
				if (((unsigned char)p[i] & 0xc0) != 0x80)
					return NULL;
			p += len;
			continue;
		}
		p++;
	}
	return p + 1;
}

static inline const char *tu_json_number(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		start = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

static const char *tu_json_value(const char *p, int depth)
{
	char close;

	p = tu_json_ws(p);
	if (depth > 32)
		return NULL;
	if (*p == '"')
		return tu_json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	if (*p != '{' && *p != '[')
		return tu_json_number(p);
	close = *p == '{' ? '}' : ']';
	p = tu_json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = tu_json_string(tu_json_ws(p));
			if (!p)
				return NULL;
			p = tu_json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = tu_json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = tu_json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

/* Every line of @text is one complete JSON object. Returns the number of lines. */
static inline int tu_json_lines(const char *text)
{
	int lines = 0;

	while (*text) {
		const char *nl = strchr(text, '\n'), *end;
		char *line;

		assert_non_null(nl);
		line = strndup(text, nl - text);
		assert_non_null(line);
		end = line[0] == '{' ? tu_json_value(line, 0) : NULL;
		if (!end || *end)
			fail_msg("not one JSON object: %s", line);
		free(line);
		lines++;
		text = nl + 1;
	}
	return lines;
}

#endif
