// SPDX-License-Identifier: GPL-2.0
/*
 * modules/proc_tree.c: the /proc stat parser, syncing from a fake proc root (a tmp directory
 * of <pid>/stat files), the records' effect on the tree (and on nodes /proc was read for
 * after the record), and the walk: order, depth, child counts, subtrees, reparented orphans.
 */
#include "testutil.h"

#include <errno.h>

#include "modules/proc_tree.h"

static char *root;		/* the fake /proc */
#define LATER (UINT64_MAX / 2)	/* a record time after any /proc read */

static void fake(uint32_t pid, const char *comm, char state, uint32_t ppid, uint32_t threads)
{
	char name[128], text[256];

	snprintf(name, sizeof(name), "%s/%u", root, pid);
	mkdir(name, 0755);
	snprintf(name, sizeof(name), "%u/stat", pid);
	snprintf(text, sizeof(text), "%u (%s) %c %u %u %u 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 %u 0 "
		 "12345 1000 200\n", pid, comm, state, ppid, pid, pid, threads);
	tu_write(root, name, text, -1);
}

static void gone(uint32_t pid)
{
	char *path;

	assert_true(asprintf(&path, "%s/%u", root, pid) > 0);
	tu_rmtree(path);
}

static int setup(void **state)
{
	root = tu_mkdtemp("ksproctree");
	/* init -> sh -> (worker, job); kthreadd at the top too; a zombie */
	fake(1, "init", 'S', 0, 1);
	fake(2, "kthreadd", 'S', 0, 1);
	fake(10, "sh", 'S', 1, 1);
	fake(11, "my (odd) name", 'R', 10, 4);
	fake(12, "job", 'S', 10, 1);
	fake(13, "dead", 'Z', 10, 1);
	return 0;
}

static int teardown(void **state)
{
	tu_rmtree(root);
	return 0;
}

static void test_parse_stat(void **state)
{
	struct proc_stat st;

	assert_int_equal(proc_parse_stat("42 (a) b) c) S 7 42 42 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 "
					 "9 0 100 200\n", &st), 0);
	assert_string_equal(st.comm, "a) b) c");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.threads, 9);
	/* cut after the thread count, no comm end, nothing after the comm */
	assert_int_equal(proc_parse_stat("42 (a) S 7 42 42 0 -1 1 2 3 4 5 6 7 8 20", &st), -1);
	assert_int_equal(proc_parse_stat("42 (a S 7", &st), -1);
	assert_int_equal(proc_parse_stat("42 (a)", &st), -1);
	assert_int_equal(proc_parse_stat("42 (a) S x 42", &st), -1);
}

static void test_sync(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	const struct proc_node *n;

	assert_int_equal(proc_tree__sync(t), 5);	/* the zombie is not live */
	assert_int_equal(proc_tree__count(t), 5);
	n = proc_tree__get(t, 11);
	assert_non_null(n);
	assert_string_equal(n->comm, "my (odd) name");
	assert_int_equal(n->ppid, 10);
	assert_int_equal(n->threads, 4);
	assert_true(n->started_before);
	assert_true(n->seen_ns > 0);
	assert_null(proc_tree__get(t, 13));
	/* a second sync drops what left and takes new values */
	gone(12);
	fake(11, "renamed", 'S', 1, 2);
	assert_int_equal(proc_tree__sync(t), 4);
	assert_null(proc_tree__get(t, 12));
	n = proc_tree__get(t, 11);
	assert_string_equal(n->comm, "renamed");
	assert_int_equal(n->ppid, 1);
	assert_int_equal(n->threads, 2);
	fake(11, "my (odd) name", 'R', 10, 4);
	fake(12, "job", 'S', 10, 1);
	proc_tree__free(t);
	t = proc_tree__new(1, "/nonexistent/proc");
	assert_int_equal(proc_tree__sync(t), -ENOENT);
	proc_tree__free(t);
}

static void test_records(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	const struct proc_node *n;

	proc_tree__sync(t);
	/* sh forks 20 (the child takes the caller's name) and 21 via CLONE_PARENT (to init) */
	proc_tree__fork(t, LATER, 10, 20, 10, "sh");
	proc_tree__fork(t, LATER, 10, 21, 1, "sh");
	n = proc_tree__get(t, 20);
	assert_int_equal(n->ppid, 10);
	assert_int_equal(n->threads, 1);
	assert_string_equal(n->comm, "sh");
	assert_false(n->started_before);
	assert_int_equal(proc_tree__get(t, 21)->ppid, 1);
	assert_int_equal(proc_tree__get(t, 10)->forks, 2);
	/* 20 makes two threads, one exits, then it execs */
	proc_tree__thread(t, LATER, 20);
	proc_tree__thread(t, LATER, 20);
	proc_tree__thread_exit(t, LATER, 20);
	n = proc_tree__get(t, 20);
	assert_int_equal(n->threads, 2);
	assert_int_equal(n->threads_created, 2);
	assert_int_equal(n->threads_exited, 1);
	proc_tree__exec(t, LATER, 20, 10, "ls");
	assert_int_equal(n->threads, 1);
	assert_int_equal(n->execs, 1);
	assert_string_equal(n->comm, "ls");
	/* the last thread's exit never takes the count to 0 */
	proc_tree__thread_exit(t, LATER, 20);
	assert_int_equal(n->threads, 1);
	/* 20 exits: gone, counted on its parent */
	proc_tree__exit(t, LATER, 20, 10);
	assert_null(proc_tree__get(t, 20));
	assert_int_equal(proc_tree__get(t, 10)->children_exited, 1);
	/* records about a process the tree lacks read it from /proc */
	fake(30, "late", 'S', 1, 3);
	proc_tree__thread(t, LATER, 30);
	n = proc_tree__get(t, 30);
	assert_non_null(n);
	assert_int_equal(n->threads_created, 1);
	assert_true(n->started_before);
	gone(30);
	/* an exec of an unknown process adds it from the record */
	proc_tree__exec(t, LATER, 31, 12, "new");
	assert_int_equal(proc_tree__get(t, 31)->ppid, 12);
	proc_tree__exit(t, LATER, 31, 12);
	proc_tree__exit(t, LATER, 999, 998);	/* unknown: nothing */
	proc_tree__free(t);
}

/* Records older than the /proc read are counted but already in what was read. */
static void test_records_before_read(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	const struct proc_node *n;

	proc_tree__sync(t);
	n = proc_tree__get(t, 11);
	proc_tree__thread(t, 1, 11);
	proc_tree__thread_exit(t, 1, 11);
	proc_tree__thread_exit(t, 1, 11);
	assert_int_equal(n->threads, 4);
	assert_int_equal(n->threads_created, 1);
	assert_int_equal(n->threads_exited, 2);
	proc_tree__exec(t, 1, 11, 10, "old");
	assert_string_equal(n->comm, "my (odd) name");
	assert_int_equal(n->execs, 1);
	/* the fork of a child /proc already showed: not replaced, but its birth was seen */
	proc_tree__fork(t, 1, 10, 12, 10, "sh");
	n = proc_tree__get(t, 12);
	assert_string_equal(n->comm, "job");
	assert_false(n->started_before);
	assert_int_equal(proc_tree__get(t, 10)->forks, 1);
	/* a later fork of the same pid is a new process: the old entry was stale */
	proc_tree__fork(t, LATER, 10, 12, 10, "sh");
	n = proc_tree__get(t, 12);
	assert_string_equal(n->comm, "sh");
	assert_int_equal(n->seen_ns, 0);
	proc_tree__free(t);
}

struct seen {
	uint32_t pid[32];
	unsigned int depth[32], kids[32];
	bool last[32];
	int n;
};

static void visit(const struct proc_node *n, unsigned int depth, unsigned int children,
		  bool last, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 32);
	s->pid[s->n] = n->pid;
	s->depth[s->n] = depth;
	s->kids[s->n] = children;
	s->last[s->n++] = last;
}

static void test_walk(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	struct seen s = { 0 };
	const uint32_t pids[] = { 1, 10, 11, 12, 2 };
	const unsigned int depth[] = { 0, 1, 2, 2, 0 }, kids[] = { 1, 2, 0, 0, 0 };
	const bool last[] = { true, true, false, true, true };

	proc_tree__sync(t);
	assert_int_equal(proc_tree__walk(t, 0, visit, &s), 5);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(s.pid[i], pids[i]);
		assert_int_equal(s.depth[i], depth[i]);
		assert_int_equal(s.kids[i], kids[i]);
		assert_int_equal(s.last[i], last[i]);
	}
	/* the subtree of sh: sh at depth 0 */
	memset(&s, 0, sizeof(s));
	assert_int_equal(proc_tree__walk(t, 10, visit, &s), 3);
	assert_int_equal(s.pid[0], 10);
	assert_int_equal(s.depth[0], 0);
	assert_int_equal(s.pid[2], 12);
	assert_int_equal(s.depth[2], 1);
	assert_int_equal(proc_tree__walk(t, 4242, visit, &s), -ESRCH);
	proc_tree__free(t);
}

/* sh exits: its children are the kernel's to reparent; /proc says where they went. */
static void test_walk_orphans(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	struct seen s = { 0 };

	proc_tree__sync(t);
	proc_tree__exit(t, LATER, 10, 1);
	fake(11, "my (odd) name", 'R', 1, 4);
	gone(12);
	assert_int_equal(proc_tree__walk(t, 0, visit, &s), 4);
	assert_int_equal(s.pid[0], 1);
	assert_int_equal(s.pid[1], 11);
	assert_int_equal(s.depth[1], 1);
	assert_int_equal(s.pid[2], 2);
	assert_int_equal(s.pid[3], 12);	/* gone from /proc: its own root until its exit */
	assert_int_equal(s.depth[3], 0);
	assert_int_equal(proc_tree__get(t, 11)->ppid, 1);
	assert_int_equal(proc_tree__get(t, 1)->children_exited, 1);
	fake(11, "my (odd) name", 'R', 10, 4);
	fake(12, "job", 'S', 10, 1);
	proc_tree__free(t);
}

/* Stale parent links that form a loop must not hang the walk. */
static void test_walk_loop(void **state)
{
	struct proc_tree *t = proc_tree__new(100, root);
	struct seen s = { 0 };

	proc_tree__fork(t, LATER, 50, 51, 50, "a");
	proc_tree__fork(t, LATER, 51, 50, 51, "b");
	assert_int_equal(proc_tree__walk(t, 50, visit, &s), 2);
	proc_tree__free(t);
}

static void test_capacity(void **state)
{
	struct proc_tree *t = proc_tree__new(3, root);

	assert_int_equal(proc_tree__sync(t), 5);
	assert_int_equal(proc_tree__count(t), 3);
	assert_int_equal(proc_tree__dropped(t), 2);
	proc_tree__free(t);
	proc_tree__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_records_before_read),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_orphans),
		cmocka_unit_test(test_walk_loop),
		cmocka_unit_test(test_capacity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
