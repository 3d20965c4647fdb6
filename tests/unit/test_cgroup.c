// SPDX-License-Identifier: GPL-2.0
/* core/cgroup.c: where cgroup2 is mounted, cgroup ids to paths by handle or by a walk. */
#include "testutil.h"

#include <errno.h>

#include "core/cgroup.h"

static void test_mountinfo(void **state)
{
	static const char v2[] =
		"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
		"26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
		"cgroup2 rw,nsdelegate,memory_recursiveprot\n"
		"28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
	static const char hybrid[] =
		"30 25 0:26 / /sys/fs/cgroup/systemd rw shared:5 - cgroup cgroup rw,name=systemd\n"
		"29 25 0:25 / /sys/fs/cgroup/unified rw shared:4 - cgroup2 cgroup2 rw\n"
		"31 25 0:27 / /sys/fs/cgroup/memory rw shared:6 - cgroup cgroup rw,memory\n";
	/* no optional fields, and " - cgroup2 " only on the following line */
	static const char tricky[] = "40 1 0:5 / /a rw - tmpfs x rw\n"
				     "41 1 0:6 / /b rw - cgroup2 none rw";
	/* a container's view bound in first: the whole hierarchy wins; escapes undone */
	static const char bound[] =
		"50 1 0:30 /kubepods/pod1 /mnt/cg rw - cgroup2 cgroup2 rw\n"
		"51 1 0:30 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n";
	char dir[64], tiny[8];

	assert_int_equal(ks_parse_mountinfo_cgroup2(v2, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup");
	assert_int_equal(ks_parse_mountinfo_cgroup2(hybrid, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
	assert_int_equal(ks_parse_mountinfo_cgroup2(tricky, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/b");
	assert_int_equal(ks_parse_mountinfo_cgroup2(bound, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/my cgroup");
	assert_int_equal(ks_parse_mountinfo_cgroup2(bound, dir, 17), -1);
	/* only a part of the hierarchy: better than nothing */
	assert_int_equal(ks_parse_mountinfo_cgroup2("50 1 0:30 /k /mnt/cg rw - cgroup2 c rw\n", dir,
						    sizeof(dir)), 0);
	assert_string_equal(dir, "/mnt/cg");

	assert_int_equal(ks_parse_mountinfo_cgroup2("", dir, sizeof(dir)), -1);
	assert_int_equal(ks_parse_mountinfo_cgroup2("30 25 0:26 / /sys/fs/cgroup/systemd rw - "
						    "cgroup cgroup rw\n", dir, sizeof(dir)), -1);
	assert_int_equal(ks_parse_mountinfo_cgroup2("41 1 0:6 / - cgroup2 none rw", dir,
						    sizeof(dir)), -1);	/* cut short */
	assert_int_equal(ks_parse_mountinfo_cgroup2(v2, tiny, sizeof(tiny)), -1);
	assert_int_equal(ks_parse_mountinfo_cgroup2(tricky, tiny, 3), 0);
	assert_string_equal(tiny, "/b");
	assert_int_equal(ks_parse_mountinfo_cgroup2(tricky, tiny, 2), -1);
}

struct seen {
	uint64_t id[32];
	char path[32][128];
	int n;
};

static void visit(void *arg, uint64_t id, const char *path)
{
	struct seen *s = arg;

	assert_true(s->n < 32);
	s->id[s->n] = id;
	snprintf(s->path[s->n++], 128, "%s", path);
}

static int index_of(const struct seen *s, const char *path)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->path[i], path))
			return i;
	return -1;
}

static uint64_t ino(const char *dir, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* A tree that is not cgroupfs: no handles, the walk maps inodes to paths. */
static void test_walk_fake_tree(void **state)
{
	char *root = tu_mkdtemp("kscg"), cg[256], text[512], path[256], dir[300];
	struct ks_cgfs fs;
	struct seen s = { 0 };

	snprintf(path, sizeof(path), "%s/self", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	assert_int_equal(mkdir(cg, 0755), 0);
	snprintf(text, sizeof(text), "26 22 0:23 / %s rw - cgroup2 cgroup2 rw\n", cg);
	tu_write(root, "self/mountinfo", text, -1);
	for (const char *d = "/a\0/a/b.service\0/a/b.service/c\0/z\0"; *d; d += strlen(d) + 1) {
		snprintf(dir, sizeof(dir), "%s%s", cg, d);
		assert_int_equal(mkdir(dir, 0755), 0);
	}
	tu_write(cg, "a/cgroup.procs", "", 0);	/* files are not cgroups */

	assert_int_equal(ks_cgfs__open(&fs, root), 0);
	assert_string_equal(fs.root, cg);
	assert_false(fs.handles);
	assert_int_equal(ks_cgfs__path(&fs, ino(cg, "/a"), path, sizeof(path)), -EOPNOTSUPP);
	assert_int_equal(ks_cgfs__walk(&fs, 100, visit, &s), 5);
	assert_int_equal(s.n, 5);
	assert_int_equal(index_of(&s, "/"), 0);
	assert_true(s.id[0] == ino(cg, ""));
	assert_true(s.id[index_of(&s, "/a/b.service")] == ino(cg, "/a/b.service"));
	assert_true(s.id[index_of(&s, "/a/b.service/c")] == ino(cg, "/a/b.service/c"));
	/* parents first */
	assert_true(index_of(&s, "/a") < index_of(&s, "/a/b.service"));
	assert_true(index_of(&s, "/a/b.service") < index_of(&s, "/a/b.service/c"));
	assert_int_equal(index_of(&s, "/a/cgroup.procs"), -1);
	/* bounded */
	s.n = 0;
	assert_int_equal(ks_cgfs__walk(&fs, 2, visit, &s), 2);
	assert_int_equal(s.n, 2);
	/* a path's id */
	assert_true(ks_cgfs__id(&fs, "/a/b.service") == ino(cg, "/a/b.service"));
	assert_true(ks_cgfs__id(&fs, "/") == ino(cg, ""));
	assert_true(ks_cgfs__id(&fs, "/missing") == 0);
	assert_true(ks_cgfs__id(&fs, "/a/cgroup.procs") == 0);
	ks_cgfs__close(&fs);
	ks_cgfs__close(&fs);	/* twice is fine */

	/* nothing mounted */
	tu_write(root, "self/mountinfo", "22 28 0:21 / /sys rw - sysfs sysfs rw\n", -1);
	assert_int_equal(ks_cgfs__open(&fs, root), -ENOENT);
	assert_int_equal(fs.fd, -1);
	assert_int_equal(ks_cgfs__walk(&fs, 10, visit, &s), -ENOENT);
	assert_int_equal(ks_cgfs__path(&fs, 1, path, sizeof(path)), -EOPNOTSUPP);
	assert_true(ks_cgfs__id(&fs, "/") == 0);
	ks_cgfs__close(&fs);
	tu_rmtree(root);
}

/* This host's cgroup2, read only: the root by handle, an id that does not exist. */
static void test_handles_on_this_host(void **state)
{
	struct ks_cgfs fs;
	char path[KS_CG_PATH_MAX];
	struct stat st;

	if (geteuid() || ks_cgfs__open(&fs, "/proc")) {
		skip();
		return;
	}
	assert_true(fs.handles);	/* root, cgroup2, kernel >= 5.5: handles work */
	assert_int_equal(fstat(fs.fd, &st), 0);
	assert_int_equal(ks_cgfs__path(&fs, st.st_ino, path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	assert_int_equal(ks_cgfs__path(&fs, 0x7fffffff00ULL, path, sizeof(path)), -ESTALE);
	assert_int_equal(ks_cgfs__path(&fs, st.st_ino, path, 1), -ENAMETOOLONG);
	assert_true(ks_cgfs__id(&fs, "/") == (uint64_t)st.st_ino);
	ks_cgfs__close(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_walk_fake_tree),
		cmocka_unit_test(test_handles_on_this_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
