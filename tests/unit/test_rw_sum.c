// SPDX-License-Identifier: GPL-2.0
/* modules/rw_sum.c: per-CPU rows merged, per-interval changes, the table's order. */
#include "testutil.h"

#include "modules/rw_sum.h"

static struct rw_sum_row row(uint32_t pid, int32_t fd, uint64_t reads, uint64_t writes,
			     uint64_t rbytes, uint64_t wbytes, uint64_t lat)
{
	struct rw_sum_row r = { .k = { pid, fd } };

	r.v.reads = reads;
	r.v.writes = writes;
	r.v.rbytes = rbytes;
	r.v.wbytes = wbytes;
	r.v.lat_sum = lat;
	r.v.slots[3] = reads + writes;
	return r;
}

static void test_merge(void **state)
{
	struct rw_sum_val pc[3] = { 0 }, out;

	pc[0].reads = 1;
	pc[0].slots[0] = 1;
	pc[1].writes = 2;
	pc[1].wbytes = 20;
	pc[1].errors = 1;
	pc[1].slots[31] = 2;
	strcpy(pc[1].comm, "second");
	pc[1].cgroup = 4242;
	pc[2].rbytes = 7;
	pc[2].lat_sum = 99;
	strcpy(pc[2].comm, "third");
	pc[2].cgroup = 77;
	memset(&out, 0xff, sizeof(out));
	rw_sum_merge(&out, pc, 3);
	assert_int_equal(out.reads, 1);
	assert_int_equal(out.writes, 2);
	assert_int_equal(out.rbytes, 7);
	assert_int_equal(out.wbytes, 20);
	assert_int_equal(out.errors, 1);
	assert_int_equal(out.lat_sum, 99);
	assert_int_equal(out.slots[0], 1);
	assert_int_equal(out.slots[31], 2);
	assert_int_equal(out.slots[5], 0);
	assert_string_equal(out.comm, "second");	/* the first CPU that saw the row */
	assert_int_equal(out.cgroup, 4242);		/* with its comm */
}

static void test_delta(void **state)
{
	struct rw_sum_row prev[3] = { row(1, 3, 10, 0, 100, 0, 5), row(1, 4, 0, 5, 0, 50, 5),
				      row(2, 0, 1, 1, 1, 1, 1) };
	struct rw_sum_row cur[4] = { row(1, 3, 15, 0, 150, 0, 8), row(1, 4, 0, 5, 0, 50, 5),
				     row(1, 9, 2, 0, 3, 0, 1), row(2, 0, 1, 2, 1, 9, 1) };
	struct rw_sum_row out[4];
	size_t n;

	rw_sum_sort_keys(prev, 3);
	rw_sum_sort_keys(cur, 4);
	n = rw_sum_delta(prev, 3, cur, 4, out);
	assert_int_equal(n, 3);	/* (1, 4) did not change */
	assert_int_equal(out[0].k.fd, 3);
	assert_int_equal(out[0].v.reads, 5);
	assert_int_equal(out[0].v.rbytes, 50);
	assert_int_equal(out[0].v.lat_sum, 3);
	assert_int_equal(out[0].v.slots[3], 5);
	assert_int_equal(out[1].k.fd, 9);	/* new: counted from zero */
	assert_int_equal(out[1].v.reads, 2);
	assert_int_equal(out[2].k.pid, 2);
	assert_int_equal(out[2].v.writes, 1);
	assert_int_equal(out[2].v.wbytes, 8);
	/* no previous report */
	assert_int_equal(rw_sum_delta(NULL, 0, cur, 4, out), 4);
	assert_int_equal(rw_sum_delta(prev, 3, cur, 0, out), 0);
}

static void test_key_order(void **state)
{
	struct rw_sum_row r[4] = { row(2, 1, 1, 0, 0, 0, 0), row(1, 7, 1, 0, 0, 0, 0),
				   row(1, -1, 1, 0, 0, 0, 0), row(1, 3, 1, 0, 0, 0, 0) };

	rw_sum_sort_keys(r, 4);
	assert_int_equal(r[0].k.fd, -1);
	assert_int_equal(r[1].k.fd, 3);
	assert_int_equal(r[2].k.fd, 7);
	assert_int_equal(r[3].k.pid, 2);
}

static void test_sort(void **state)
{
	struct rw_sum_row r[4] = { row(1, 3, 10, 0, 10, 0, 1000), row(1, 4, 0, 2, 0, 5000, 10),
				   row(1, 5, 1, 1, 0, 0, 50000), row(1, 2, 10, 0, 0, 0, 0) };

	rw_sum_sort(r, 4, RW_SORT_OPS);
	assert_int_equal(r[0].k.fd, 2);	/* ties (10 ops) by pid, then fd */
	assert_int_equal(r[1].k.fd, 3);
	assert_int_equal(r[2].k.fd, 4);
	assert_int_equal(r[3].k.fd, 5);
	rw_sum_sort(r, 4, RW_SORT_BYTES);
	assert_int_equal(r[0].k.fd, 4);
	assert_int_equal(r[1].k.fd, 3);
	rw_sum_sort(r, 4, RW_SORT_LAT);
	assert_int_equal(r[0].k.fd, 5);
	assert_int_equal(r[1].k.fd, 3);
	assert_int_equal(r[2].k.fd, 4);
	rw_sum_sort(r, 0, RW_SORT_OPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
