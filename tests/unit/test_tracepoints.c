// SPDX-License-Identifier: GPL-2.0
/* core/tracepoints.c: tracefs format files into fields; core/elflist.c: USDT notes. */
#include <errno.h>

#include "testutil.h"

#include "core/elflist.h"
#include "core/tracepoints.h"

/* sched:sched_switch's format file as 6.18 writes it (print fmt cut) */
static const char switch_fmt[] =
	"name: sched_switch\n"
	"ID: 372\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"prev_comm=%s prev_pid=%d\", REC->prev_comm, REC->prev_pid\n";

static void test_format_fields(void **state)
{
	struct ks_tp_field f[16];

	assert_int_equal(ks_tp_format_parse(switch_fmt, f, 16, false), 7);
	assert_string_equal(f[0].decl, "char prev_comm[16]");
	assert_string_equal(f[0].name, "prev_comm");
	assert_int_equal(f[0].offset, 8);
	assert_int_equal(f[0].size, 16);
	assert_false(f[0].is_signed);
	assert_string_equal(f[3].decl, "long prev_state");
	assert_string_equal(f[3].name, "prev_state");
	assert_int_equal(f[3].offset, 32);
	assert_int_equal(f[3].size, 8);
	assert_true(f[3].is_signed);
	assert_string_equal(f[6].name, "next_prio");
	/* with the common fields, first */
	assert_int_equal(ks_tp_format_parse(switch_fmt, f, 16, true), 11);
	assert_string_equal(f[0].name, "common_type");
	assert_string_equal(f[4].name, "prev_comm");
	/* more than fit: the count of all, the first stored */
	assert_int_equal(ks_tp_format_parse(switch_fmt, f, 2, false), 7);
	assert_string_equal(f[1].name, "prev_pid");
}

static void test_format_odd(void **state)
{
	struct ks_tp_field f[4];

	/* dynamic arrays, no signed: (old kernels) */
	assert_int_equal(ks_tp_format_parse("\tfield:__data_loc char[] filename;\toffset:8;\t"
					    "size:4;\n", f, 4, false), 1);
	assert_string_equal(f[0].name, "filename");
	assert_string_equal(f[0].decl, "__data_loc char[] filename");
	assert_int_equal(f[0].size, 4);
	assert_int_equal(ks_tp_format_parse("no fields here\n", f, 4, false), 0);
	assert_int_equal(ks_tp_format_parse("\tfield:int x\toffset:0;\n", f, 4, false), -EINVAL);
	assert_int_equal(ks_tp_format_parse("\tfield:int x;\tsize:4;\n", f, 4, false), -EINVAL);
}

static void test_decl_name(void **state)
{
	char n[16];

	assert_int_equal(ks_tp_decl_name("unsigned long args[6]", n, sizeof(n)), 0);
	assert_string_equal(n, "args");
	assert_int_equal(ks_tp_decl_name("u8 saddr[4][2]", n, sizeof(n)), 0);
	assert_string_equal(n, "saddr");
	assert_int_equal(ks_tp_decl_name("int __syscall_nr", n, sizeof(n)), 0);
	assert_string_equal(n, "__syscall_nr");
	assert_int_equal(ks_tp_decl_name("[4]", n, sizeof(n)), -EINVAL);
	assert_int_equal(ks_tp_decl_name("int a_name_longer_than_sixteen", n, sizeof(n)), -EINVAL);
}

static void test_usdt_note(void **state)
{
	unsigned char d[64] = { 0 };
	uint64_t pc = 0x1234, base = 0x4000, sema = 0x8010;
	struct ks_usdt u;

	memcpy(d, &pc, 8);
	memcpy(d + 8, &base, 8);
	memcpy(d + 16, &sema, 8);
	memcpy(d + 24, "ksight_test\0tick\0-8@%rbx 8@%rax", 32);
	assert_int_equal(ks_usdt_parse(d, 24 + 32, 8, &u), 0);
	assert_int_equal(u.pc, pc);
	assert_int_equal(u.base, base);
	assert_int_equal(u.sema, sema);
	assert_string_equal(u.provider, "ksight_test");
	assert_string_equal(u.name, "tick");
	assert_string_equal(u.args, "-8@%rbx 8@%rax");
	/* no argument string at all */
	assert_int_equal(ks_usdt_parse(d, 24 + 17, 8, &u), 0);
	assert_string_equal(u.args, "");
	/* cut in a name, or shorter than the addresses */
	assert_int_equal(ks_usdt_parse(d, 24 + 14, 8, &u), -EINVAL);
	assert_int_equal(ks_usdt_parse(d, 20, 8, &u), -EINVAL);
	assert_int_equal(ks_usdt_parse(d, 56, 2, &u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_format_odd),
		cmocka_unit_test(test_decl_name),
		cmocka_unit_test(test_usdt_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
