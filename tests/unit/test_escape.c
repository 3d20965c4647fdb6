// SPDX-License-Identifier: GPL-2.0
/* sink/escape.c: kernel bytes to display form, and to exact, lossless JSON strings. */
#include "testutil.h"

#include "sink/escape.h"

static struct ks_buf b;

static int setup(void **state)
{
	/* a tiny start makes every case go through the buffer's growth */
	return ks_buf_init(&b, -1, 1);
}

static int teardown(void **state)
{
	ks_buf_free(&b);
	return 0;
}

static const char *disp(const char *s, size_t n)
{
	b.len = 0;
	ks_escape(&b, s, n);
	return tu_text(&b);
}

static const char *json(const char *s, size_t n)
{
	b.len = 0;
	ks_json_str(&b, s, n);
	return tu_text(&b);
}

/* The input, its display form and its JSON literal (NULL: not checked). */
struct esc_case {
	const char *in;
	size_t n;		/* 0: strlen(in) */
	const char *disp, *json;
};

#define S(lit) lit, sizeof(lit) - 1

static const struct esc_case cases[] = {
	{ "plain ASCII ~!@#$%^&*()_+{}|:<>?", 0, "plain ASCII ~!@#$%^&*()_+{}|:<>?",
	  "\"plain ASCII ~!@#$%^&*()_+{}|:<>?\"" },
	{ "", 0, "", "\"\"" },
	/* JSON carries the exact text: one level of escaping, never the display form's */
	{ "a\\b", 0, "a\\\\b", "\"a\\\\b\"" },
	{ "s/\\./_/g", 0, "s/\\\\./_/g", "\"s/\\\\./_/g\"" },
	{ "say \"hi\"", 0, "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "l1\nl2\tx\ry", 0, "l1\\nl2\\tx\\ry", "\"l1\\nl2\\tx\\ry\"" },
	{ "\x01\x1b[31m\x7f\x1f", 0, "\\x01\\x1b[31m\\x7f\\x1f",
	  "\"\\u0001\\u001b[31m\\u007f\\u001f\"" },
	{ "\b\f\v", 0, "\\x08\\x0c\\x0b", "\"\\b\\f\\u000b\"" },
	/* well-formed UTF-8 of each length passes, boundaries included */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
	{ "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 0,
	  "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	  "\"\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"" },
	{ "\xed\x9f\xbf\xee\x80\x80", 0, "\xed\x9f\xbf\xee\x80\x80",	/* around surrogates */
	  "\"\xed\x9f\xbf\xee\x80\x80\"" },
	/* overlong encodings: each byte as its lone surrogate (PEP 383) */
	{ "\xc0\x80", 0, "\\xc0\\x80", "\"\\udcc0\\udc80\"" },
	{ "\xc1\xbf", 0, "\\xc1\\xbf", "\"\\udcc1\\udcbf\"" },
	{ "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf", "\"\\udce0\\udc80\\udcaf\"" },
	{ "\xe0\x9f\xbf", 0, "\\xe0\\x9f\\xbf", NULL },
	{ "\xf0\x80\x80\x80", 0, "\\xf0\\x80\\x80\\x80", NULL },
	{ "\xf0\x8f\xbf\xbf", 0, "\\xf0\\x8f\\xbf\\xbf", NULL },
	/* UTF-16 surrogates are not characters */
	{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\"\\udced\\udca0\\udc80\"" },
	{ "\xed\xbf\xbf", 0, "\\xed\\xbf\\xbf", NULL },
	/* beyond U+10FFFF */
	{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"" },
	{ "\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80", NULL },
	{ "\xf8\x88\x80\x80\x80", 0, "\\xf8\\x88\\x80\\x80\\x80", NULL },
	{ "\xfe\xff", 0, "\\xfe\\xff", "\"\\udcfe\\udcff\"" },
	/* C1 controls (U+0080..U+009F) act on some terminals: \u escapes in JSON */
	{ "\xc2\x80", 0, "\\xc2\\x80", "\"\\u0080\"" },
	{ "\xc2\x9b" "2J", 0, "\\xc2\\x9b2J", "\"\\u009b2J\"" },
	{ "\xc2\x9f", 0, "\\xc2\\x9f", "\"\\u009f\"" },
	/* line and paragraph separators: valid text, but not inside JavaScript strings */
	{ "a\xe2\x80\xa8" "b\xe2\x80\xa9", 0, "a\xe2\x80\xa8" "b\xe2\x80\xa9",
	  "\"a\\u2028b\\u2029\"" },
	/* lone continuation bytes, a lead byte followed by ASCII */
	{ "\x80\xbf", 0, "\\x80\\xbf", "\"\\udc80\\udcbf\"" },
	{ "\xe2(\xa1", 0, "\\xe2(\\xa1", "\"\\udce2(\\udca1\"" },
	{ "\xc3" "A", 0, "\\xc3A", "\"\\udcc3A\"" },
	/* sequences cut by the end of the buffer (the bytes after n are not looked at) */
	{ "a\xe2\x82", 0, "a\\xe2\\x82", "\"a\\udce2\\udc82\"" },
	{ "\xe2\x82\xac", 2, "\\xe2\\x82", "\"\\udce2\\udc82\"" },
	{ "\xf0\x9f\x98\x80", 3, "\\xf0\\x9f\\x98", "\"\\udcf0\\udc9f\\udc98\"" },
	{ "\xc3\xa9", 1, "\\xc3", "\"\\udcc3\"" },
	/* a NUL ends the string, also inside a sequence; n limits it */
	{ S("ab\0cd"), "ab", "\"ab\"" },
	{ S("\xe2\x82\0x"), "\\xe2\\x82", "\"\\udce2\\udc82\"" },
	{ "abcdef", 3, "abc", "\"abc\"" },
	{ S("\0abc"), "", "\"\"" },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct esc_case *c = &cases[i];
		size_t n = c->n ? c->n : strlen(c->in);

		if (strcmp(disp(c->in, n), c->disp))
			fail_msg("case %zu: display '%s', expected '%s'", i, b.p, c->disp);
		if (c->json && strcmp(json(c->in, n), c->json))
			fail_msg("case %zu: json '%s', expected '%s'", i, b.p, c->json);
	}
}

static unsigned int hexval(const char *p)
{
	unsigned int v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned int)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
	return v;
}

/*
 * Decode a JSON string literal the way Python's json.loads + os.fsencode would: JSON's
 * escapes, \udcNN back to the byte NN, other code points to UTF-8. Returns the length.
 */
static size_t unjson(const char *lit, size_t len, char *out)
{
	const char *p = lit + 1, *end = lit + len - 1;
	size_t n = 0;

	while (p < end) {
		unsigned int u;

		if (*p != '\\') {
			out[n++] = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'u':
			u = hexval(p + 1);
			p += 4;
			if (u >= 0xdc80 && u <= 0xdcff) {
				out[n++] = u & 0xff;
			} else if (u < 0x80) {
				out[n++] = u;
			} else if (u < 0x800) {
				out[n++] = 0xc0 | u >> 6;
				out[n++] = 0x80 | (u & 0x3f);
			} else {
				assert_false(u >= 0xd800 && u <= 0xdfff);	/* only \udcNN */
				out[n++] = 0xe0 | u >> 12;
				out[n++] = 0x80 | (u >> 6 & 0x3f);
				out[n++] = 0x80 | (u & 0x3f);
			}
			break;
		default:
			out[n++] = *p;	/* \" \\ */
		}
		p++;
	}
	return n;
}

/* Decoding the JSON form gives back the input's bytes (up to a NUL), whatever they are. */
static void round_trip(const char *in, size_t n)
{
	size_t len = strnlen(in, n), got;
	const char *lit = json(in, n), *end = tu_json_value(lit, 0);
	char *out = malloc(b.len + 1);

	assert_non_null(out);
	if (!end || *end)
		fail_msg("not a JSON string: %s", lit);
	for (size_t i = 0; i < b.len; i++)	/* no raw control byte, no DEL */
		assert_true((unsigned char)lit[i] >= 0x20 && lit[i] != 0x7f);
	got = unjson(lit, b.len, out);
	assert_int_equal(got, len);
	assert_memory_equal(out, in, len);
	free(out);
}

static void test_json_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char bytes[48];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		round_trip(cases[i].in, cases[i].n ? cases[i].n : strlen(cases[i].in));
	for (int c = 1; c < 256; c++) {
		char one = c;

		round_trip(&one, 1);
	}
	for (int i = 0; i < 20000; i++) {
		for (size_t k = 0; k < sizeof(bytes); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* lead and continuation bytes often, to build UTF-8 lookalikes */
			bytes[k] = x & 1 ? (char)(0x80 | (x >> 8 & 0x7f)) : (char)(x >> 16);
		}
		round_trip(bytes, sizeof(bytes));
	}
}

/* Every byte value alone: printable ASCII passes, everything else is \xNN or \n \t \r. */
static void test_every_byte(void **state)
{
	for (int c = 1; c < 256; c++) {
		char in = c, expect[8];

		if (c == '\\')
			strcpy(expect, "\\\\");
		else if (c == '\n' || c == '\t' || c == '\r')
			snprintf(expect, sizeof(expect), "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
		else if (c >= 0x20 && c < 0x7f)
			snprintf(expect, sizeof(expect), "%c", c);
		else
			snprintf(expect, sizeof(expect), "\\x%02x", c);
		assert_string_equal(disp(&in, 1), expect);
	}
}

static void test_utf8_len(void **state)
{
	assert_int_equal(ks_utf8_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 3), 0);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\xc2\x85", 2), 0);
	assert_int_equal(ks_utf8_len((const unsigned char *)"\x80", 1), 0);
}

/* Appending keeps what was there, and long inputs grow the buffer. */
static void test_append_and_grow(void **state)
{
	char in[3000];

	b.len = 0;
	ks_buf_str(&b, "x=");
	ks_json_str(&b, "\x01", 1);
	ks_buf_ch(&b, ' ');
	ks_escape(&b, "\t", 1);
	assert_string_equal(tu_text(&b), "x=\"\\u0001\" \\t");

	memset(in, 0xff, sizeof(in));	/* the longest form: six bytes per byte */
	json(in, sizeof(in));
	assert_int_equal(b.len, 2 + 6 * sizeof(in));
	assert_memory_equal(b.p + 1, "\\udcff\\udcff", 12);
	assert_true(b.cap >= b.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_byte, setup, teardown),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test_setup_teardown(test_append_and_grow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
