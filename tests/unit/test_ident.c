// SPDX-License-Identifier: GPL-2.0
/*
 * core/ident.c against a fake proc root: a tmp directory with <pid>/{stat,status,cmdline,exe}
 * and self/mountinfo naming a cgroup2 "mount" that is a plain directory tree of the test.
 */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>

#include "core/ident.h"

static char *root;	/* the fake /proc */
static char cgroot[256];	/* the fake cgroup2 mount */
static double tick_ns;

static void fake_proc(uint32_t pid, const char *comm, uint32_t ppid, uint32_t uid,
		      uint64_t start, const char *exe, const char *cmdline, size_t cmdlen)
{
	char dir[32], text[512], path[512];

	snprintf(dir, sizeof(dir), "%u", pid);
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(text, sizeof(text), "%u (%s) S %u %u %u 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		 "%llu 1000 200 18446744073709551615\n", pid, comm, ppid, pid, pid,
		 (unsigned long long)start);
	snprintf(path, sizeof(path), "%s/stat", dir);
	tu_write(root, path, text, -1);
	snprintf(text, sizeof(text), "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%u\n"
		 "Pid:\t%u\nPPid:\t%u\nUid:\t%u\t%u\t%u\t%u\n", comm, pid, pid, ppid, uid, uid + 1,
		 uid, uid);
	snprintf(path, sizeof(path), "%s/status", dir);
	tu_write(root, path, text, -1);
	if (cmdline) {
		snprintf(path, sizeof(path), "%s/cmdline", dir);
		tu_write(root, path, cmdline, cmdlen);
	}
	if (exe) {
		snprintf(path, sizeof(path), "%s/%s/exe", root, dir);
		assert_int_equal(symlink(exe, path), 0);	/* dangling is fine: readlink */
	}
}

static void rm_proc(uint32_t pid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	tu_rmtree(strdup(path));
}

static int setup(void **state)
{
	char path[512], text[600];

	tick_ns = 1e9 / sysconf(_SC_CLK_TCK);
	root = tu_mkdtemp("ksident");
	snprintf(path, sizeof(path), "%s/self", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(cgroot, sizeof(cgroot), "%s/cg", root);
	assert_int_equal(mkdir(cgroot, 0755), 0);
	snprintf(text, sizeof(text),
		 "22 28 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		 "26 22 0:23 / %s rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", cgroot);
	tu_write(root, "self/mountinfo", text, -1);
	return 0;
}

static int teardown(void **state)
{
	tu_rmtree(root);
	return 0;
}

static void test_get_lazy(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root);
	const struct ks_proc *p, *q;

	assert_non_null(id);
	fake_proc(100, "nginx: worker", 1, 33, 250, "/usr/sbin/nginx", "nginx\0-g\0daemon off;\0",
		  21);
	fake_proc(200, "kworker/0:1", 2, 0, 5, NULL, "", 0);	/* a kernel thread */
	assert_int_equal(ks_ident__count(id), 0);

	p = ks_ident__get(id, 100);
	assert_non_null(p);
	assert_int_equal(ks_ident__count(id), 1);
	assert_int_equal(p->pid, 100);
	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->uid, 33);	/* the real uid, not the effective one */
	assert_string_equal(p->comm, "nginx: worker");
	assert_true(p->start_ns == (uint64_t)(250 * tick_ns));
	assert_string_equal(p->exe, "/usr/sbin/nginx");
	assert_int_equal(p->args_len, 20);
	assert_memory_equal(p->args, "nginx\0-g\0daemon off;", 21);
	assert_false(p->args_cut);
	assert_false(p->exited);

	p = ks_ident__get(id, 200);
	assert_non_null(p);
	assert_null(p->exe);
	assert_null(p->args);
	assert_int_equal(p->args_len, 0);
	assert_int_equal(p->ppid, 2);

	/* cached: /proc is not read again */
	rm_proc(100);
	q = ks_ident__get(id, 100);
	assert_non_null(q);
	assert_string_equal(q->comm, "nginx: worker");
	assert_int_equal(ks_ident__count(id), 2);

	/* unknown and gone */
	assert_null(ks_ident__get(id, 999));
	fake_proc(300, "broken", 1, 0, 1, NULL, NULL, 0);
	tu_write(root, "300/stat", "garbage\n", -1);
	assert_null(ks_ident__get(id, 300));
	assert_int_equal(ks_ident__count(id), 2);
	ks_ident__free(id);
	ks_ident__free(NULL);
}

static void test_exec_exit(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root);
	char big[600];
	const struct ks_proc *p;

	fake_proc(100, "bash", 1, 1000, 10, "/usr/bin/bash", "bash\0", 5);
	p = ks_ident__get(id, 100);
	assert_string_equal(p->comm, "bash");

	/* the exec replaces everything known, in the same entry */
	ks_ident__exec(id, 100, 7, 1001, 123456789, "python3", "/usr/bin/python3.11",
		       "python3\0-c\0pass\0", 16, false);
	assert_int_equal(ks_ident__count(id), 1);
	assert_ptr_equal(ks_ident__get(id, 100), p);
	assert_int_equal(p->ppid, 7);
	assert_int_equal(p->uid, 1001);
	assert_true(p->start_ns == 123456789);
	assert_string_equal(p->comm, "python3");
	assert_string_equal(p->exe, "/usr/bin/python3.11");
	assert_int_equal(p->args_len, 15);
	assert_memory_equal(p->args, "python3\0-c\0pass", 16);	/* NUL-terminated */

	/* exits are marked, kept for late records, and undone by an exec (pid reuse) */
	ks_ident__exit(id, 100);
	assert_true(ks_ident__get(id, 100)->exited);
	ks_ident__exit(id, 4242);	/* unknown: nothing */
	assert_int_equal(ks_ident__count(id), 1);
	ks_ident__exec(id, 100, 1, 0, 1, "sh", "", "sh", 2, false);
	assert_false(p->exited);
	assert_null(p->exe);	/* an empty path is no path */
	assert_int_equal(p->args_len, 2);

	/* a pid never seen in /proc */
	ks_ident__exec(id, 555, 100, 0, 1, "a-very-long-command-name", "/bin/x", "x", 1, true);
	p = ks_ident__get(id, 555);
	assert_non_null(p);
	assert_string_equal(p->comm, "a-very-long-com");	/* cut to 15 bytes */
	assert_true(p->args_cut);	/* the kernel said so */
	assert_int_equal(ks_ident__count(id), 2);

	/* long argv is cut to KS_IDENT_ARGS_MAX bytes */
	memset(big, 'a', sizeof(big));
	ks_ident__exec(id, 556, 1, 0, 1, "a", "/bin/a", big, sizeof(big), false);
	p = ks_ident__get(id, 556);
	assert_int_equal(p->args_len, KS_IDENT_ARGS_MAX);
	assert_true(p->args_cut);
	assert_int_equal(p->args[KS_IDENT_ARGS_MAX], 0);
	ks_ident__free(id);
}

/* Exactly KS_IDENT_ARGS_MAX bytes of arguments fit; one more is cut. */
static void test_cmdline_limit(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root);
	char cmd[KS_IDENT_ARGS_MAX + 8];
	const struct ks_proc *p;

	memset(cmd, 'c', sizeof(cmd));
	cmd[KS_IDENT_ARGS_MAX] = 0;	/* 512 bytes and the final NUL */
	fake_proc(100, "c", 1, 0, 1, NULL, cmd, KS_IDENT_ARGS_MAX + 1);
	p = ks_ident__get(id, 100);
	assert_int_equal(p->args_len, KS_IDENT_ARGS_MAX);
	assert_false(p->args_cut);

	memset(cmd, 'c', sizeof(cmd));
	cmd[KS_IDENT_ARGS_MAX + 1] = 0;	/* 513 bytes */
	fake_proc(101, "c", 1, 0, 1, NULL, cmd, KS_IDENT_ARGS_MAX + 2);
	p = ks_ident__get(id, 101);
	assert_int_equal(p->args_len, KS_IDENT_ARGS_MAX);
	assert_true(p->args_cut);

	fake_proc(102, "c", 1, 0, 1, NULL, cmd, sizeof(cmd));	/* longer, no final NUL */
	p = ks_ident__get(id, 102);
	assert_int_equal(p->args_len, KS_IDENT_ARGS_MAX);
	assert_true(p->args_cut);
	ks_ident__free(id);
}

static void test_eviction(void **state)
{
	struct ks_ident *id = ks_ident__new(3, root);

	/* pids without /proc entries: once evicted, a lookup finds nothing */
	ks_ident__exec(id, 1, 0, 0, 0, "one", "/bin/one", "", 0, false);
	ks_ident__exec(id, 2, 0, 0, 0, "two", "/bin/two", "", 0, false);
	ks_ident__exec(id, 3, 0, 0, 0, "three", "/bin/three", "", 0, false);
	assert_int_equal(ks_ident__count(id), 3);

	/* exited processes go first, even the most recently used */
	ks_ident__exit(id, 3);
	assert_non_null(ks_ident__get(id, 3));
	ks_ident__exec(id, 4, 0, 0, 0, "four", "/bin/four", "", 0, false);
	assert_int_equal(ks_ident__count(id), 3);
	assert_null(ks_ident__get(id, 3));
	assert_non_null(ks_ident__get(id, 1));

	/* else the least recently used: 2 (1 was just looked up, 4 is new) */
	ks_ident__exec(id, 5, 0, 0, 0, "five", "/bin/five", "", 0, false);
	assert_int_equal(ks_ident__count(id), 3);
	assert_null(ks_ident__get(id, 2));
	assert_non_null(ks_ident__get(id, 4));
	assert_non_null(ks_ident__get(id, 5));
	assert_non_null(ks_ident__get(id, 1));

	/* every exited process is dropped at once */
	ks_ident__exit(id, 1);
	ks_ident__exit(id, 5);
	ks_ident__exec(id, 6, 0, 0, 0, "six", "/bin/six", "", 0, false);
	assert_int_equal(ks_ident__count(id), 2);
	assert_null(ks_ident__get(id, 1));
	assert_null(ks_ident__get(id, 5));

	/* loading from /proc makes room the same way */
	fake_proc(100, "loaded", 1, 0, 1, NULL, NULL, 0);
	ks_ident__exec(id, 7, 0, 0, 0, "seven", "/bin/seven", "", 0, false);
	assert_non_null(ks_ident__get(id, 6));
	assert_non_null(ks_ident__get(id, 100));	/* evicts 4, the least recently used */
	assert_int_equal(ks_ident__count(id), 3);
	assert_null(ks_ident__get(id, 4));
	ks_ident__free(id);
}

static void test_seed(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root);

	fake_proc(100, "a", 1, 0, 1, NULL, NULL, 0);
	fake_proc(200, "b", 1, 0, 1, NULL, NULL, 0);
	fake_proc(300, "c", 1, 0, 1, NULL, NULL, 0);
	tu_write(root, "300/stat", "300 (c) S", -1);	/* cut: skipped */
	tu_write(root, "400", "not a directory", -1);
	tu_write(root, "0", "", 0);
	assert_int_equal(ks_ident__seed(id), 2);
	assert_int_equal(ks_ident__count(id), 2);
	assert_string_equal(ks_ident__get(id, 200)->comm, "b");
	assert_int_equal(ks_ident__seed(id), 0);	/* known ones are not added twice */
	ks_ident__free(id);

	id = ks_ident__new(1, root);	/* never more than max */
	assert_int_equal(ks_ident__seed(id), 1);
	assert_int_equal(ks_ident__count(id), 1);
	ks_ident__free(id);

	id = ks_ident__new(4, "/nonexistent-proc");
	assert_int_equal(ks_ident__seed(id), 0);
	assert_null(ks_ident__get(id, 1));
	ks_ident__free(id);
}

static uint64_t mkcg(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", cgroot, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void test_service(void **state)
{
	struct ks_ident *id;
	uint64_t sys, nginx, user, docker;
	const char *svc;

	sys = mkcg("/system.slice");
	nginx = mkcg("/system.slice/nginx.service");
	user = mkcg("/user.slice");
	docker = mkcg("/docker");
	docker = mkcg("/docker/0123456789abcdef0123456789abcdef");
	id = ks_ident__new(16, root);
	fake_proc(100, "nginx", 1, 0, 1, "/usr/sbin/nginx-bin", NULL, 0);
	fake_proc(200, "worker", 1, 0, 1, NULL, NULL, 0);

	/* cgroup id -> path below the mount, by walking the tree */
	assert_string_equal(ks_ident__cgroup_path(id, nginx), "/system.slice/nginx.service");
	assert_string_equal(ks_ident__cgroup_path(id, sys), "/system.slice");
	assert_null(ks_ident__cgroup_path(id, 1));

	/* the unit or container of the cgroup wins */
	assert_string_equal(ks_ident__service(id, 100, nginx, "x"), "nginx.service");
	assert_string_equal(ks_ident__service(id, 200, docker, "x"), "0123456789ab");
	/* a cgroup that names neither: the executable's name, else the comm */
	assert_string_equal(ks_ident__service(id, 100, user, "x"), "nginx-bin");
	assert_string_equal(ks_ident__service(id, 200, user, "x"), "worker");
	assert_string_equal(ks_ident__service(id, 100, 0, "x"), "nginx-bin");
	assert_string_equal(ks_ident__service(id, 100, 987654321, "x"), "nginx-bin");
	/* an unknown, gone process: the comm the record carried */
	assert_string_equal(ks_ident__service(id, 999, user, "ghost"), "ghost");

	/* kept per process while its cgroup stays the same */
	svc = ks_ident__service(id, 100, nginx, "x");
	assert_ptr_equal(ks_ident__service(id, 100, nginx, "x"), svc);
	assert_ptr_equal(ks_ident__get(id, 100)->service, svc);
	assert_int_equal(ks_ident__get(id, 100)->cgroup, nginx);
	/* an exec forgets it */
	ks_ident__exec(id, 100, 1, 0, 1, "tool", "tool-relative", "", 0, false);
	assert_null(ks_ident__get(id, 100)->service);
	assert_string_equal(ks_ident__service(id, 100, user, "x"), "tool-relative");
	ks_ident__free(id);
}

/* Without a cgroup2 mount in mountinfo no path is known: the fallbacks still work. */
static void test_service_no_cgroup_root(void **state)
{
	struct ks_ident *id;

	tu_write(root, "self/mountinfo", "22 28 0:21 / /sys rw - sysfs sysfs rw\n", -1);
	id = ks_ident__new(16, root);
	fake_proc(100, "nginx", 1, 0, 1, "/usr/sbin/nginx", NULL, 0);
	fake_proc(200, "worker", 1, 0, 1, NULL, NULL, 0);
	assert_null(ks_ident__cgroup_path(id, mkcg("/system.slice")));
	assert_string_equal(ks_ident__service(id, 100, 1234, "x"), "nginx");
	assert_string_equal(ks_ident__service(id, 200, 1234, "x"), "worker");
	assert_string_equal(ks_ident__service(id, 300, 1234, "gone"), "gone");
	ks_ident__free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_no_cgroup_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
