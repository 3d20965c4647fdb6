// SPDX-License-Identifier: GPL-2.0
/*
 * core/ident_cg.c and the service of a record: cgroup ids resolved by the worker (here by
 * the fallback walk, paced), units and containers, /proc's cgroup paths, the fallbacks.
 * The fake: ident_fake.h.
 */
#include "ident_fake.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *service(struct ks_ident *id, uint32_t pid, uint64_t cg, struct ks_service *s)
{
	struct ks_hdr h = hdr(pid, "rec-comm", cg, 100);

	ks_ident__describe(id, &h, s);
	return s->name;
}

static void test_service(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	uint64_t nginx, user, docker, late;
	struct ks_service s;
	struct ks_hdr h;

	mkcg("/system.slice");
	nginx = mkcg("/system.slice/nginx.service");
	user = mkcg("/user.slice");
	mkcg("/docker");
	docker = mkcg("/docker/" HEX64);
	fake_proc(100, "nginx", 1, 0, 1, "/usr/sbin/nginx-bin", NULL, 0);
	fake_proc(200, "worker", 1, 0, 1, NULL, NULL, 0);

	/* nothing resolved yet: the executable, read at once (not the record's comm) */
	assert_string_equal(service(id, 100, nginx, &s), "nginx-bin");
	assert_int_equal(s.kind, KS_SVC_EXE);
	assert_null(s.cgroup_path);
	assert_int_equal(stats(id).cg_queued, 1);
	ks_worker__drain(w);	/* the process and the walk */
	/* the unit or container of the cgroup wins */
	assert_string_equal(service(id, 100, nginx, &s), "nginx.service");
	assert_int_equal(s.kind, KS_SVC_UNIT);
	assert_true(s.cgroup == nginx);
	assert_string_equal(s.cgroup_path, "/system.slice/nginx.service");
	/* the walk named every cgroup it saw */
	assert_string_equal(service(id, 200, docker, &s), "docker:0123456789ab");
	assert_int_equal(s.kind, KS_SVC_CONTAINER);
	assert_string_equal(ks_ident__cgroup_path(id, docker), "/docker/" HEX64);
	assert_int_equal(stats(id).cg_queued, 1);
	assert_int_equal(stats(id).cg_resolved, 6);	/* the root and five below */
	/* a cgroup that names neither: the executable's file name, else the comm */
	assert_string_equal(service(id, 100, user, &s), "nginx-bin");
	assert_int_equal(s.kind, KS_SVC_EXE);
	assert_string_equal(s.cgroup_path, "/user.slice");
	ks_worker__drain(w);
	assert_string_equal(service(id, 200, user, &s), "worker");
	assert_int_equal(s.kind, KS_SVC_COMM);
	ks_ident__free(id);

	/* one walk a second: a cgroup made after it waits for the next */
	id = ks_ident__new(16, root, w);
	assert_string_equal(service(id, 200, docker, &s), "rec-comm");
	ks_worker__drain(w);
	assert_string_equal(service(id, 200, docker, &s), "docker:0123456789ab");
	late = mkcg("/late.service");
	assert_string_equal(service(id, 200, late, &s), "worker");
	assert_int_equal(stats(id).cg_queued, 1);
	ks_worker__drain(w);
	assert_string_equal(service(id, 200, late, &s), "worker");
	assert_int_equal(stats(id).cg_queued, 1);
	/* a second later: a cgroup that does not exist (removed) is gone after a complete
	 * walk, which named the late one on the way */
	h = hdr(100, "rec-comm", 987654321, 100 + 1000000000ULL);
	ks_ident__describe(id, &h, &s);
	ks_worker__drain(w);
	ks_ident__describe(id, &h, &s);
	assert_string_equal(s.name, "nginx-bin");
	assert_null(s.cgroup_path);
	assert_int_equal(stats(id).cg_gone, 1);
	assert_int_equal(stats(id).cg_queued, 2);
	assert_string_equal(service(id, 200, late, &s), "late.service");
	/* no cgroup in the record: the one the process was last seen in */
	h.cgroup = 0;
	ks_ident__describe(id, &h, &s);
	assert_string_equal(s.name, "nginx-bin");
	assert_true(s.cgroup == 987654321);
	ks_ident__free(id);
}

/* /proc/PID/cgroup names the unit: used before (and without) the id's own resolution. */
static void test_service_from_proc_cgroup(void **state)
{
	struct ks_ident *id;
	struct ks_service s;
	uint64_t cron = mkcg("/cron.service");

	/* pure v2: the path and its id come with the process */
	fake_proc(100, "cron", 1, 0, 1, "/usr/sbin/cron", NULL, 0);
	proc_cgroup(100, "0::/cron.service\n");
	id = ks_ident__new(16, root, w);
	service(id, 100, cron, &s);
	ks_worker__drain(w);	/* the process's load names the cgroup on the way */
	assert_string_equal(ks_ident__find(id, 100)->cgroup_path, "/cron.service");
	assert_string_equal(service(id, 100, cron, &s), "cron.service");
	assert_string_equal(s.cgroup_path, "/cron.service");
	ks_ident__free(id);

	/* no cgroup2 mounted: the v1 name=systemd path */
	tu_write(root, "self/mountinfo", "22 28 0:21 / /sys rw - sysfs sysfs rw\n", -1);
	fake_proc(200, "atd", 1, 0, 1, "/usr/sbin/atd", NULL, 0);
	proc_cgroup(200, "2:memory:/x\n1:name=systemd:/system.slice/atd.service\n");
	/* hybrid: the v2 root, the unit in name=systemd */
	fake_proc(300, "sshd", 1, 0, 1, "/usr/sbin/sshd", NULL, 0);
	proc_cgroup(300, "1:name=systemd:/system.slice/ssh.service\n0::/\n");
	id = ks_ident__new(16, root, w);
	service(id, 200, 1234, &s);
	service(id, 300, 1234, &s);
	ks_worker__drain(w);
	assert_string_equal(service(id, 200, 1234, &s), "atd.service");
	assert_int_equal(s.kind, KS_SVC_UNIT);
	assert_null(s.cgroup_path);
	assert_string_equal(service(id, 300, 1234, &s), "ssh.service");
	assert_int_equal(stats(id).cg_queued, 0);	/* nothing to resolve against */
	assert_null(ks_ident__cgroup_path(id, 1234));
	ks_ident__free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_service, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_from_proc_cgroup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
