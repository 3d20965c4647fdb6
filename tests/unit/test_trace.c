// SPDX-License-Identifier: GPL-2.0
/*
 * ksight trace's pure parts: the PROBE syntax (trace_probe.c), the fields of a format file,
 * and --filter compiled to the kernel's postfix program (trace_filter.c). The compiled
 * programs are run here by a copy of the kernel's interpreter (bpf/trace.bpf.c: trace_step())
 * on values whose verdict the test states independently.
 */
#include "testutil.h"

#include "modules/trace_int.h"

static const char fork_fmt[] =
	"name: sched_process_fork\n"
	"ID: 312\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] filename;\toffset:28;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned long bytes;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:long arr[4];\toffset:40;\tsize:32;\tsigned:1;\n"
	"\n"
	"print fmt: \"comm=%s pid=%d\", REC->parent_comm, REC->parent_pid\n";

static struct trace_probe probe;

static int setup(void **state)
{
	char err[256] = "";

	assert_int_equal(trace_probe_parse("sched:sched_process_fork", &probe, err, sizeof(err)),
			 0);
	assert_int_equal(trace_probe_tp_fields(&probe, fork_fmt, err, sizeof(err)), 0);
	return 0;
}

static const struct trace_fdef *def(const char *name)
{
	for (int i = 0; i < probe.ndefs; i++)
		if (!strcmp(probe.defs[i].name, name))
			return &probe.defs[i];
	return NULL;
}

static void test_probe_forms(void **state)
{
	struct trace_probe p;
	char err[256] = "";

	assert_int_equal(trace_probe_parse("t:block:block_rq_issue", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, TRACE_P_TP);
	assert_string_equal(p.cat, "block");
	assert_string_equal(p.name, "block_rq_issue");
	assert_int_equal(trace_probe_parse("u:/usr/lib/x.so:f", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, TRACE_P_UPROBE);
	assert_string_equal(p.bin, "/usr/lib/x.so");
	assert_string_equal(p.func, "f");
	assert_int_equal(trace_probe_parse("r:libc.so.6:malloc", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, TRACE_P_URETPROBE);
	assert_string_equal(p.bin, "libc.so.6");
	trace_probe_u_fields(&p);
	assert_string_equal(p.defs[0].name, "retval");
	assert_int_equal(p.defs[0].f.kind, TRACE_F_RET);
	assert_int_equal(trace_probe_parse("u:./a.out:main", &p, err, sizeof(err)), 0);
	trace_probe_u_fields(&p);
	assert_string_equal(p.defs[5].name, "arg5");
	assert_int_equal(p.defs[5].f.off, 5);
	for (int i = 0; i < 6; i++) {
		const char *bad[] = { "sched", "sched:", ":x", "a:b:c", "t:sched:sched_*",
				      "u:libc" };

		err[0] = 0;
		assert_int_equal(trace_probe_parse(bad[i], &p, err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i]));
		assert_null(strchr(err, '\n'));
	}
}

/* USDT and kernel function PROBEs, and the fields their notes and prototypes give. */
static void test_usdt_and_kfunc_forms(void **state)
{
	const char *names[4] = { "file", NULL, "", "pos" };
	struct trace_probe p;
	char err[256] = "";

	assert_int_equal(trace_probe_parse("usdt:/a:b/c:prov:tick", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, TRACE_P_USDT);
	assert_string_equal(p.bin, "/a:b/c");
	assert_string_equal(p.provider, "prov");
	assert_string_equal(p.func, "tick");
	trace_probe_usdt_fields(&p, "-4@%esi 8@%rax  1@$3");
	assert_string_equal(p.defs[0].name, "arg0");
	assert_int_equal(p.defs[0].f.kind, TRACE_F_UARG);
	assert_true(p.defs[0].f.is_signed);
	assert_string_equal(p.defs[1].name, "arg0_str");
	assert_int_equal(p.defs[1].f.kind, TRACE_F_USDTSTR);
	assert_string_equal(p.defs[4].name, "arg2");
	assert_int_equal(p.defs[4].f.off, 2);
	assert_false(p.defs[2].f.is_signed);
	assert_string_equal(p.defs[6].name, "comm");	/* three arguments, then the task's */
	assert_int_equal(trace_probe_parse("kfunc:vfs_read", &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, TRACE_P_KFUNC);
	assert_false(p.kprobe_only);
	assert_string_equal(p.func, "vfs_read");
	assert_int_equal(trace_probe_parse("kprobe:do_sys_openat2", &p, err, sizeof(err)), 0);
	assert_true(p.kprobe_only);
	trace_probe_k_fields(&p, 4, names);
	assert_string_equal(p.defs[3].name, "arg3");
	assert_string_equal(p.defs[4].name, "file");
	assert_int_equal(p.defs[4].f.off, 0);
	assert_string_equal(p.defs[5].name, "pos");
	assert_int_equal(p.defs[5].f.off, 3);
	assert_string_equal(p.defs[6].name, "comm");
	for (int i = 0; i < 6; i++) {
		const char *bad[] = { "usdt:/bin/x:tick", "usdt:/bin/x::tick", "usdt::p:n",
				      "kfunc:", "kfunc:a b", "kprobe:x;y" };

		err[0] = 0;
		assert_int_equal(trace_probe_parse(bad[i], &p, err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i]));
	}
}

static void test_format_fields(void **state)
{
	const struct trace_fdef *d;

	assert_non_null(d = def("parent_comm"));
	assert_int_equal(d->f.kind, TRACE_F_STR);
	assert_int_equal(d->f.off, 8);
	assert_int_equal(d->f.size, 16);
	assert_non_null(d = def("parent_pid"));
	assert_int_equal(d->f.kind, TRACE_F_INT);
	assert_int_equal(d->f.size, 4);
	assert_true(d->f.is_signed);
	assert_non_null(d = def("filename"));
	assert_int_equal(d->f.kind, TRACE_F_DLOC);
	assert_int_equal(d->f.size, TRACE_STR);
	assert_non_null(d = def("bytes"));
	assert_false(d->f.is_signed);
	assert_non_null(d = def("common_pid"));
	assert_null(def("arr"));	/* an array of numbers: no kind for it */
	assert_int_equal(def("comm")->f.kind, TRACE_F_COMM);
	assert_int_equal(def("pid")->f.kind, TRACE_F_PID);
	assert_int_equal(def("cur_tid")->f.kind, TRACE_F_TID);
}

/* The kernel's interpreter, as bpf/trace.bpf.c runs it. */
static bool eval(const struct trace_conf *c, const struct trace_vals *v)
{
	uint64_t st = 0, a;

	for (unsigned int i = 0; i < c->nops; i++) {
		const struct trace_op *op = &c->ops[i];
		const struct trace_field *f = &c->f[op->field];
		uint64_t x = v->num[op->field], b = op->val, r = 0, d = 0;

		uint64_t flip = (uint64_t)f->is_signed << 63;

		switch (op->code) {
		case TRACE_OP_INT:
			x ^= flip;
			b ^= flip;
			r = (op->truth >> ((x >= b) + (x > b))) & 1;
			st = st << 1 | r;
			break;
		case TRACE_OP_STR:
			for (int k = 0; k < TRACE_STR / 8; k++) {
				uint64_t w;

				memcpy(&w, v->str[op->field] + 8 * k, 8);
				d |= (w ^ c->s[op->str].w[k]) & c->s[op->str].mask[k];
			}
			st = st << 1 | ((op->truth >> (d == 0)) & 1);
			break;
		case TRACE_OP_AND:
			a = st;
			st = (a >> 1 & ~1ULL) | (a >> 1 & a & 1);
			break;
		case TRACE_OP_OR:
			a = st;
			st = a >> 1 | (a & 1);
			break;
		default:
			st ^= 1;
		}
	}
	return !c->nops || (st & 1);
}

/* Values of the fields in @c: parent_pid @pid, bytes @bytes, parent_comm @comm. */
static void vals(const struct trace_conf *c, struct trace_vals *v, int64_t pid, uint64_t bytes,
		 const char *comm)
{
	memset(v, 0, sizeof(*v));
	for (unsigned int i = 0; i < c->nfields; i++) {
		if (!memcmp(&c->f[i], &def("parent_pid")->f, sizeof(c->f[i])))
			v->num[i] = (uint64_t)pid;
		else if (!memcmp(&c->f[i], &def("bytes")->f, sizeof(c->f[i])))
			v->num[i] = bytes;
		else if (trace_field_str(&c->f[i]))
			snprintf(v->str[i], TRACE_STR, "%s", comm);
	}
}

static void compile_ok(const char *expr, struct trace_conf *c)
{
	char err[256] = "";

	memset(c, 0, sizeof(*c));
	if (trace_filter_compile(expr, c, &probe, err, sizeof(err)))
		fail_msg("%s: %s", expr, err);
}

static void test_program_shape(void **state)
{
	struct trace_conf c;

	compile_ok("parent_pid == 1 && bytes < 2 || !(bytes >= 3)", &c);
	assert_int_equal(c.nops, 6);
	assert_int_equal(c.nfields, 2);
	assert_int_equal(c.ops[0].code, TRACE_OP_INT);
	assert_int_equal(c.ops[0].cmp, TRACE_EQ);
	assert_int_equal(c.ops[0].val, 1);
	assert_int_equal(c.ops[1].cmp, TRACE_LT);
	assert_int_equal(c.ops[2].code, TRACE_OP_AND);
	assert_int_equal(c.ops[3].cmp, TRACE_GE);
	assert_int_equal(c.ops[4].code, TRACE_OP_NOT);
	assert_int_equal(c.ops[5].code, TRACE_OP_OR);
	compile_ok("parent_comm == \"ng*\"", &c);
	assert_int_equal(c.ops[0].code, TRACE_OP_STR);
	assert_int_equal(c.s[0].mask[0], 0xffff);	/* two bytes of prefix */
	assert_int_equal(c.s[0].mask[7], 0);
	compile_ok("parent_comm != \"a\\\"b\"", &c);
	assert_memory_equal(c.s[0].w, "a\"b\0", 4);
	assert_int_equal(c.s[0].mask[7], UINT64_MAX);
}

static bool w0(int64_t p, uint64_t b, const char *c) { return b > 4096 && !strcmp(c, "nginx"); }
static bool w1(int64_t p, uint64_t b, const char *c) { return p < 0 || p >= 100; }
static bool w2(int64_t p, uint64_t b, const char *c) { return !(p == 5 || b == 0) && b != 7; }
static bool w3(int64_t p, uint64_t b, const char *c) { return !strncmp(c, "ng", 2) || p == -3; }
static bool w4(int64_t p, uint64_t b, const char *c)
{
	return (p > 1 || b < 2) && (p <= 50 || b >= 9000);
}
static bool w5(int64_t p, uint64_t b, const char *c) { return b > 0xfffffffffffffff0ULL; }
static bool w6(int64_t p, uint64_t b, const char *c) { return strcmp(c, "nginx") != 0; }

static const struct {
	const char *expr;
	bool (*want)(int64_t pid, uint64_t bytes, const char *comm);
} cases[] = {
	{ "bytes > 4096 && parent_comm == \"nginx\"", w0 },
	{ "parent_pid < 0 || parent_pid >= 100", w1 },
	{ "!(parent_pid == 5 || bytes == 0) && bytes != 7", w2 },
	{ "parent_comm == \"ng*\" || parent_pid == -3", w3 },
	{ "(parent_pid > 1 || bytes < 2) && (parent_pid <= 50 || bytes >= 9000)", w4 },
	{ "bytes > 0xfffffffffffffff0", w5 },
	{ "parent_comm != \"nginx\"", w6 },
};

static void test_verdicts(void **state)
{
	static const int64_t pids[] = { -3, -1, 0, 1, 2, 5, 50, 51, 99, 100, 1000 };
	static const uint64_t bytes[] = { 0, 1, 2, 7, 4096, 4097, 9000, UINT64_MAX - 1 };
	static const char *const comms[] = { "nginx", "ngin", "nginx2", "ng", "bash", "" };

	for (size_t e = 0; e < ARRAY_LEN(cases); e++) {
		struct trace_conf c;

		compile_ok(cases[e].expr, &c);
		for (size_t i = 0; i < ARRAY_LEN(pids); i++)
			for (size_t j = 0; j < ARRAY_LEN(bytes); j++)
				for (size_t k = 0; k < ARRAY_LEN(comms); k++) {
					struct trace_vals v;

					vals(&c, &v, pids[i], bytes[j], comms[k]);
					bool want = cases[e].want(pids[i], bytes[j], comms[k]);

					if (eval(&c, &v) != want)
						fail_msg("%s: pid %lld bytes %llu comm %s",
							 cases[e].expr, (long long)pids[i],
							 (unsigned long long)bytes[j], comms[k]);
				}
	}
}

static void bad(const char *expr, const char *want)
{
	struct trace_conf c;
	char err[256] = "";

	memset(&c, 0, sizeof(c));
	assert_int_equal(trace_filter_compile(expr, &c, &probe, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_errors_name_the_column(void **state)
{
	bad("", "--filter: column 1: expected a comparison");
	bad("bytes >", "--filter: column 8: expected a number or a \"string\"");
	bad("bytes => 3", "--filter: column 7: expected == != < <= > or >=");
	bad("byts == 3", "--filter: column 1: unknown field 'byts'");
	bad("bytes == 3 &&", "--filter: column 14: expected a comparison");
	bad("bytes == 3 & bytes == 4", "--filter: column 12: expected && or || or the end");
	bad("(bytes == 3", "--filter: column 12: expected )");
	bad("bytes == 3x", "--filter: column 10: expected a number or a \"string\"");
	bad("bytes == \"3\"", "--filter: column 10: 'bytes' is a number: compare it with a number");
	bad("parent_comm == 3", "--filter: column 16: 'parent_comm' is a string: compare it "
	    "with a \"quoted\" value");
	bad("parent_comm < \"a\"", "--filter: column 13: 'parent_comm' is a string: only == and "
	    "!= compare it");
	bad("parent_comm == \"a", "--filter: column 16: the string has no closing quote");
	bad("parent_comm == \"a*b\"", "--filter: column 18: * may only end a string (a prefix)");
	bad("3 == bytes", "--filter: column 1: expected a field name");
	bad("bytes == 1 && bytes == 2 && bytes == 3 && bytes == 4 && bytes == 5 && bytes == 6 && "
	    "bytes == 7 && bytes == 8 && bytes == 9 && bytes == 10 && bytes == 11 && bytes == 12 "
	    "&& bytes == 13 && bytes == 14 && bytes == 15 && bytes == 16 && bytes == 17",
	    "--filter: column 229: the filter is too long (32 steps at most)");
	bad("parent_comm == \"a\" || parent_comm == \"b\" || parent_comm == \"c\" || "
	    "parent_comm == \"d\" || parent_comm == \"e\"",
	    "--filter: column 104: more than 4 strings in the filter");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_forms),
		cmocka_unit_test(test_usdt_and_kfunc_forms),
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_program_shape),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_errors_name_the_column),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
