// SPDX-License-Identifier: GPL-2.0
/* cache: the tracepoint method's read accounting, hits and misses, device numbers, option
 * checks, and the residency records against a real file whose pages the test controls. */
#include "testctx.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "modules/cache_int.h"

extern const struct ks_module cache_module;

static void test_read_pages(void **state)
{
	struct cache_reader r = { 0 };

	/* a 1 MiB read from 0: its first batch names all 256 pages, the rest none */
	assert_int_equal(cache_read_pages(&r, 7, 12, 0, 255), 256);
	assert_int_equal(cache_read_pages(&r, 7, 12, 31, 255), 0);
	assert_int_equal(cache_read_pages(&r, 7, 12, 62, 255), 0);
	/* the next read of the file */
	assert_int_equal(cache_read_pages(&r, 7, 12, 256, 511), 256);
	/* the same range read again: a new read (it does not start further on) */
	assert_int_equal(cache_read_pages(&r, 7, 12, 256, 511), 256);
	/* another file with the same last page, or the same inode on another device */
	assert_int_equal(cache_read_pages(&r, 7, 13, 300, 511), 212);
	assert_int_equal(cache_read_pages(&r, 8, 13, 400, 511), 112);
	/* one page */
	assert_int_equal(cache_read_pages(&r, 8, 13, 5, 5), 1);
	/* nonsense (last before index) counts nothing */
	assert_int_equal(cache_read_pages(&r, 8, 13, 9, 5), 0);
}

static void test_hits_misses(void **state)
{
	uint64_t h, m;

	cache_hits_misses(16384, 16384, 0, &h, &m);
	assert_int_equal(h, 0);
	assert_int_equal(m, 16384);
	cache_hits_misses(16384, 0, 0, &h, &m);
	assert_int_equal(h, 16384);
	assert_int_equal(m, 0);
	/* writes extending a file: added and dirtied, not misses */
	cache_hits_misses(100, 40, 40, &h, &m);
	assert_int_equal(h, 100);
	assert_int_equal(m, 0);
	/* more added than accessed (readahead, racing counters): clamped */
	cache_hits_misses(10, 30, 5, &h, &m);
	assert_int_equal(h, 0);
	assert_int_equal(m, 25);
	cache_hits_misses(0, 0, 9, &h, &m);
	assert_int_equal(h + m, 0);
	assert_true(cache_ratio(0, 0) < 0);
	assert_true(cache_ratio(3, 1) == 75.0);
}

static void test_kdev(void **state)
{
	assert_int_equal(cache_kdev(makedev(7, 0)), 7 << 20);
	assert_int_equal(cache_kdev(makedev(259, 3)), 259 << 20 | 3);
	assert_int_equal(cache_kdev(makedev(8, 0x12345)), 8 << 20 | 0x12345);
}

static void test_bad_options(void **state)
{
	struct cache_state st = { 0 };
	struct ks_common common;
	char err[KS_ERR_LEN];

	ks_common_defaults(&common);
	st.per_thread = st.per_cgroup = true;
	assert_int_equal(cache_module.configure(&st, &common, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exclusive"));
	memset(&st, 0, sizeof(st));
	st.paths.v[st.paths.n++] = "/";
	assert_int_equal(cache_module.configure(&st, &common, err, sizeof(err)), -1);
	assert_string_equal(err, "--file /: not a regular file");
	st.paths.v[0] = "/nonexistent/x";
	assert_int_equal(cache_module.configure(&st, &common, err, sizeof(err)), -1);
	assert_string_equal(err, "--file /nonexistent/x: No such file or directory");
}

/* A 5-page file whose pages 1 and 3 are in the cache: written, dropped, two read back. */
static void test_residency(void **state)
{
	char *dir = tu_mkdtemp("ksight-cache"), path[256], *out, *argv[3];
	long psz = sysconf(_SC_PAGESIZE);
	char *buf = calloc(1, 5 * psz);
	const char *how = NULL;
	uint64_t pages = 0;
	struct tc t;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 5 * psz - 100), 5 * psz - 100);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	if (cache_resident(path, &pages, &how) != 0) {
		/* a file system that keeps what it can (tmpfs): nothing exact to check here */
		close(fd);
		tu_rmtree(dir);
		free(buf);
		skip();
	}
	assert_int_equal(pages, 5);
	assert_int_equal(pread(fd, buf, 1, psz), 1);
	assert_int_equal(pread(fd, buf, 1, 3 * psz), 1);
	close(fd);
	/* readahead may bring more than the pages read; mincore is the reference */
	{
		long n = cache_resident(path, &pages, &how);
		int mfd = open(path, O_RDONLY);
		void *m = mmap(NULL, 5 * psz, PROT_READ, MAP_SHARED, mfd, 0);
		unsigned char vec[5];
		long want = 0;

		assert_true(m != MAP_FAILED);
		assert_int_equal(mincore(m, 5 * psz, vec), 0);
		for (int i = 0; i < 5; i++)
			want += vec[i] & 1;
		munmap(m, 5 * psz);
		close(mfd);
		assert_int_equal(n, want);
		assert_true(n >= 2);
		/* both ways agree; mincore is what a kernel before 6.5 gets */
		assert_int_equal(cache_resident_by(path, &pages, &how, false), want);
		assert_string_equal(how, "mincore");
		n = cache_resident(path, &pages, &how);
		assert_true(!strcmp(how, "cachestat") || !strcmp(how, "mincore"));
	}
	argv[0] = "--file";
	argv[1] = path;
	tc_open(&t, &cache_module, 2, argv);
	cache_report_residency(t.ctx, t.state);
	out = tc_no_ts(tc_json(&t));
	{
		char want[512];

		snprintf(want, sizeof(want),
			 "{\"type\":\"cache_resident\",\"path\":\"%s\",\"pages\":5,"
			 "\"resident\":%ld,\"resident_pct\":%g,\"via\":\"%s\"}\n",
			 path, cache_resident(path, &pages, &how),
			 100.0 * cache_resident(path, &pages, &how) / 5, how);
		assert_string_equal(out, want);
	}
	free(out);
	tc_close(&t);
	assert_int_equal(cache_resident(dir, &pages, &how), -EINVAL);
	assert_int_equal(cache_resident("/nonexistent/x", &pages, &how), -ENOENT);
	unlink(path);
	tu_rmtree(dir);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_pages),
		cmocka_unit_test(test_hits_misses),
		cmocka_unit_test(test_kdev),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_residency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
