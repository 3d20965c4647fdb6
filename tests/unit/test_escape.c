// SPDX-License-Identifier: GPL-2.0
/* sink/escape.c: kernel bytes to display form and to JSON string literals. */
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
	ks_escape_json(&b, s, n);
	return tu_text(&b);
}

/* The input, its display form and its JSON literal. */
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
	{ "a\\b", 0, "a\\\\b", "\"a\\\\\\\\b\"" },
	{ "say \"hi\"", 0, "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "l1\nl2\tx\ry", 0, "l1\\nl2\\tx\\ry", "\"l1\\\\nl2\\\\tx\\\\ry\"" },
	{ "\x01\x1b[31m\x7f\x1f", 0, "\\x01\\x1b[31m\\x7f\\x1f",
	  "\"\\\\x01\\\\x1b[31m\\\\x7f\\\\x1f\"" },
	{ "\b\f\v", 0, "\\x08\\x0c\\x0b", "\"\\\\x08\\\\x0c\\\\x0b\"" },
	/* well-formed UTF-8 of each length passes, boundaries included */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
	{ "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 0,
	  "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", NULL },
	{ "\xed\x9f\xbf\xee\x80\x80", 0, "\xed\x9f\xbf\xee\x80\x80", NULL },	/* around surrogates */
	/* overlong encodings */
	{ "\xc0\x80", 0, "\\xc0\\x80", "\"\\\\xc0\\\\x80\"" },
	{ "\xc1\xbf", 0, "\\xc1\\xbf", NULL },
	{ "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf", NULL },
	{ "\xe0\x9f\xbf", 0, "\\xe0\\x9f\\xbf", NULL },
	{ "\xf0\x80\x80\x80", 0, "\\xf0\\x80\\x80\\x80", NULL },
	{ "\xf0\x8f\xbf\xbf", 0, "\\xf0\\x8f\\xbf\\xbf", NULL },
	/* UTF-16 surrogates are not characters */
	{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\"\\\\xed\\\\xa0\\\\x80\"" },
	{ "\xed\xbf\xbf", 0, "\\xed\\xbf\\xbf", NULL },
	/* beyond U+10FFFF */
	{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", NULL },
	{ "\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80", NULL },
	{ "\xf8\x88\x80\x80\x80", 0, "\\xf8\\x88\\x80\\x80\\x80", NULL },
	{ "\xfe\xff", 0, "\\xfe\\xff", NULL },
	/* C1 controls (U+0080..U+009F) act on some terminals */
	{ "\xc2\x80", 0, "\\xc2\\x80", "\"\\\\xc2\\\\x80\"" },
	{ "\xc2\x9b" "2J", 0, "\\xc2\\x9b2J", NULL },
	{ "\xc2\x9f", 0, "\\xc2\\x9f", NULL },
	/* lone continuation bytes, a lead byte followed by ASCII */
	{ "\x80\xbf", 0, "\\x80\\xbf", NULL },
	{ "\xe2(\xa1", 0, "\\xe2(\\xa1", NULL },
	{ "\xc3" "A", 0, "\\xc3A", NULL },
	/* sequences cut by the end of the buffer (the bytes after n are not looked at) */
	{ "a\xe2\x82", 0, "a\\xe2\\x82", NULL },
	{ "\xe2\x82\xac", 2, "\\xe2\\x82", "\"\\\\xe2\\\\x82\"" },
	{ "\xf0\x9f\x98\x80", 3, "\\xf0\\x9f\\x98", NULL },
	{ "\xc3\xa9", 1, "\\xc3", NULL },
	/* a NUL ends the string, also inside a sequence; n limits it */
	{ S("ab\0cd"), "ab", "\"ab\"" },
	{ S("\xe2\x82\0x"), "\\xe2\\x82", NULL },
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

/* The JSON form is always a valid JSON string, and it decodes to the display form. */
static void test_json_is_display_quoted(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct esc_case *c = &cases[i];
		size_t n = c->n ? c->n : strlen(c->in);
		char *d = strdup(disp(c->in, n)), *j = strdup(json(c->in, n)), *out = j;
		const char *end = tu_json_value(j, 0);

		assert_non_null(end);
		assert_int_equal(*end, 0);
		/* decode the two escapes JSON output uses: \\ and \" */
		for (const char *p = j + 1; p < end - 1; p++)
			*out++ = *p == '\\' ? *++p : *p;
		*out = 0;
		if (strcmp(j, d))
			fail_msg("case %zu: JSON decodes to '%s', display is '%s'", i, j, d);
		free(d);
		free(j);
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
	ks_escape_json(&b, "\x01", 1);
	ks_buf_ch(&b, ' ');
	ks_escape(&b, "\t", 1);
	assert_string_equal(tu_text(&b), "x=\"\\\\x01\" \\t");

	memset(in, 0x7f, sizeof(in));
	json(in, sizeof(in));
	assert_int_equal(b.len, 2 + 5 * sizeof(in));
	assert_memory_equal(b.p + 1, "\\\\x7f\\\\x7f", 10);
	assert_true(b.cap >= b.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_is_display_quoted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_byte, setup, teardown),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test_setup_teardown(test_append_and_grow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
