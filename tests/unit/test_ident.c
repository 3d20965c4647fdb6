// SPDX-License-Identifier: GPL-2.0
/*
 * core/ident*.c against a fake proc root: a tmp directory with <pid>/{stat,status,cmdline,
 * exe,cgroup} and self/mountinfo naming a cgroup2 "mount" that is a plain directory tree
 * (so cgroups resolve by the fallback walk). The worker runs jobs inline: a load happens at
 * the lookup, its result is published at ks_worker__drain(), as the reader would see it.
 */
#include "testutil.h"

#include <errno.h>
#include <time.h>

#include "core/ident.h"
#include "core/worker.h"

static char *root;		/* the fake /proc */
static char cgroot[256];	/* the fake cgroup2 mount */
static double tick_ns;
static struct ks_worker *w;

static int64_t boot_ahead(void)
{
	struct timespec b, m;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (b.tv_sec - m.tv_sec) * 1000000000LL + (b.tv_nsec - m.tv_nsec);
}

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

static void proc_cgroup(uint32_t pid, const char *text)
{
	char name[64];

	snprintf(name, sizeof(name), "%u/cgroup", pid);
	tu_write(root, name, text, -1);
}

static void rm_proc(uint32_t pid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	tu_rmtree(strdup(path));
}

static struct ks_hdr hdr(uint32_t pid, const char *comm, uint64_t cgroup, uint64_t ts)
{
	struct ks_hdr h = { .pid = pid, .tid = pid, .cgroup = cgroup, .ts = ts };

	snprintf(h.comm, sizeof(h.comm), "%.15s", comm);
	return h;
}

static const struct ks_proc *look(struct ks_ident *id, uint32_t pid, uint64_t ts)
{
	struct ks_hdr h = hdr(pid, "rec", 0, ts);

	return ks_ident__lookup(id, &h);
}

static struct ks_ident_stats stats(struct ks_ident *id)
{
	struct ks_ident_stats st;

	ks_ident__stats(id, &st);
	return st;
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
	w = ks_worker__new(64, 0, false);
	assert_non_null(w);
	return 0;
}

static int teardown(void **state)
{
	ks_worker__free(w);
	tu_rmtree(root);
	return 0;
}

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
	assert_string_equal(ks_ident__service(id, &h), "nginx: worker");	/* the comm */
	assert_int_equal(stats(id).misses, 1);
	assert_int_equal(stats(id).queued, 1);

	assert_int_equal(ks_worker__drain(w), 1);
	p = ks_ident__find(id, 100);
	assert_int_equal(p->state, KS_PROC_FULL);
	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->uid, 33);	/* the real uid, not the effective one */
	/* boot-based ticks made monotonic, like record times (the offset is read twice) */
	assert_true(llabs((int64_t)p->start_ns - (int64_t)(250 * tick_ns - boot_ahead())) < 1000000);
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

static uint64_t mkcg(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", cgroot, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

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

	/* nothing resolved yet: the record's comm */
	assert_string_equal(service(id, 100, nginx, &s), "rec-comm");
	assert_int_equal(s.kind, KS_SVC_COMM);
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
		cmocka_unit_test_setup_teardown(test_service, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_from_proc_cgroup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
