// SPDX-License-Identifier: GPL-2.0
#include "sink/escape.h"

#include <stdint.h>

static const char hex[] = "0123456789abcdef";

size_t ks_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;	/* overlong or out of range */
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;	/* surrogates are not characters */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;	/* C1 controls: some terminals act on them */
	return len;
}

/*
 * One pass for both forms. @json adds a second level: the display form's backslashes
 * are themselves escaped and double quotes become \".
 */
static void escape(struct ks_buf *out, const char *str, size_t n, int json)
{
	const unsigned char *s = (const unsigned char *)str;
	const char *bs = json ? "\\\\" : "\\";
	size_t bsl = json ? 2 : 1;

	if (ks_buf_reserve(out, n * (json ? 5 : 4) + 2))
		return;
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c < 0x7f) {
			if (c == '\\') {
				ks_buf_put(out, bs, bsl);
				ks_buf_put(out, bs, bsl);
			} else if (c == '"' && json) {
				ks_buf_put(out, "\\\"", 2);
			} else {
				out->p[out->len++] = c;
			}
			continue;
		}
		if (c >= 0x80 && (l = ks_utf8_len(s + i, n - i)) > 0) {
			ks_buf_put(out, s + i, l);
			i += l - 1;
			continue;
		}
		ks_buf_put(out, bs, bsl);
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

void ks_escape(struct ks_buf *out, const char *s, size_t n)
{
	escape(out, s, n, 0);
}

void ks_escape_json(struct ks_buf *out, const char *s, size_t n)
{
	ks_buf_ch(out, '"');
	escape(out, s, n, 1);
	ks_buf_ch(out, '"');
}
