// SPDX-License-Identifier: GPL-2.0
/*
 * core/ident.c, ident_load.c: processes from records and from /proc loads the worker
 * makes, their eviction, seeding, loads refused or outdated (the fake: ident_fake.h).
 */
#include "ident_fake.h"

/* A miss answers at once from the record; /proc's answer comes when the worker is drained. */
static void test_lookup_then_loaded(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	struct ks_hdr h = hdr(100, "nginx: worker", 0, 1000);
	const struct ks_proc *p;

	assert_non_null(id);
	fake_proc(100, "nginx: worker", 1, 33, 250, "/usr/sbin/nginx", "nginx\0-g\0daemon off;\0",
		  21);
	p = ks_ident__lookup(id, &h);
	assert_non_null(p);
	assert_int_equal(p->state, KS_PROC_PARTIAL);
	assert_int_equal(p->pid, 100);
	assert_string_equal(p->comm, "nginx: worker");
	assert_null(p->exe);
	/* not loaded yet: its executable, read at once (not the comm, which would name
	 * the same process apart until the load came) */
	assert_string_equal(ks_ident__service(id, &h), "nginx");
	assert_string_equal(p->exe, "/usr/sbin/nginx");
	assert_int_equal(p->state, KS_PROC_PARTIAL);
	assert_int_equal(stats(id).misses, 1);
	assert_int_equal(stats(id).queued, 1);

	assert_int_equal(ks_worker__drain(w), 1);
	p = ks_ident__find(id, 100);
	assert_int_equal(p->state, KS_PROC_FULL);
	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->uid, 33);	/* the real uid, not the effective one */
	/* boot-based ticks made monotonic, like record times (the offset is read twice) */
	assert_true(llabs((int64_t)p->start_ns - (int64_t)(250 * tick_ns - boot_ahead())) <
		    1000000);
	assert_string_equal(p->exe, "/usr/sbin/nginx");
	assert_int_equal(p->args_len, 20);
	assert_memory_equal(p->args, "nginx\0-g\0daemon off;", 21);
	assert_false(p->args_cut);
	assert_false(p->exited);
	assert_string_equal(ks_ident__service(id, &h), "nginx");	/* the executable */

	/* cached: /proc is not read again, nothing queued */
	rm_proc(100);
	assert_ptr_equal(ks_ident__lookup(id, &h), p);
	assert_int_equal(stats(id).queued, 1);
	assert_int_equal(stats(id).lookups, 4);
	assert_int_equal(stats(id).misses, 1);
	assert_int_equal(stats(id).loaded, 1);
	ks_ident__free(id);
	ks_ident__free(NULL);
}

static void test_kernel_thread_and_gone(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	const struct ks_proc *p;

	fake_proc(200, "kworker/0:1", 2, 0, 5, NULL, "", 0);
	fake_proc(300, "broken", 1, 0, 1, NULL, NULL, 0);
	tu_write(root, "300/stat", "garbage\n", -1);
	look(id, 200, 10);
	look(id, 300, 10);
	look(id, 999, 10);	/* never was */
	ks_worker__drain(w);
	p = ks_ident__find(id, 200);
	assert_int_equal(p->state, KS_PROC_FULL);
	assert_null(p->exe);
	assert_null(p->args);
	assert_int_equal(p->ppid, 2);
	assert_int_equal(ks_ident__find(id, 300)->state, KS_PROC_GONE);
	p = ks_ident__find(id, 999);
	assert_int_equal(p->state, KS_PROC_GONE);
	assert_string_equal(p->comm, "rec");	/* what the record said stays */
	assert_int_equal(stats(id).gone, 2);
	/* gone is not asked again */
	look(id, 999, 5000000000ULL);
	assert_int_equal(stats(id).queued, 3);
	ks_ident__free(id);
}

static void test_exec_exit(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	struct ks_hdr h = hdr(100, "python3", 77, 2000);
	char big[600];
	const struct ks_proc *p;

	fake_proc(100, "bash", 1, 1000, 10, "/usr/bin/bash", "bash\0", 5);
	p = look(id, 100, 1000);
	ks_worker__drain(w);
	assert_string_equal(p->comm, "bash");

	/* the exec replaces everything known, in the same entry, without /proc */
	ks_ident__exec(id, &h, 7, 1001, 123456789, "/usr/bin/python3.11", "python3\0-c\0pass\0",
		       16, false);
	assert_int_equal(ks_ident__count(id), 1);
	assert_ptr_equal(ks_ident__find(id, 100), p);
	assert_int_equal(p->state, KS_PROC_FULL);
	assert_int_equal(p->ppid, 7);
	assert_int_equal(p->uid, 1001);
	assert_true(p->start_ns == 123456789);
	assert_true(p->cgroup == 77);
	assert_string_equal(p->comm, "python3");
	assert_string_equal(p->exe, "/usr/bin/python3.11");
	assert_int_equal(p->args_len, 15);
	assert_memory_equal(p->args, "python3\0-c\0pass", 16);	/* NUL-terminated */
	assert_int_equal(stats(id).queued, 1);

	/* exits are marked and kept for late records (made before the exit) */
	h.ts = 3000;
	ks_ident__exit(id, &h, 7, 1001, 123456789);
	assert_true(ks_ident__find(id, 100)->exited);
	assert_ptr_equal(look(id, 100, 2500), p);
	assert_true(p->exited);
	assert_string_equal(p->exe, "/usr/bin/python3.11");
	/* a record made after the exit is another process given the pid */
	p = look(id, 100, 3500);
	assert_false(p->exited);
	assert_int_equal(p->state, KS_PROC_PARTIAL);
	assert_null(p->exe);
	assert_int_equal(stats(id).misses, 2);
	assert_int_equal(stats(id).queued, 2);
	ks_worker__drain(w);
	assert_string_equal(p->exe, "/usr/bin/bash");	/* /proc's, for the new one */

	/* an exit of a process never seen: what its record carries, nothing queued */
	h = hdr(555, "short", 0, 4000);
	ks_ident__exit(id, &h, 100, 42, 3900);
	p = ks_ident__find(id, 555);
	assert_int_equal(p->state, KS_PROC_GONE);
	assert_int_equal(p->ppid, 100);
	assert_int_equal(p->uid, 42);
	assert_true(p->start_ns == 3900);
	assert_true(p->exited);
	assert_int_equal(stats(id).queued, 2);

	/* exec'd by a path that does not name the file: /proc says which */
	fake_proc(600, "real", 1, 0, 1, "/usr/bin/real", NULL, 0);
	h = hdr(600, "real", 0, 4500);
	ks_ident__exec(id, &h, 1, 0, 0, "./real", "real", 4, false);
	p = ks_ident__find(id, 600);
	assert_string_equal(p->exe, "./real");
	assert_int_equal(stats(id).queued, 3);
	ks_worker__drain(w);
	assert_string_equal(p->exe, "/usr/bin/real");
	assert_string_equal(p->args, "real");	/* the rest is the exec's */
	h = hdr(601, "x", 0, 4500);
	ks_ident__exec(id, &h, 1, 0, 0, "/proc/self/exe", "x", 1, false);
	assert_int_equal(stats(id).queued, 4);
	ks_worker__drain(w);	/* gone: the record's path stays */
	assert_string_equal(ks_ident__find(id, 601)->exe, "/proc/self/exe");

	/* a pid never seen in /proc; the comm is cut to 15 bytes; the kernel's cut flag */
	h = hdr(556, "", 0, 5000);
	memcpy(h.comm, "a-very-long-command-name", sizeof(h.comm));	/* no NUL */
	ks_ident__exec(id, &h, 100, 0, 1, "", "x", 1, true);
	p = ks_ident__find(id, 556);
	assert_string_equal(p->comm, "a-very-long-com");
	assert_null(p->exe);	/* an empty path is no path */
	assert_true(p->args_cut);
	/* long argv is cut to KS_IDENT_ARGS_MAX bytes */
	memset(big, 'a', sizeof(big));
	h = hdr(557, "a", 0, 5000);
	ks_ident__exec(id, &h, 1, 0, 1, "/bin/a", big, sizeof(big), false);
	p = ks_ident__find(id, 557);
	assert_int_equal(p->args_len, KS_IDENT_ARGS_MAX);
	assert_true(p->args_cut);
	assert_int_equal(p->args[KS_IDENT_ARGS_MAX], 0);
	ks_ident__free(id);
}

/* Exactly KS_IDENT_ARGS_MAX bytes of arguments fit; one more is cut. */
static void test_cmdline_limit(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	char cmd[KS_IDENT_ARGS_MAX + 8];

	memset(cmd, 'c', sizeof(cmd));
	cmd[KS_IDENT_ARGS_MAX] = 0;	/* 512 bytes and the final NUL */
	fake_proc(100, "c", 1, 0, 1, NULL, cmd, KS_IDENT_ARGS_MAX + 1);
	memset(cmd, 'c', sizeof(cmd));
	cmd[KS_IDENT_ARGS_MAX + 1] = 0;	/* 513 bytes */
	fake_proc(101, "c", 1, 0, 1, NULL, cmd, KS_IDENT_ARGS_MAX + 2);
	fake_proc(102, "c", 1, 0, 1, NULL, cmd, sizeof(cmd));	/* longer, no final NUL */
	for (uint32_t pid = 100; pid <= 102; pid++)
		look(id, pid, 1);
	ks_worker__drain(w);
	assert_int_equal(ks_ident__find(id, 100)->args_len, KS_IDENT_ARGS_MAX);
	assert_false(ks_ident__find(id, 100)->args_cut);
	assert_int_equal(ks_ident__find(id, 101)->args_len, KS_IDENT_ARGS_MAX);
	assert_true(ks_ident__find(id, 101)->args_cut);
	assert_int_equal(ks_ident__find(id, 102)->args_len, KS_IDENT_ARGS_MAX);
	assert_true(ks_ident__find(id, 102)->args_cut);
	ks_ident__free(id);
}

static void exec_pid(struct ks_ident *id, uint32_t pid, uint64_t ts)
{
	struct ks_hdr h = hdr(pid, "x", 0, ts);

	ks_ident__exec(id, &h, 0, 0, 0, "/bin/x", "", 0, false);
}

static void exit_pid(struct ks_ident *id, uint32_t pid, uint64_t ts)
{
	struct ks_hdr h = hdr(pid, "x", 0, ts);

	ks_ident__exit(id, &h, 0, 0, 0);
}

static void test_eviction(void **state)
{
	struct ks_ident *id = ks_ident__new(3, root, w);

	/* pids without /proc entries: once evicted, nothing is found */
	exec_pid(id, 1, 10);
	exec_pid(id, 2, 10);
	exec_pid(id, 3, 10);
	assert_int_equal(ks_ident__count(id), 3);

	/* exited processes go first, even the most recently used */
	exit_pid(id, 3, 20);
	look(id, 3, 15);
	exec_pid(id, 4, 30);
	assert_int_equal(ks_ident__count(id), 3);
	assert_null(ks_ident__find(id, 3));
	assert_int_equal(stats(id).evicted, 1);

	/* else the least recently used: 2 (1 was just looked up, 4 is new) */
	look(id, 1, 40);
	exec_pid(id, 5, 50);
	assert_null(ks_ident__find(id, 2));
	assert_non_null(ks_ident__find(id, 1));
	assert_non_null(ks_ident__find(id, 4));
	assert_non_null(ks_ident__find(id, 5));

	/* one at a time: among the exited, the least recently looked up first */
	exit_pid(id, 1, 60);
	exit_pid(id, 5, 61);
	look(id, 1, 59);
	exec_pid(id, 6, 70);
	assert_null(ks_ident__find(id, 5));
	assert_non_null(ks_ident__find(id, 1));
	exec_pid(id, 7, 80);
	assert_null(ks_ident__find(id, 1));
	assert_non_null(ks_ident__find(id, 4));
	assert_int_equal(ks_ident__count(id), 3);
	assert_int_equal(stats(id).evicted, 4);

	/* a miss makes room the same way: 4 is the least recently used */
	look(id, 6, 90);
	look(id, 7, 90);
	look(id, 100, 90);
	assert_null(ks_ident__find(id, 4));
	assert_int_equal(ks_ident__count(id), 3);
	ks_worker__drain(w);
	ks_ident__free(id);
}

/* Many processes: a lookup and an eviction cost the same whatever the cache holds. */
static void test_eviction_at_scale(void **state)
{
	struct ks_ident *id = ks_ident__new(1000, root, w);

	for (uint32_t pid = 1; pid <= 100000; pid++) {
		exec_pid(id, pid, pid);
		if (pid % 3 == 0)
			exit_pid(id, pid, pid);
	}
	assert_int_equal(ks_ident__count(id), 1000);
	/* the survivors: the last 1000 that had not exited, as exited ones went first */
	assert_non_null(ks_ident__find(id, 100000));
	assert_null(ks_ident__find(id, 99999));
	assert_non_null(ks_ident__find(id, 99998));
	assert_int_equal(stats(id).evicted, 99000);
	ks_ident__free(id);
}

static void test_seed(void **state)
{
	struct ks_ident *id = ks_ident__new(16, root, w);
	struct ks_hdr h = hdr(200, "exec'd", 0, 10);

	fake_proc(100, "a", 1, 0, 1, NULL, NULL, 0);
	fake_proc(200, "b", 1, 0, 1, "/bin/b", NULL, 0);
	fake_proc(300, "c", 1, 0, 1, NULL, NULL, 0);
	tu_write(root, "300/stat", "300 (c) S", -1);	/* cut: skipped */
	tu_write(root, "400", "not a directory", -1);
	tu_write(root, "0", "", 0);
	assert_int_equal(ks_ident__seed(id), 0);
	assert_int_equal(ks_ident__count(id), 0);	/* nothing until drained */
	ks_ident__exec(id, &h, 1, 0, 1, "/bin/exec", "", 0, false);	/* newer than /proc */
	ks_worker__drain(w);
	assert_int_equal(ks_ident__count(id), 2);
	assert_string_equal(ks_ident__find(id, 100)->comm, "a");
	assert_string_equal(ks_ident__find(id, 200)->exe, "/bin/exec");
	assert_int_equal(stats(id).queued, 1);
	ks_ident__free(id);

	/* a chunk at a time, each queued behind the misses that came meanwhile */
	for (uint32_t pid = 1000; pid < 1020; pid++)
		fake_proc(pid, "many", 1, 0, 1, NULL, NULL, 0);
	id = ks_ident__new(64, root, w);
	ks_ident__seed(id);
	look(id, 5000, 1);	/* a miss, queued after the first chunk */
	assert_int_equal(ks_worker__drain(w), 2);
	assert_int_equal(ks_ident__count(id), 1 + 8);
	assert_int_equal(ks_worker__drain(w), 1);
	assert_int_equal(ks_worker__drain(w), 1);	/* 22 processes in all: 8, 8, 6 */
	assert_int_equal(ks_worker__drain(w), 0);
	assert_int_equal(ks_ident__count(id), 1 + 22);
	ks_ident__free(id);

	id = ks_ident__new(1, root, w);	/* never more than max, and never evicting */
	exec_pid(id, 7, 1);
	ks_ident__seed(id);
	ks_worker__drain(w);
	assert_int_equal(ks_ident__count(id), 1);
	assert_non_null(ks_ident__find(id, 7));
	ks_ident__free(id);

	id = ks_ident__new(4, "/nonexistent-proc", w);
	ks_ident__seed(id);
	look(id, 1, 1);
	ks_worker__drain(w);
	assert_int_equal(ks_ident__find(id, 1)->state, KS_PROC_GONE);
	ks_ident__free(id);
}

/* Loads published after the entry changed are thrown away. */
static void test_stale_loads(void **state)
{
	struct ks_ident *id = ks_ident__new(2, root, w);
	struct ks_hdr h = hdr(100, "new", 0, 50);

	fake_proc(100, "old", 1, 0, 1, "/bin/old", NULL, 0);
	look(id, 100, 10);
	ks_ident__exec(id, &h, 1, 0, 1, "/bin/new", "", 0, false);
	ks_worker__drain(w);
	assert_string_equal(ks_ident__find(id, 100)->exe, "/bin/new");
	assert_int_equal(stats(id).stale, 1);
	/* evicted before the answer came */
	look(id, 100, 60);
	look(id, 101, 60);
	look(id, 102, 60);	/* evicts 100, whose load is queued */
	ks_worker__drain(w);
	assert_null(ks_ident__find(id, 100));
	assert_int_equal(stats(id).stale, 1);	/* 100's was done: FULL already */
	ks_ident__free(id);
}

/* A full worker queue: the record's data stands, the load is asked again a second later. */
static void test_refused_loads(void **state)
{
	struct ks_worker *small = ks_worker__new(1, 0, false);
	struct ks_ident *id = ks_ident__new(16, root, small);

	fake_proc(100, "a", 1, 0, 1, "/bin/a", NULL, 0);
	fake_proc(101, "b", 1, 0, 1, "/bin/b", NULL, 0);
	look(id, 100, 1000);
	look(id, 101, 1000);	/* refused: 100's is not picked up yet */
	assert_int_equal(stats(id).queued, 1);
	assert_int_equal(stats(id).dropped, 1);
	ks_worker__drain(small);
	look(id, 101, 2000);	/* too soon */
	assert_int_equal(stats(id).queued, 1);
	look(id, 101, 1000 + 1000000000ULL);
	assert_int_equal(stats(id).queued, 2);
	ks_worker__drain(small);
	assert_string_equal(ks_ident__find(id, 101)->exe, "/bin/b");
	assert_int_equal(stats(id).loaded, 2);
	ks_ident__free(id);
	ks_worker__free(small);
}

/* A worker that takes ten seconds per load: lookups still answer at once. */
static void test_slow_worker_never_blocks(void **state)
{
	struct ks_worker *slow = ks_worker__new(4096, 10000, true);
	struct ks_ident *id = ks_ident__new(8192, root, slow);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (uint32_t pid = 1; pid <= 5000; pid++)
		assert_int_equal(look(id, pid, pid)->state, KS_PROC_PARTIAL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 2);
	assert_int_equal(stats(id).queued, 4096);
	assert_int_equal(stats(id).dropped, 5000 - 4096);
	ks_worker__free(slow);	/* ends the pause at once */
	ks_ident__free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_then_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_thread_and_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_at_scale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_worker_never_blocks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
