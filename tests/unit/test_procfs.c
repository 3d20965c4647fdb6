// SPDX-License-Identifier: GPL-2.0
/* core/procfs.c: /proc text parsers (/proc/PID/stat, status, cgroup), small file readers. */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>

#include "core/procfs.h"

/* Fields 3..22 of a stat line after the comm: state R, ppid 77, starttime 98765. */
#define STAT_TAIL "R 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 123 456 " \
		  "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

static void check_stat(const char *line, const char *comm, char state, uint32_t ppid,
		       uint64_t start)
{
	struct ks_stat st;

	if (ks_parse_stat(line, &st))
		fail_msg("refused: %s", line);
	assert_string_equal(st.comm, comm);
	assert_int_equal(st.state, state);
	assert_int_equal(st.ppid, ppid);
	assert_int_equal(st.starttime, start);
}

static void test_stat(void **state)
{
	check_stat("1234 (bash) " STAT_TAIL, "bash", 'R', 77, 98765);
	check_stat("1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42", "systemd", 'S',
		   0, 42);
	/* the comm is what lies between the first '(' and the last ')' */
	check_stat("5 (a b) " STAT_TAIL, "a b", 'R', 77, 98765);
	check_stat("5 (x) S 99 (y) " STAT_TAIL, "x) S 99 (y", 'R', 77, 98765);
	check_stat("5 ()) " STAT_TAIL, ")", 'R', 77, 98765);
	check_stat("5 (((() " STAT_TAIL, "(((", 'R', 77, 98765);
	check_stat("5 () " STAT_TAIL, "", 'R', 77, 98765);
	/* longer than a comm can be: cut to 15 bytes */
	check_stat("5 (0123456789abcdefghij) " STAT_TAIL, "0123456789abcde", 'R', 77, 98765);
	check_stat("5 (kworker/0:1-events) " STAT_TAIL, "kworker/0:1-eve", 'R', 77, 98765);
	/* the largest starttime */
	check_stat("5 (a) Z 4294967295 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 18446744073709551615",
		   "a", 'Z', 4294967295U, UINT64_MAX);
}

static void test_stat_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"1234",
		"1234 bash R 1 2",
		"1234 (bash",
		"1234 bash) R 77",
		"1234 )bash( R 77 " STAT_TAIL,
		"1234 (bash)R 77 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765",
		"1234 (bash)",
		"1234 (bash) ",
		"1234 (bash) R",
		"1234 (bash) R ",
		"1234 (bash) R x 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765",
		/* cut before starttime (field 22) */
		"1234 (bash) R 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0",
		"1234 (bash) R 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ",
		"1234 (bash) R 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x",
		"1234 (bash) R 77",
	};
	struct ks_stat st;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (ks_parse_stat(bad[i], &st) != -1)
			fail_msg("accepted: '%s'", bad[i]);
}

static void test_status_uid(void **state)
{
	uint32_t uid = 7;

	assert_int_equal(ks_parse_status_uid("Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\n"
					     "Uid:\t1000\t1001\t1002\t1003\nGid:\t5\t5\t5\t5\n",
					     &uid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(ks_parse_status_uid("Uid:\t0\t0\t0\t0\n", &uid), 0);	/* first line */
	assert_int_equal(uid, 0);
	assert_int_equal(ks_parse_status_uid("Name:\tx\nUid:\t4294967294\t0\t0\t0", &uid), 0);
	assert_int_equal(uid, 4294967294U);

	uid = 7;
	assert_int_equal(ks_parse_status_uid("", &uid), -1);
	assert_int_equal(ks_parse_status_uid("Name:\tbash\nGid:\t0\n", &uid), -1);
	assert_int_equal(ks_parse_status_uid("Name:\tbash\nXUid:\t5\n", &uid), -1);
	assert_int_equal(ks_parse_status_uid("Name:\tbash\nUid:\tabc\n", &uid), -1);
	assert_int_equal(ks_parse_status_uid("Uid:", &uid), -1);
	assert_int_equal(uid, 7);
}

static void test_cgroup_v2(void **state)
{
	char path[64], tiny[8];

	/* a hybrid system: v1 hierarchies first, the unified one last */
	assert_int_equal(ks_parse_cgroup_v2("12:pids:/user.slice/user-1000.slice\n"
					    "11:memory:/user.slice\n"
					    "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
					    "0::/user.slice/user-1000.slice/session-2.scope\n",
					    path, sizeof(path)), 0);
	assert_string_equal(path, "/user.slice/user-1000.slice/session-2.scope");
	assert_int_equal(ks_parse_cgroup_v2("0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	assert_int_equal(ks_parse_cgroup_v2("0::/system.slice/nginx.service", path, sizeof(path)),
			 0);	/* no final newline */
	assert_string_equal(path, "/system.slice/nginx.service");
	/* "10::" is not "0::" */
	assert_int_equal(ks_parse_cgroup_v2("10::/wrong\n0::/right\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/right");

	/* v1 only, empty, garbage */
	assert_int_equal(ks_parse_cgroup_v2("12:pids:/a\n11:memory:/a\n", path, sizeof(path)), -1);
	assert_int_equal(ks_parse_cgroup_v2("", path, sizeof(path)), -1);
	assert_int_equal(ks_parse_cgroup_v2("x0::/a\n", path, sizeof(path)), -1);

	/* the path must fit with its NUL */
	assert_int_equal(ks_parse_cgroup_v2("0::/abcdef\n", tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "/abcdef");
	assert_int_equal(ks_parse_cgroup_v2("0::/abcdefg\n", tiny, sizeof(tiny)), -1);
	assert_int_equal(ks_parse_cgroup_v2("0::/abcdefg", tiny, sizeof(tiny)), -1);
}

/* Units of a host without cgroup2 mounted: the v1 name=systemd hierarchy. */
static void test_cgroup_systemd(void **state)
{
	char path[64];

	assert_int_equal(ks_parse_cgroup_systemd("12:pids:/a\n"
						 "1:name=systemd:/system.slice/cron.service\n"
						 "0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/cron.service");
	assert_int_equal(ks_parse_cgroup_systemd("11:name=systemd:/x", path, sizeof(path)), 0);
	assert_string_equal(path, "/x");
	/* another named hierarchy, a controller list that merely contains the name */
	assert_int_equal(ks_parse_cgroup_systemd("3:name=elogind:/a\n2:cpu,name=systemdx:/b\n",
						 path, sizeof(path)), -1);
	assert_int_equal(ks_parse_cgroup_systemd("0::/only-v2\n", path, sizeof(path)), -1);
	assert_int_equal(ks_parse_cgroup_systemd("", path, sizeof(path)), -1);
}

static void test_statm_rss(void **state)
{
	uint64_t pages = 7;

	assert_int_equal(ks_parse_statm_rss("5432 1234 567 89 0 999 0\n", &pages), 0);
	assert_int_equal(pages, 1234);
	/* one field, or none: malformed, @pages untouched */
	pages = 7;
	assert_int_equal(ks_parse_statm_rss("5432\n", &pages), -1);
	assert_int_equal(ks_parse_statm_rss("", &pages), -1);
	assert_int_equal(ks_parse_statm_rss("x 1", &pages), -1);
	assert_int_equal(pages, 7);
}

static void test_read_file(void **state)
{
	char *dir = tu_mkdtemp("ksight-procfs"), path[256], buf[16];

	tu_write(dir, "f", "hello\nworld", -1);
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(ks_read_file(path, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "hello\nworld");
	/* only what fits, NUL-terminated */
	assert_int_equal(ks_read_file(path, buf, 6), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(ks_read_file(path, buf, 1), 0);
	assert_string_equal(buf, "");

	tu_write(dir, "empty", "", 0);
	snprintf(path, sizeof(path), "%s/empty", dir);
	assert_int_equal(ks_read_file(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(ks_read_file(path, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ks_read_file(dir, buf, sizeof(buf)), -EISDIR);
	tu_rmtree(dir);

	/* /proc files have no size; the reader reads until the end */
	{
		char stat[1024];
		struct ks_stat st;

		assert_true(ks_read_file("/proc/self/stat", stat, sizeof(stat)) > 0);
		assert_int_equal(ks_parse_stat(stat, &st), 0);
		assert_int_equal(st.ppid, getppid());
	}
}

/* A fake /proc: pid dirs with stat files; other entries and malformed stats ignored. */
static void test_count_children(void **state)
{
	/* pid, then stat up to the ppid; the other fields up to starttime are appended */
	static const char *const procs[][2] = {
		{ "10", "10 (init) S 0" },
		{ "20", "20 (post gres) S 10" },
		{ "21", "21 (a) b) S 20" },	/* a ')' in the comm */
		{ "22", "22 (w) S 20" },
		{ "23", "23 (x) S 21" },	/* a grandchild: not counted */
		{ "24", "garbage" },
	};
	char line[256];
	char *root = tu_mkdtemp("kids"), dir[256];

	(void)state;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, procs[i][0]);
		assert_int_equal(mkdir(dir, 0755), 0);
		snprintf(line, sizeof(line), "%s 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100\n",
			 procs[i][1]);
		tu_write(dir, "stat", line, -1);
	}
	snprintf(dir, sizeof(dir), "%s/self", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(ks_count_children(root, 20), 2);
	assert_int_equal(ks_count_children(root, 10), 1);
	assert_int_equal(ks_count_children(root, 23), 0);
	snprintf(dir, sizeof(dir), "%s/none", root);
	assert_int_equal(ks_count_children(dir, 20), -1);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_status_uid),
		cmocka_unit_test(test_cgroup_v2),
		cmocka_unit_test(test_cgroup_systemd),
		cmocka_unit_test(test_statm_rss),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_count_children),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
