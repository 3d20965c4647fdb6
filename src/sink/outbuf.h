/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A growable byte buffer with fast appends, and a writer that flushes one to a file
 * descriptor. The per-event output path formats into it without stdio or allocation.
 */
#ifndef KSIGHT_OUTBUF_H
#define KSIGHT_OUTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ks_buf {
	char *p;
	size_t len, cap;
	int fd;			/* where ks_buf_flush writes; -1: nowhere (tests) */
	int err;		/* first write error (e.g. EPIPE), then writes are dropped */
};

/* Set up an empty buffer for @fd. Returns 0 or -ENOMEM. Free with ks_buf_free. */
int ks_buf_init(struct ks_buf *b, int fd, size_t cap);
void ks_buf_free(struct ks_buf *b);

/* ks_buf_reserve's slow path: grow the buffer. Returns 0 or -ENOMEM. */
int ks_buf_grow(struct ks_buf *b, size_t n);

/*
 * Make room for @n more bytes; returns 0 or -ENOMEM (the buffer is left as it was).
 * The appends below are inline: they run a dozen times per streamed record.
 */
static inline int ks_buf_reserve(struct ks_buf *b, size_t n)
{
	if (n <= b->cap - b->len)
		return 0;
	return ks_buf_grow(b, n);
}

static inline void ks_buf_put(struct ks_buf *b, const void *s, size_t n)
{
	if (ks_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* @s NUL-terminated; a literal's length is known at compile time. */
static inline void ks_buf_str(struct ks_buf *b, const char *s)
{
	ks_buf_put(b, s, strlen(s));
}

static inline void ks_buf_ch(struct ks_buf *b, char c)
{
	if (ks_buf_reserve(b, 1))
		return;
	b->p[b->len++] = c;
}

void ks_buf_u64(struct ks_buf *b, uint64_t v);
void ks_buf_i64(struct ks_buf *b, int64_t v);
/* Right- (width > 0) or left- (width < 0) aligned in |width| columns, padding with spaces. */
void ks_buf_pad(struct ks_buf *b, const char *s, size_t n, int width);
void ks_buf_printf(struct ks_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write everything out to b->fd. Returns 0 or -errno (also kept in b->err). */
int ks_buf_flush(struct ks_buf *b);

static inline void ks_buf_reset(struct ks_buf *b)
{
	b->len = 0;
}

#endif
