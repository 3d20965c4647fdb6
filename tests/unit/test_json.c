// SPDX-License-Identifier: GPL-2.0
/* sink/json.c through ks_sink__new: one valid JSON object per record, exact text. */
#include "testutil.h"

#include <errno.h>

#include "sink/sink.h"

#define T0 1700000000123456789LL
#define TS "\"ts\":\"2023-11-14T22:13:20.123456789Z\""

static struct ks_clock clk;
static struct ks_sink *s;
static int fd;
static struct ks_hdr hdr = { .pid = 42, .tid = 43, .cgroup = 4242, .comm = "bash" };
static const char args[] = "ls\0\0a b\0say \"hi\"\0x\"y";

static int setup(void **state)
{
	ks_clock_init(&clk);
	clk.mono_to_real = 0;
	fd = tu_memfd();
	s = ks_sink__new(&ks_json_ops, fd, 0, false, true, &clk);	/* -T changes nothing in JSON */
	return s ? 0 : -1;
}

static int teardown(void **state)
{
	ks_sink__free(s);
	close(fd);
	return 0;
}

/* Emit @r and check the exact line, and that it is valid JSON. */
static void expect(const struct ks_rec *r, const char *line)
{
	char *got;

	ks_sink__emit(s, r);
	assert_int_equal(ks_sink__flush(s), 0);
	got = tu_take(fd);
	assert_string_equal(got, line);
	assert_int_equal(tu_json_lines(got), 1);
	free(got);
}

static struct ks_val *add(struct ks_rec *r, const char *key, const char *col, enum ks_kind k)
{
	return ks_rec_add(r, key, col, 0, k);
}

static void test_every_kind(void **state)
{
	struct ks_rec r;
	struct ks_val *v;

	ks_rec_init(&r, "demo", &hdr);
	r.real_ns = T0;
	r.service = "nginx.service";
	ks_rec_int(&r, "i", "I", 5, -12);
	ks_rec_uint(&r, "u", "U", -6, 7);
	add(&r, "flags", "FLAGS", KS_V_HEX)->u = 0x1f;
	add(&r, "mode", "MODE", KS_V_OCT)->u = 0644;
	add(&r, "ratio", "RATIO", KS_V_DOUBLE)->d = 3.14159;
	add(&r, "ok", "OK", KS_V_BOOL)->u = 1;
	add(&r, "no", NULL, KS_V_BOOL)->u = 0;
	ks_rec_str(&r, "s", "S", -4, "a \"b\"", 5);
	ks_rec_kstr(&r, "path", "PATH", -12, "a\tb\x1b/\xc3\xa9", 7, false);
	ks_rec_kstr(&r, "ck", "CUT", -6, "abcdef", 6, true);	/* cut: a table mark only */
	add(&r, "err", "ERR", KS_V_ERRNO)->i = ENOENT;
	add(&r, "lat", "LAT", KS_V_NS)->u = 1500;
	ks_rec_uint(&r, NULL, "TABLE", 0, 99);	/* a table-only column */
	v = add(&r, "args", "ARGS", KS_V_ARGV);
	v->s.p = args;
	v->s.n = sizeof(args) - 1;
	expect(&r, "{\"type\":\"demo\"," TS ",\"pid\":42,\"tid\":43,\"comm\":\"bash\","
		   "\"service\":\"nginx.service\",\"cgroup\":4242,\"i\":-12,\"u\":7,\"flags\":31,\"mode\":420,"
		   "\"ratio\":3.14159,\"ok\":true,\"no\":false,\"s\":\"a \\\"b\\\"\","
		   "\"path\":\"a\\tb\\u001b/\xc3\xa9\",\"ck\":\"abcdef\",\"err\":\"ENOENT\","
		   "\"lat\":1500,\"args\":[\"ls\",\"\",\"a b\",\"say \\\"hi\\\"\",\"x\\\"y\"]}\n");
}

static void test_header_fields(void **state)
{
	struct ks_rec r;

	/* no task: no pid, tid, comm, service, cgroup */
	ks_rec_init(&r, "summary", NULL);
	r.real_ns = 0;
	ks_rec_uint(&r, "n", NULL, 0, 1);
	expect(&r, "{\"type\":\"summary\",\"ts\":\"1970-01-01T00:00:00.000000000Z\",\"n\":1}\n");

	/* a task without a known service; a comm with control bytes and no NUL */
	memcpy(hdr.comm, "ab\x01\"\\\n0123456789", 16);
	ks_rec_init(&r, "t", &hdr);
	r.real_ns = T0;
	expect(&r, "{\"type\":\"t\"," TS ",\"pid\":42,\"tid\":43,"
		   "\"comm\":\"ab\\u0001\\\"\\\\\\n0123456789\",\"service\":null,"
		   "\"cgroup\":4242}\n");
	strcpy(hdr.comm, "bash");

	/* made in an interrupt, with no task: the header's zeros are not shown as a task */
	hdr.flags = KS_HDR_F_NOTASK;
	ks_rec_init(&r, "irq", &hdr);
	r.real_ns = T0;
	ks_rec_uint(&r, "n", NULL, 0, 2);
	expect(&r, "{\"type\":\"irq\"," TS ",\"n\":2}\n");
	/* an owner the producer named reads like the current task */
	hdr.flags = KS_HDR_F_OWNER;
	ks_rec_init(&r, "owned", &hdr);
	r.real_ns = T0;
	expect(&r, "{\"type\":\"owned\"," TS ",\"pid\":42,\"tid\":43,\"comm\":\"bash\","
		   "\"service\":null,\"cgroup\":4242}\n");
	hdr.flags = 0;

	/* no values at all */
	ks_rec_init(&r, "empty", NULL);
	r.real_ns = -1;
	expect(&r, "{\"type\":\"empty\",\"ts\":\"1969-12-31T23:59:59.999999999Z\"}\n");
}

static void test_numbers(void **state)
{
	struct ks_rec r;

	ks_rec_init(&r, "n", NULL);
	r.real_ns = T0;
	ks_rec_int(&r, "min", NULL, 0, INT64_MIN);
	ks_rec_uint(&r, "max", NULL, 0, UINT64_MAX);
	add(&r, "zero", NULL, KS_V_DOUBLE)->d = 0;
	add(&r, "neg0", NULL, KS_V_DOUBLE)->d = -0.0;
	add(&r, "big", NULL, KS_V_DOUBLE)->d = 1e300;
	add(&r, "small", NULL, KS_V_DOUBLE)->d = -2.5e-7;
	add(&r, "nan", NULL, KS_V_DOUBLE)->d = NAN;
	add(&r, "inf", NULL, KS_V_DOUBLE)->d = -INFINITY;
	add(&r, "e0", NULL, KS_V_ERRNO)->i = 4095;	/* no name: its number, as a string */
	expect(&r, "{\"type\":\"n\"," TS ",\"min\":-9223372036854775808,"
		   "\"max\":18446744073709551615,\"zero\":0,\"neg0\":-0,\"big\":1e+300,"
		   "\"small\":-2.5e-07,\"nan\":null,\"inf\":null,\"e0\":\"4095\"}\n");
}

static void test_argv(void **state)
{
	struct ks_rec r;
	struct ks_val *v;

	ks_rec_init(&r, "a", NULL);
	r.real_ns = T0;
	v = add(&r, "none", NULL, KS_V_ARGV);
	v->s.p = "";
	v->s.n = 0;
	v = add(&r, "trailing", NULL, KS_V_ARGV);
	v->s.p = "a\0";
	v->s.n = 2;
	v = add(&r, "bytes", NULL, KS_V_ARGV);
	v->s.p = "\xff\0\t";
	v->s.n = 3;
	expect(&r, "{\"type\":\"a\"," TS ",\"none\":[],\"trailing\":[\"a\",\"\"],"
		   "\"bytes\":[\"\\udcff\",\"\\t\"]}\n");
}

static void test_hist(void **state)
{
	const __u64 slots[8] = { [1] = 10, [3] = 80, [4] = 10 };
	const __u64 none[4] = { 0 };
	struct ks_histv hv = { slots, 8, "usecs", 1000 }, he = { none, 4, "msecs", 1e6 };
	struct ks_rec r;

	ks_rec_init(&r, "biolat", NULL);
	r.style = KS_REC_BLOCK;
	r.real_ns = T0;
	ks_rec_str(&r, "disk", "disk", 0, "sda", 3);
	add(&r, "hist", "hist", KS_V_HIST)->h = &hv;
	add(&r, "empty", "empty", KS_V_HIST)->h = &he;
	expect(&r, "{\"type\":\"biolat\"," TS ",\"disk\":\"sda\",\"hist\":{\"unit\":\"usecs\","
		   "\"count\":100,\"buckets\":[{\"lo\":2,\"hi\":3,\"count\":10},"
		   "{\"lo\":8,\"hi\":15,\"count\":80},{\"lo\":16,\"hi\":31,\"count\":10}],"
		   "\"p50\":12,\"p90\":16,\"p99\":30.4},\"empty\":{\"unit\":\"msecs\",\"count\":0,"
		   "\"buckets\":[],\"p50\":null,\"p90\":null,\"p99\":null}}\n");
}

/* Units are the table's business: JSON has exact counts and bytes, rates as numbers;
 * nested objects (top lists, per-type stats) with keys from the kernel written exactly. */
static void test_nested_and_units(void **state)
{
	struct ks_val items[2], inner_v[2], outer_v[2];
	struct ks_obj top, inner, outer, empty;
	struct ks_rec r;
	struct ks_val *v;

	ks_obj_init(&top, items, 2);
	v = ks_obj_add(&top, "ba\"sh\xff", NULL, 0, KS_V_COUNT);
	v->u = 12345;
	v->kkey = 1;
	ks_obj_add(&top, "(other)", NULL, 0, KS_V_RATE)->d = 2.0;
	ks_obj_init(&inner, inner_v, 2);
	ks_obj_add(&inner, "events", NULL, 0, KS_V_UINT)->u = 3;
	ks_obj_add(&inner, "lost", NULL, 0, KS_V_UINT)->u = 0;
	ks_obj_init(&outer, outer_v, 1);
	ks_obj_add(&outer, "open", NULL, 0, KS_V_OBJ)->o = &inner;
	ks_obj_add(&outer, "exec", NULL, 0, KS_V_OBJ)->o = &inner;	/* past cap */
	ks_obj_init(&empty, NULL, 0);
	ks_rec_summary(&r, "rw");
	r.real_ns = T0;
	add(&r, "calls_per_s", "calls", KS_V_RATE)->d = 30168318.5;
	add(&r, "tiny", NULL, KS_V_RATE)->d = 0.0001;
	add(&r, "neg", NULL, KS_V_RATE)->d = -0.0;
	add(&r, "third", NULL, KS_V_RATE)->d = 1.0 / 3;
	add(&r, "bytes", NULL, KS_V_BYTES)->u = 30168318;
	add(&r, "bps", NULL, KS_V_BYTE_RATE)->d = 1.25;
	add(&r, "n", NULL, KS_V_COUNT)->u = UINT64_MAX;
	ks_rec_obj(&r, "top", "top:", &top);
	ks_rec_obj(&r, "types", NULL, &outer);
	ks_rec_obj(&r, "none", NULL, &empty);
	expect(&r, "{\"type\":\"summary\"," TS ",\"module\":\"rw\",\"calls_per_s\":30168318.5,"
		   "\"tiny\":0,\"neg\":0,\"third\":0.333,\"bytes\":30168318,\"bps\":1.25,"
		   "\"n\":18446744073709551615,\"top\":{\"ba\\\"sh\\udcff\":12345,\"(other)\":2},"
		   "\"types\":{\"open\":{\"events\":3,\"lost\":0},\"values_dropped\":1},"
		   "\"none\":{}}\n");
}

/* A record with more values than it holds says how many it lost. */
static void test_values_dropped(void **state)
{
	struct ks_rec r;

	ks_rec_init(&r, "many", NULL);
	r.real_ns = T0;
	for (int i = 0; i < KS_REC_MAX + 2; i++)
		ks_rec_uint(&r, i < KS_REC_MAX - 1 ? NULL : "last", NULL, 0, i);
	expect(&r, "{\"type\":\"many\"," TS ",\"last\":31,\"values_dropped\":2}\n");
}

/* Whatever bytes the kernel hands over, every line stays one valid JSON object. */
static void test_random_bytes(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char bytes[64], *all;
	struct ks_rec r;
	struct ks_val *v;

	for (int i = 0; i < 2000; i++) {
		for (size_t k = 0; k < sizeof(bytes); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* more high bytes than uniform, to build UTF-8 lookalikes */
			bytes[k] = x & 1 ? (char)(0x80 | (x >> 8 & 0x7f)) : (char)(x >> 16);
		}
		memcpy(hdr.comm, bytes, sizeof(hdr.comm));
		ks_rec_init(&r, "fuzz", &hdr);
		r.real_ns = (int64_t)(x >> 2) - (int64_t)(x >> 3);
		r.service = bytes + 16;
		bytes[40] = 0;
		ks_rec_kstr(&r, "k", NULL, 0, bytes + 41, 23, false);
		v = add(&r, "a", NULL, KS_V_ARGV);
		v->s.p = bytes;
		v->s.n = sizeof(bytes);
		ks_sink__emit(s, &r);
	}
	strcpy(hdr.comm, "bash");
	assert_int_equal(ks_sink__flush(s), 0);
	all = tu_take(fd);
	assert_int_equal(tu_json_lines(all), 2000);
	free(all);
}

/* The checker the other tests rely on refuses what is not JSON. */
static void test_checker(void **state)
{
	static const char *const bad[] = {
		"{", "{\"a\":1,}", "{\"a\":1", "{\"a\" 1}", "{a:1}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x41\"}", "{\"a\":\"\x01\"}",
		"{\"a\":\"\xff\"}", "{\"a\":[1,]}", "{\"a\":tru}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"x}",
	};
	static const char *const good[] = {
		"{}", "{\"a\":[]}", "{\"a\":-0.5e+3,\"b\":[null,true,false,\"\\u00e9\\n\"]}",
		"{\"a\":{\"b\":{}}}", "{\"\xc3\xa9\":\"\xe2\x82\xac\"}",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *end = tu_json_value(bad[i], 0);

		if (end && !*end)
			fail_msg("accepted: %s", bad[i]);
	}
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		const char *end = tu_json_value(good[i], 0);

		if (!end || *end)
			fail_msg("refused: %s", good[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test_setup_teardown(test_every_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_and_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
