// SPDX-License-Identifier: GPL-2.0
/* files module, pure parts: names, detail text, the summary table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "core/path.h"
#include "modules/files_fmt.h"
#include "modules/files_tab.h"

static void test_after_link(void **state)
{
	const char *a = "/proc/self/fd/3//sub/x";
	char out[64];
	const char *r;
	size_t n;

	/* what follows the link is relative to the fd's file: "" for the file itself */
	r = files_after_link(a, strlen(a) + 1, 15, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(r, "sub/x", 5);
	r = files_after_link("/dev/fd/12", 11, 10, &n);
	assert_int_equal(n, 0);
	ks_path_join("/tmp/w/d", 9, false, r, n, out, sizeof(out), NULL);
	assert_string_equal(out, "/tmp/w/d");
	r = files_after_link("/proc/self/fd/3/", 17, 15, &n);
	assert_int_equal(n, 0);
	/* no link, or a length past the argument: the argument as it is */
	r = files_after_link(a, 7, 0, &n);
	assert_ptr_equal(r, a);
	assert_int_equal(n, 7);
	r = files_after_link("/x", 3, 15, &n);
	assert_string_equal(r, "/x");
	assert_int_equal(n, 3);
}

static void test_names(void **state)
{
	assert_string_equal(files_op_name(0), "create");
	assert_string_equal(files_op_name(FILES_OP_WRITE), "write");
	assert_string_equal(files_op_name(FILES_OP_N), "?");
	assert_string_equal(files_why_name(FILES_CLOSED_RANGE), "close_range");
	assert_string_equal(files_why_name(99), "?");
	assert_string_equal(files_sys_name(SYS_renameat2), "renameat2");
	assert_string_equal(files_sys_name(452), "fchmodat2");
	assert_string_equal(files_sys_name(SYS_getpid), "?");
	assert_true(files_sys_fd_based(SYS_fchmod));
	assert_true(files_sys_fd_based(SYS_pwritev2));
	assert_false(files_sys_fd_based(SYS_fchmodat));
	assert_string_equal(files_ftype_name(S_IFIFO | 0600), "fifo");
	assert_string_equal(files_ftype_name(S_IFREG | 0644), "file");
	assert_null(files_ftype_name(0644));
}

static void test_detail_strings(void **state)
{
	char buf[64];

	assert_int_equal(files_rename_flags(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	files_rename_flags(1 | 4, buf, sizeof(buf));
	assert_string_equal(buf, "RENAME_NOREPLACE|RENAME_WHITEOUT");
	files_rename_flags(2 | 16, buf, sizeof(buf));
	assert_string_equal(buf, "RENAME_EXCHANGE|0x10");
	files_rename_flags(1 | 2, buf, 10);
	assert_string_equal(buf, "RENAME_NO");
	files_owner_str(1000, UINT32_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "uid 1000 gid -");
	files_owner_str(UINT32_MAX, 0, buf, sizeof(buf));
	assert_string_equal(buf, "uid - gid 0");
}

static struct files_top_row row(uint32_t pid, uint64_t ino, uint64_t r, uint64_t rb, uint64_t w,
				uint64_t wb, const char *path)
{
	struct files_top_row x;

	memset(&x, 0, sizeof(x));
	x.k.tgid = pid;
	x.k.ino = ino;
	x.v.reads = r;
	x.v.rbytes = rb;
	x.v.writes = w;
	x.v.wbytes = wb;
	strcpy(x.v.path, path);
	return x;
}

static void test_topd_delta(void **state)
{
	struct files_topd *d = files_topd__new();
	struct files_top_row rows[4];
	struct files_top_val last;

	rows[0] = row(1, 10, 5, 500, 1, 10, "/a");
	rows[1] = row(2, 10, 0, 0, 3, 30, "/a");
	assert_int_equal(files_topd__delta(d, rows, 2, 4), 2);
	assert_int_equal(rows[0].v.reads, 5);	/* first report: totals */
	/* next report: growth only; a new key in full; a vanished key forgotten */
	rows[0] = row(2, 10, 0, 0, 7, 70, "/a");
	rows[1] = row(1, 10, 6, 600, 1, 10, "/a");
	rows[2] = row(3, 11, 1, 1, 0, 0, "/b");
	assert_int_equal(files_topd__delta(d, rows, 3, 4), 3);
	assert_int_equal(rows[0].v.writes, 4);
	assert_int_equal(rows[0].v.wbytes, 40);
	assert_int_equal(rows[1].v.reads, 1);
	assert_int_equal(rows[1].v.rbytes, 100);
	assert_int_equal(rows[1].v.writes, 0);
	assert_int_equal(rows[2].v.reads, 1);
	/* pid 1's entry is deleted with 2 more reads than the dump saw: reported next time,
	 * as a row of its own since the key is gone from the kernel */
	last = row(1, 10, 8, 800, 1, 10, "/a").v;
	assert_int_equal(files_topd__retire(d, &rows[1].k, &last), 0);
	/* pid 3's entry is deleted unchanged: nothing to report */
	last = row(3, 11, 1, 1, 0, 0, "/b").v;
	assert_int_equal(files_topd__retire(d, &rows[2].k, &last), 0);
	rows[0] = row(2, 10, 0, 0, 7, 70, "/a");
	assert_int_equal(files_topd__delta(d, rows, 1, 4), 2);
	assert_int_equal(rows[0].v.writes, 0);
	assert_int_equal(rows[1].k.tgid, 1);
	assert_int_equal(rows[1].v.reads, 2);
	assert_int_equal(rows[1].v.rbytes, 200);
	assert_string_equal(rows[1].v.path, "/a");
	/* retired, then made again before the report: one row, both parts */
	last = row(2, 10, 0, 0, 9, 90, "/a").v;
	assert_int_equal(files_topd__retire(d, &rows[0].k, &last), 0);
	rows[0] = row(2, 10, 0, 0, 1, 5, "/a");
	assert_int_equal(files_topd__delta(d, rows, 1, 4), 1);
	assert_int_equal(rows[0].v.writes, 3);
	assert_int_equal(rows[0].v.wbytes, 25);
	/* no room for the appended rows: cut at @cap */
	last = row(2, 10, 0, 0, 2, 6, "/a").v;
	assert_int_equal(files_topd__retire(d, &rows[0].k, &last), 0);
	assert_int_equal(files_topd__delta(d, rows, 0, 0), 0);
	/* a total below the previous one (entry deleted and made again): in full */
	rows[0] = row(5, 10, 3, 30, 0, 0, "/c");
	assert_int_equal(files_topd__delta(d, rows, 1, 4), 1);
	rows[0] = row(5, 10, 1, 5, 0, 0, "/c");
	assert_int_equal(files_topd__delta(d, rows, 1, 4), 1);
	assert_int_equal(rows[0].v.reads, 1);
	assert_int_equal(rows[0].v.rbytes, 5);
	files_topd__free(d);
}

static void test_top_sort(void **state)
{
	struct files_top_row rows[4] = {
		row(1, 1, 1, 100, 0, 0, "/r"), row(2, 2, 0, 0, 9, 90, "/w"),
		row(3, 3, 5, 50, 5, 50, "/rw"), row(0, 4, 1, 100, 0, 0, "/q"),
	};

	files_top_sort(rows, 4, FILES_SORT_ALL);	/* bytes: 100, 90, 100, 100 */
	assert_string_equal(rows[0].v.path, "/rw");	/* 100 bytes, 10 calls */
	assert_int_equal(rows[1].k.tgid, 0);		/* tie: pid order */
	assert_int_equal(rows[2].k.tgid, 1);
	assert_string_equal(rows[3].v.path, "/w");
	files_top_sort(rows, 4, FILES_SORT_WRITES);
	assert_string_equal(rows[0].v.path, "/w");
	files_top_sort(rows, 4, FILES_SORT_RBYTES);
	assert_string_equal(rows[3].v.path, "/w");
	files_top_sort(rows, 4, FILES_SORT_READS);
	assert_string_equal(rows[0].v.path, "/rw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_after_link),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_detail_strings),
		cmocka_unit_test(test_topd_delta),
		cmocka_unit_test(test_top_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
