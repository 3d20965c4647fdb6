// SPDX-License-Identifier: GPL-2.0
/* sink/table.c through ks_sink__new: columns, headers, summary lines, histogram blocks. */
#include "testutil.h"

#include <errno.h>
#include <time.h>

#include "sink/sink.h"

#define T0 1700000000123456789LL	/* 2023-11-14T22:13:20.123456789Z */

static struct ks_clock clk;
static struct ks_sink *s;
static int fd;
static const struct ks_hdr hdr = { .pid = 42, .tid = 43, .comm = "bash" };
static const char args[] = "ls\0\0a b\0say \"hi\"\0x\"y";	/* 5 arguments */

static int open_sink(bool timestamps)
{
	setenv("TZ", "UTC", 1);
	tzset();
	ks_clock_init(&clk);
	fd = tu_memfd();
	s = ks_sink__new(&ks_table_ops, fd, 0, false, timestamps, &clk);
	return s ? 0 : -1;
}

static int setup(void **state)
{
	return open_sink(false);
}

static int setup_ts(void **state)
{
	return open_sink(true);
}

static int teardown(void **state)
{
	ks_sink__free(s);
	close(fd);
	return 0;
}

/* Emit, flush, and return everything written since the last call (caller frees). */
static char *out(const struct ks_rec *r)
{
	if (r)
		ks_sink__emit(s, r);
	assert_int_equal(ks_sink__flush(s), 0);
	return tu_take(fd);
}

static void expect(const struct ks_rec *r, const char *text)
{
	char *got = out(r);

	assert_string_equal(got, text);
	free(got);
}

static struct ks_val *add(struct ks_rec *r, const char *key, const char *col, int w,
			  enum ks_kind kind)
{
	return ks_rec_add(r, key, col, w, kind);
}

/* One value of every kind a row shows. */
static void demo(struct ks_rec *r, const char *type)
{
	struct ks_val *v;

	ks_rec_init(r, type, &hdr);
	r->real_ns = T0;
	ks_rec_int(r, "i", "I", 5, -12);
	ks_rec_uint(r, "u", "U", -6, 7);
	add(r, "flags", "FLAGS", 6, KS_V_HEX)->u = 0x1f;
	add(r, "mode", "MODE", 5, KS_V_OCT)->u = 0644;
	add(r, "ratio", "RATIO", 6, KS_V_DOUBLE)->d = 3.14159;
	add(r, "ok", "OK", 3, KS_V_BOOL)->u = 1;
	ks_rec_str(r, "s", "S", -4, "abc", 3);
	ks_rec_kstr(r, "path", "PATH", -12, "a\tb\x1b", 4, false);
	ks_rec_kstr(r, "ck", "CUT", -6, "abcdef", 6, true);
	add(r, "err", "ERR", -7, KS_V_ERRNO)->i = ENOENT;
	add(r, "lat", "LAT", 7, KS_V_NS)->u = 1500;
	ks_rec_uint(r, "json_only", NULL, 0, 5);
	v = add(r, "args", "ARGS", 0, KS_V_ARGV);
	v->s.p = args;
	v->s.n = sizeof(args) - 1;
}

#define DEMO_HEADER "    I U       FLAGS  MODE  RATIO  OK S    PATH         CUT    ERR    " \
		    "     LAT ARGS\n"
#define DEMO_ROW "  -12 7        0x1f  0644    3.1 yes abc  a\\tb\\x1b     abcdef... ENOENT " \
		 "   1.5us ls \"\" \"a b\" \"say \\\"hi\\\"\" \"x\\\"y\"\n"

static void test_row_kinds(void **state)
{
	struct ks_rec r;

	demo(&r, "demo");
	expect(&r, DEMO_HEADER DEMO_ROW);
}

static void test_header_once_per_group(void **state)
{
	struct ks_rec r, o;

	demo(&r, "demo");
	ks_rec_init(&o, "other", NULL);
	ks_rec_uint(&o, "n", "N", 3, 1);
	ks_rec_str(&o, "w", "WHAT", 0, "x", 1);

	ks_sink__emit(s, &r);
	ks_sink__emit(s, &r);
	ks_sink__emit(s, &o);
	ks_sink__emit(s, &o);
	ks_sink__emit(s, &r);
	expect(NULL, DEMO_HEADER DEMO_ROW DEMO_ROW "  N WHAT\n  1 x\n  1 x\n" DEMO_HEADER DEMO_ROW);

	/* records of another type in the same group share the header */
	ks_sink__emit(s, &o);
	ks_sink__emit(s, &r);
	demo(&r, "demo2");
	r.group = "demo";
	ks_sink__emit(s, &r);
	expect(NULL, "  N WHAT\n  1 x\n" DEMO_HEADER DEMO_ROW DEMO_ROW);
	demo(&r, "demo");
	expect(&r, DEMO_ROW);
	ks_sink__emit(s, &o);
	demo(&r, "demo2");
	r.group = "demo";
	expect(&r, "  N WHAT\n  1 x\n" DEMO_HEADER DEMO_ROW);
}

static void test_values(void **state)
{
	struct ks_rec r;
	struct ks_val *v;

	ks_rec_init(&r, "vals", NULL);
	ks_rec_int(&r, NULL, "MIN", 0, INT64_MIN);
	ks_rec_uint(&r, NULL, "MAX", 0, UINT64_MAX);
	add(&r, NULL, "HEX", 0, KS_V_HEX)->u = 0;
	add(&r, NULL, "OCT", 0, KS_V_OCT)->u = 0;
	add(&r, NULL, "NO", 0, KS_V_BOOL)->u = 0;
	add(&r, NULL, "E0", 0, KS_V_ERRNO)->i = EPERM;
	add(&r, NULL, "E1", 0, KS_V_ERRNO)->i = 4095;	/* no name: the number */
	add(&r, NULL, "NS", 0, KS_V_NS)->u = 2500000000ULL;
	ks_rec_kstr(&r, NULL, "COMM", 0, "sh\0garbage", 16, false);	/* ends at the NUL */
	ks_rec_kstr(&r, NULL, "K", 0, "x\xc3\xa9y\xff", 5, false);
	v = add(&r, NULL, "A", 0, KS_V_ARGV);
	v->s.p = "a\nb\0c\\ d\0";	/* a trailing empty argument */
	v->s.n = 9;
	v = add(&r, NULL, "CUT", 0, KS_V_ARGV);
	v->s.p = "sleep\0" "1";
	v->s.n = 7;
	v->cut = 1;
	expect(&r, "MIN MAX HEX OCT NO E0 E1 NS COMM K A CUT\n"
		   "-9223372036854775808 18446744073709551615 0x0 00 no EPERM 4095 2.5s sh "
		   "x\xc3\xa9y\\xff a\\nb \"c\\\\ d\" \"\" sleep 1 ...\n");

	/* no arguments at all */
	ks_rec_init(&r, "empty", NULL);
	v = add(&r, NULL, "ARGS", 0, KS_V_ARGV);
	v->s.p = "";
	v->s.n = 0;
	ks_rec_str(&r, NULL, "END", 0, "|", 1);
	expect(&r, "ARGS END\n |\n");
}

/* Arguments are quoted when a reader could not split them back otherwise. */
static void test_argv_unambiguous(void **state)
{
	struct ks_rec r1, r2;
	struct ks_val *v;
	char *a, *b;

	/* ["\"a", "b\""] and ["a b"] must not look alike */
	ks_rec_init(&r1, "x", NULL);
	v = add(&r1, NULL, "ARGS", 0, KS_V_ARGV);
	v->s.p = "\"a\0b\"";
	v->s.n = 5;
	ks_rec_init(&r2, "x", NULL);
	v = add(&r2, NULL, "ARGS", 0, KS_V_ARGV);
	v->s.p = "a b";
	v->s.n = 3;
	a = out(&r1);
	b = out(&r2);
	assert_string_equal(a, "ARGS\n\"\\\"a\" \"b\\\"\"\n");
	assert_string_equal(b, "\"a b\"\n");
	free(a);
	free(b);
}

static void test_timestamps(void **state)
{
	struct ks_rec r;

	ks_rec_init(&r, "t", &hdr);
	r.real_ns = T0;
	ks_rec_uint(&r, "pid", "PID", -7, 42);
	ks_rec_str(&r, "what", "WHAT", 0, "x", 1);
	expect(&r, "TIME     PID     WHAT\n22:13:20 42      x\n");
	r.real_ns = T0 + 3600LL * 1000000000;
	expect(&r, "23:13:20 42      x\n");
}

static void summary(struct ks_rec *r, bool hidden_first)
{
	ks_rec_init(r, "summary", NULL);
	r->style = KS_REC_LINE;
	r->real_ns = T0;
	if (hidden_first)
		ks_rec_uint(r, "interval_s", NULL, 0, 5);	/* JSON only */
	ks_rec_str(r, "module", "", -8, "exec", 4);
	add(r, "execs_per_s", "exec/s", 0, KS_V_DOUBLE)->d = 2.5;
	ks_rec_uint(r, "failed", "failed", 0, 3);
	ks_rec_kstr(r, "top", "top:", 0, "bash 3, sh 1", 12, false);
}

static void test_line(void **state)
{
	struct ks_rec r, row;

	summary(&r, false);
	expect(&r, "exec      exec/s 2.5  failed 3  top: bash 3, sh 1\n");
	/* a JSON-only first value adds no separator */
	summary(&r, true);
	expect(&r, "exec      exec/s 2.5  failed 3  top: bash 3, sh 1\n");

	/* a line between rows: the next row repeats its header */
	ks_rec_init(&row, "r", NULL);
	ks_rec_uint(&row, "n", "N", 0, 1);
	ks_sink__emit(s, &row);
	summary(&r, false);
	ks_sink__emit(s, &r);
	ks_sink__emit(s, &row);
	expect(NULL, "N\n1\nexec      exec/s 2.5  failed 3  top: bash 3, sh 1\nN\n1\n");
}

static void test_line_timestamps(void **state)
{
	struct ks_rec r;

	summary(&r, true);
	expect(&r, "22:13:20 exec      exec/s 2.5  failed 3  top: bash 3, sh 1\n");
}

/* The agent's summary lines: human units, a nested top list, kernel bytes escaped. */
static void test_summary_units(void **state)
{
	struct ks_val items[3];
	struct ks_obj top;
	struct ks_rec r;
	struct ks_val *v;

	ks_obj_init(&top, items, 2);
	v = ks_obj_add(&top, "post\x1bgres", NULL, 0, KS_V_COUNT);
	v->u = 12345;
	v->kkey = 1;
	ks_obj_add(&top, "(other)", NULL, 0, KS_V_COUNT)->u = 7;
	ks_obj_add(&top, "dropped", NULL, 0, KS_V_COUNT)->u = 1;	/* past cap: counted */
	assert_int_equal(top.dropped, 1);
	ks_rec_summary(&r, "rw");
	add(&r, "calls_per_s", "calls", 0, KS_V_RATE)->d = 1234.4;
	add(&r, "read_bytes_per_s", "read", 0, KS_V_BYTE_RATE)->d = 30168318.5;
	add(&r, "bytes", "total", 0, KS_V_BYTES)->u = 512;
	add(&r, "lat_ns", "p99", 0, KS_V_NS)->u = 1500000;
	ks_rec_obj(&r, "top", "top:", &top);
	expect(&r, "rw        calls 1234/s  read 28.8 MiB/s  total 512 B  p99 1.5ms  "
		   "top: post\\x1bgres 12.3k, (other) 7, (+1 not shown)\n");
	/* an empty list shows nothing after its label */
	ks_obj_init(&top, items, 2);
	ks_rec_summary(&r, "open");
	add(&r, "opens_per_s", "opens", 0, KS_V_RATE)->d = 0;
	ks_rec_obj(&r, "top", "top:", &top);
	expect(&r, "open      opens 0.0/s  top: \n");
}

/* Values past what a record holds are said on its line, never dropped silently. */
static void test_values_dropped(void **state)
{
	struct ks_rec r;

	ks_rec_init(&r, "many", NULL);
	for (int i = 0; i < KS_REC_MAX + 3; i++)
		ks_rec_uint(&r, "v", i < 2 ? "V" : NULL, 0, i);
	assert_int_equal(r.n, KS_REC_MAX);
	assert_int_equal(r.dropped, 3);
	expect(&r, "V V\n0 1  [3 values dropped]\n");
	r.style = KS_REC_LINE;
	expect(&r, "V 0  V 1  [3 values dropped]\n");
}

static void test_block(void **state)
{
	const __u64 slots[8] = { [1] = 10, [3] = 80, [4] = 10 };
	const __u64 none[8] = { 0 };
	struct ks_histv hv = { slots, 8, "usecs", 1000 }, he = { none, 8, "msecs", 1e6 };
	struct ks_rec r;

	ks_rec_init(&r, "biolat", NULL);
	r.style = KS_REC_BLOCK;
	ks_rec_str(&r, "disk", "disk", 0, "sda", 3);
	ks_rec_uint(&r, "count", NULL, 0, 100);
	add(&r, "hist", "hist", 0, KS_V_HIST)->h = &hv;
	expect(&r, "disk = sda\n"
		   "                  usecs      : count    distribution\n"
		   "             0 -> 1          : 0        |                                        |\n"
		   "             2 -> 3          : 10       |*****                                   |\n"
		   "             4 -> 7          : 0        |                                        |\n"
		   "             8 -> 15         : 80       |****************************************|\n"
		   "            16 -> 31         : 10       |*****                                   |\n"
		   "p50 12us  p90 16us  p99 30us  count 100\n\n");

	ks_rec_init(&r, "biolat", NULL);
	r.style = KS_REC_BLOCK;
	add(&r, "hist", "hist", 0, KS_V_HIST)->h = &he;
	expect(&r, "                  msecs      : count    distribution\n"
		   "p50 -  p90 -  p99 -  count 0\n\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_row_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_once_per_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_unambiguous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup_ts, teardown),
		cmocka_unit_test_setup_teardown(test_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_timestamps, setup_ts, teardown),
		cmocka_unit_test_setup_teardown(test_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
