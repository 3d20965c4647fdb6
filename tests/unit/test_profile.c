// SPDX-License-Identifier: GPL-2.0
/* modules/profile_svg.c: folded stacks merged, frame names, the flame graph's SVG. */
#include "testutil.h"

#include "modules/profile_int.h"

static void test_fset_merge(void **state)
{
	struct profile_fset s = {};

	assert_int_equal(profile_fset_add(&s, "a;b;c", 3), 0);
	assert_int_equal(profile_fset_add(&s, "a;b", 1), 0);
	assert_int_equal(profile_fset_add(&s, "a;b;c", 4), 0);
	assert_int_equal(profile_fset_add(&s, "a b;c", 2), 0);
	profile_fset_merge(&s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.e[0].stack, "a b;c");
	assert_string_equal(s.e[1].stack, "a;b");
	assert_int_equal(s.e[1].count, 1);
	assert_string_equal(s.e[2].stack, "a;b;c");
	assert_int_equal(s.e[2].count, 7);
	profile_fset_free(&s);
}

static void test_frame_text(void **state)
{
	struct ks_frame named = { .name = "f;g", .module = "lib.so" };
	struct ks_frame file = { .module = "lib.so", .res = KS_SYM_NO_SYMS };
	struct ks_frame none = { .res = KS_SYM_NO_MAP };
	char buf[64];

	profile_frame_text(&named, false, true, buf, sizeof(buf));
	assert_string_equal(buf, "f:g");	/* ';' would split the frame */
	profile_frame_text(&named, true, true, buf, sizeof(buf));
	assert_string_equal(buf, "f:g_[k]");
	profile_frame_text(&file, false, true, buf, sizeof(buf));
	assert_string_equal(buf, "[lib.so]");
	profile_frame_text(&none, true, false, buf, sizeof(buf));
	assert_string_equal(buf, "[unknown]");
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Frames: all, comm, then each distinct prefix once: all, p, main, spin, work, p2, x&y. */
static void test_svg(void **state)
{
	struct profile_fset s = {};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	profile_fset_add(&s, "p;main;spin", 90);
	profile_fset_add(&s, "p;main;work", 9);
	profile_fset_add(&s, "p;main", 1);
	profile_fset_add(&s, "p2;x&y<z>_[k]", 100);
	profile_fset_merge(&s);
	assert_int_equal(profile_svg_write(f, &s, "t\"1\""), 0);
	fclose(f);
	assert_int_equal(count(text, "<g class=\"f\">"), 7);
	assert_int_equal(count(text, "</g>"), 7);
	assert_non_null(strstr(text, "<title>all (200 samples, 100.00%)</title>"));
	assert_non_null(strstr(text, "<title>main (100 samples, 50.00%)</title>"));
	assert_non_null(strstr(text, "<title>spin (90 samples, 45.00%)</title>"));
	assert_non_null(strstr(text, "<title>x&amp;y&lt;z&gt;_[k] (100 samples, 50.00%)</title>"));
	assert_non_null(strstr(text, "t&quot;1&quot; (200 samples"));
	assert_null(strstr(text, "x&y"));
	assert_true(len > 0 && !strcmp(text + len - 7, "</svg>\n"));
	free(text);
	profile_fset_free(&s);

	/* nothing sampled: still a document */
	f = open_memstream(&text, &len);
	assert_int_equal(profile_svg_write(f, &s, "empty"), 0);
	fclose(f);
	assert_int_equal(count(text, "<g class"), 0);
	assert_non_null(strstr(text, "</svg>"));
	free(text);
}

/* The fill of the frame titled @title (its first rectangle after it). */
static void fill_of(const char *text, const char *title, char *out, size_t len)
{
	const char *t = strstr(text, title), *f;

	assert_non_null(t);
	f = strstr(t, "fill=\"");
	assert_non_null(f);
	f += 6;
	snprintf(out, len, "%.*s", (int)(strchr(f, '"') - f), f);
}

/* --wall: weights in ns shown as ms, each kind's frames in its own colour */
static void test_svg_wall(void **state)
{
	struct profile_fset s = {};
	char *text = NULL, on[32], rq[32], off[32], leaf[32];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	profile_fset_add(&s, "p;[on-cpu];main;spin", 2000000);
	profile_fset_add(&s, "p;[runqueue];main;spin", 1000000);
	profile_fset_add(&s, "p;[off-cpu];main;nap;schedule_[k]", 1000000);
	profile_fset_merge(&s);
	assert_int_equal(profile_svg_write(f, &s, "w"), 0);
	fclose(f);
	assert_non_null(strstr(text, "<title>all (4.000 ms, 100.00%)</title>"));
	assert_non_null(strstr(text, "<title>[runqueue] (1.000 ms, 25.00%)</title>"));
	assert_non_null(strstr(text, "w (4.0 ms of wall time"));
	fill_of(text, "<title>[on-cpu] ", on, sizeof(on));
	fill_of(text, "<title>[runqueue] ", rq, sizeof(rq));
	fill_of(text, "<title>[off-cpu] ", off, sizeof(off));
	assert_string_not_equal(on, rq);
	assert_string_not_equal(rq, off);
	assert_string_not_equal(on, off);
	/* a frame above a kind is coloured as that kind: off-CPU blue (blue the largest) */
	fill_of(text, "<title>nap ", leaf, sizeof(leaf));
	{
		int r, g, b;

		assert_int_equal(sscanf(leaf, "rgb(%d,%d,%d)", &r, &g, &b), 3);
		assert_true(b > r && b > g);
	}
	free(text);
	profile_fset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fset_merge),
		cmocka_unit_test(test_frame_text),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_svg_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
