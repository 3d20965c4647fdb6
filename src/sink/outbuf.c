// SPDX-License-Identifier: GPL-2.0
#include "sink/outbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ks_buf_init(struct ks_buf *b, int fd, size_t cap)
{
	b->p = malloc(cap ? cap : 256);
	if (!b->p)
		return -ENOMEM;
	b->len = 0;
	b->cap = cap ? cap : 256;
	b->fd = fd;
	b->err = 0;
	return 0;
}

void ks_buf_free(struct ks_buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int ks_buf_grow(struct ks_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return -ENOMEM;	/* len + n, or the doubling below, would overflow */
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void ks_buf_u64(struct ks_buf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	ks_buf_put(b, tmp + i, sizeof(tmp) - i);
}

void ks_buf_i64(struct ks_buf *b, int64_t v)
{
	if (v < 0) {
		ks_buf_ch(b, '-');
		ks_buf_u64(b, -(uint64_t)v);
	} else {
		ks_buf_u64(b, v);
	}
}

void ks_buf_pad(struct ks_buf *b, const char *s, size_t n, int width)
{
	size_t w = width < 0 ? -width : width;
	size_t fill = n < w ? w - n : 0;

	if (ks_buf_reserve(b, n + fill))
		return;
	if (width > 0) {
		memset(b->p + b->len, ' ', fill);
		b->len += fill;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	if (width < 0) {
		memset(b->p + b->len, ' ', fill);
		b->len += fill;
	}
}

void ks_buf_printf(struct ks_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ks_buf_reserve(b, n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

int ks_buf_flush(struct ks_buf *b)
{
	size_t off = 0;

	if (b->fd < 0 || b->err) {
		b->len = 0;
		return b->err ? -b->err : 0;
	}
	while (off < b->len) {
		ssize_t n = write(b->fd, b->p + off, b->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			b->err = errno;
			break;
		}
		off += n;
	}
	b->len = 0;
	return b->err ? -b->err : 0;
}
