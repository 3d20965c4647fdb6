// SPDX-License-Identifier: GPL-2.0
#include "sink/escape.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";

size_t ks_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;	/* overlong or out of range */
	if (c >= 0xd800 && c <= 0xdfff)
		return 0;	/* surrogates are not characters */
	*cp = c;
	return len;
}

size_t ks_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len = ks_utf8_decode(s, n, &cp);

	if (cp >= 0x80 && cp <= 0x9f)
		return 0;	/* C1 controls: some terminals act on them */
	return len;
}

void ks_escape(struct ks_buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	if (ks_buf_reserve(out, n * 4 + 2))
		return;
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c < 0x7f) {
			if (c == '\\')
				ks_buf_put(out, "\\\\", 2);
			else
				out->p[out->len++] = c;
			continue;
		}
		if (c >= 0x80 && (l = ks_utf8_len(s + i, n - i)) > 0) {
			ks_buf_put(out, s + i, l);
			i += l - 1;
			continue;
		}
		ks_buf_ch(out, '\\');
		switch (c) {
		case '\n':
			ks_buf_ch(out, 'n');
			break;
		case '\t':
			ks_buf_ch(out, 't');
			break;
		case '\r':
			ks_buf_ch(out, 'r');
			break;
		default:
			ks_buf_ch(out, 'x');
			ks_buf_ch(out, hex[c >> 4]);
			ks_buf_ch(out, hex[c & 15]);
		}
	}
}

/* \uXXXX; the buffer has room (reserved by the caller). */
static void u_escape(struct ks_buf *out, uint32_t u)
{
	char *p = out->p + out->len;

	p[0] = '\\';
	p[1] = 'u';
	p[2] = hex[u >> 12 & 15];
	p[3] = hex[u >> 8 & 15];
	p[4] = hex[u >> 4 & 15];
	p[5] = hex[u & 15];
	out->len += 6;
}

void ks_json_str(struct ks_buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	/* the longest form of one byte is 6 (\u0001, \udcff), a UTF-8 sequence never longer */
	if (ks_buf_reserve(out, n * 6 + 2))
		return;
	out->p[out->len++] = '"';
	while (i < n && s[i]) {
		size_t start = i, l;
		unsigned char c;
		uint32_t cp;

		/* runs of plain ASCII, the common case, are copied at once */
		while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			i++;
		if (i > start) {
			memcpy(out->p + out->len, s + start, i - start);
			out->len += i - start;
			continue;
		}
		c = s[i];
		if (c == '"' || c == '\\') {
			out->p[out->len++] = '\\';
			out->p[out->len++] = c;
			i++;
			continue;
		}
		if (c < 0x80) {
			const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" :
					c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;

			if (e)
				ks_buf_put(out, e, 2);
			else
				u_escape(out, c);	/* other controls and DEL */
			i++;
			continue;
		}
		l = ks_utf8_decode(s + i, n - i, &cp);
		if (!l) {
			u_escape(out, 0xdc00 | c);	/* not UTF-8: the byte, PEP 383 style */
			i++;
		} else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
			u_escape(out, cp);
			i += l;
		} else {
			memcpy(out->p + out->len, s + i, l);
			out->len += l;
			i += l;
		}
	}
	out->p[out->len++] = '"';
}
