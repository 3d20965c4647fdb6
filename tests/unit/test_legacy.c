// SPDX-License-Identifier: GPL-2.0
/* core/legacy_parse.c and cpulist.c: the journal's lines, CPU lists. */
#include "testutil.h"

#include "core/attach_int.h"
#include "core/legacy.h"

static void round_trip(const char *line)
{
	struct ks_jent e;
	char buf[256];

	assert_int_equal(ks_journal_parse(line, &e), 0);
	assert_true(ks_journal_format(&e, buf, sizeof(buf)) > 0);
	buf[strcspn(buf, "\n")] = 0;
	assert_string_equal(buf, line);
}

static void test_journal_round_trip(void **state)
{
	round_trip("owner 1234 987654");
	round_trip("tc-qdisc 4026531840 7 intent");
	round_trip("tc-qdisc 4026531840 7 created");
	round_trip("tc-qdisc 4026531840 7 existed");
	round_trip("tc-filter 4026531840 7 fffffff2 4d2 19283 55");
	round_trip("tracefs uprobe_events uprobes/ksight_1234_0");
	round_trip("libbpf kprobe_events libbpf_1234_");
}

static void test_journal_fields(void **state)
{
	struct ks_jent e;

	assert_int_equal(ks_journal_parse("tc-filter 9 3 ffff fff3 30d401 19283 77", &e), -1);
	assert_int_equal(ks_journal_parse("tc-filter 9 3 fffffff3 30d401 19283 77", &e), 0);
	assert_int_equal(e.kind, KS_J_FILTER);
	assert_int_equal(e.tc.netns, 9);
	assert_int_equal(e.tc.ifindex, 3);
	assert_int_equal(e.tc.parent, 0xfffffff3);
	assert_int_equal(e.tc.handle, 0x30d401);
	assert_int_equal(e.tc.prio, 19283);
	assert_int_equal(e.tc.prog_id, 77);
	assert_int_equal(ks_journal_parse("tc-qdisc 9 3 created", &e), 0);
	assert_int_equal(e.qstate, KS_Q_CREATED);
}

/* A line cut by its writer's death, or anything else odd, is ignored, never guessed at. */
static void test_journal_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"owner",
		"owner 12",
		"owner 12 34 56",
		"tc-qdisc 1 2 maybe",
		"tc-qdisc 1 0 created",
		"tc-filter 1 2 fffffff2 4d2 19283",	/* cut before the program */
		"tc-filter 1 2 fffffff2 0 19283 5",	/* no handle: never ksight's */
		"tc-filter 1 2 fffffff2 4d2 19283 0",
		"tracefs kprobe_events",
		"tracefs trace uprobes/x",		/* not a probe events file */
		"tracefs uprobe_events -:uprobes/x",	/* a command, not a name */
		"libbpf uprobe_events",
		"rm -rf /",
	};
	struct ks_jent e;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (ks_journal_parse(bad[i], &e) != -1)
			fail_msg("accepted: '%s'", bad[i]);
	}
}

static void test_cpu_list(void **state)
{
	int cpus[8];

	assert_int_equal(ks_cpu_list_parse("0\n", cpus, 8), 1);
	assert_int_equal(ks_cpu_list_parse("0-3,5\n", cpus, 8), 5);
	assert_int_equal(cpus[3], 3);
	assert_int_equal(cpus[4], 5);
	assert_int_equal(ks_cpu_list_parse("2,4-5", cpus, 8), 3);
	assert_int_equal(cpus[0], 2);
	assert_int_equal(ks_cpu_list_parse("0-8", cpus, 8), -1);	/* more than fits */
	assert_int_equal(ks_cpu_list_parse("3-1", cpus, 8), -1);
	assert_int_equal(ks_cpu_list_parse("a", cpus, 8), -1);
	assert_int_equal(ks_cpu_list_parse("", cpus, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_round_trip),
		cmocka_unit_test(test_journal_fields),
		cmocka_unit_test(test_journal_malformed),
		cmocka_unit_test(test_cpu_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
