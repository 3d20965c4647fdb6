// SPDX-License-Identifier: GPL-2.0
/* modules/biolat_fmt.c: request flags as biolatency -F names them, histogram order. */
#include "testutil.h"

#include "modules/biolat_fmt.h"

static const char *fl(unsigned int flags)
{
	static char buf[128];

	memset(buf, 'x', sizeof(buf));
	biolat_flags_str(flags, buf, sizeof(buf));
	return buf;
}

static void test_ops(void **state)
{
	assert_string_equal(fl(BIOLAT_OP_READ), "Read");
	assert_string_equal(fl(BIOLAT_OP_WRITE), "Write");
	assert_string_equal(fl(BIOLAT_OP_FLUSH), "Flush");
	assert_string_equal(fl(BIOLAT_OP_DISCARD), "Discard");
	assert_string_equal(fl(BIOLAT_OP_OTHER), "Other");
	/* op values the kernel side never makes still name something */
	assert_string_equal(fl(5), "Other");
	assert_string_equal(fl(7), "Other");
	assert_string_equal(fl(8), "Read");	/* a bit outside the op mask and the modifiers */
}

static void test_modifiers(void **state)
{
	assert_string_equal(fl(BIOLAT_F_SYNC | BIOLAT_OP_WRITE), "Sync-Write");
	assert_string_equal(fl(BIOLAT_F_SYNC | BIOLAT_OP_READ), "Sync-Read");
	assert_string_equal(fl(BIOLAT_F_META | BIOLAT_OP_READ), "Meta-Read");
	assert_string_equal(fl(BIOLAT_F_AHEAD | BIOLAT_OP_READ), "RAhead-Read");
	assert_string_equal(fl(BIOLAT_F_FUA | BIOLAT_OP_WRITE), "FUA-Write");
	assert_string_equal(fl(BIOLAT_F_PREFLUSH | BIOLAT_OP_FLUSH), "PreFlush-Flush");
	/* biolatency's order: PreFlush before FUA */
	assert_string_equal(fl(BIOLAT_F_PREFLUSH | BIOLAT_F_FUA | BIOLAT_OP_WRITE),
			    "PreFlush-FUA-Write");
	assert_string_equal(fl(BIOLAT_F_SYNC | BIOLAT_F_PREFLUSH | BIOLAT_F_FUA | BIOLAT_OP_WRITE),
			    "Sync-PreFlush-FUA-Write");
	assert_string_equal(fl(BIOLAT_F_SYNC | BIOLAT_F_META | BIOLAT_F_AHEAD | BIOLAT_OP_READ),
			    "Sync-Meta-RAhead-Read");
	assert_string_equal(fl(0x1f0 | BIOLAT_OP_DISCARD),
			    "Sync-Meta-PreFlush-FUA-RAhead-Discard");
	assert_string_equal(fl(BIOLAT_F_SYNC | 6), "Sync-Other");
}

static void test_small_buffer(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	biolat_flags_str(BIOLAT_F_SYNC | BIOLAT_OP_WRITE, buf, 6);
	assert_string_equal(buf, "Sync-");
	assert_int_equal(buf[6], 'x');
	biolat_flags_str(BIOLAT_F_SYNC | BIOLAT_OP_WRITE, buf, 3);
	assert_string_equal(buf, "Sy");
	biolat_flags_str(BIOLAT_F_SYNC | BIOLAT_F_META | BIOLAT_OP_WRITE, buf, 8);
	assert_string_equal(buf, "Sync-Me");
	biolat_flags_str(BIOLAT_OP_DISCARD, buf, 5);
	assert_string_equal(buf, "Disc");
	biolat_flags_str(BIOLAT_OP_WRITE, buf, 1);
	assert_string_equal(buf, "");
}

static void test_sort(void **state)
{
	struct biolat_key k[6] = {
		{ 8 << 20 | 16, 1 }, { 8 << 20, 0x11 }, { 8 << 20 | 16, 0 },
		{ 8 << 20, 0 },	     { 259 << 20, 1 },	{ 8 << 20, 1 },
	};
	static const struct biolat_key want[6] = {
		{ 8 << 20, 0 },	     { 8 << 20, 1 },	{ 8 << 20, 0x11 },
		{ 8 << 20 | 16, 0 }, { 8 << 20 | 16, 1 }, { 259 << 20, 1 },
	};
	static const uint64_t from[6] = { 103, 105, 101, 102, 100, 104 };
	struct biolat_hist h[6];

	/* each histogram carries its key's original index, to check they move together */
	memset(h, 0, sizeof(h));
	for (int i = 0; i < 6; i++)
		h[i].count = 100 + i;
	biolat_sort(k, h, 6);

	for (int i = 0; i < 6; i++) {
		assert_int_equal(k[i].dev, want[i].dev);
		assert_int_equal(k[i].flags, want[i].flags);
		assert_int_equal(h[i].count, from[i]);
	}
	/* nothing and one: untouched */
	biolat_sort(k, h, 0);
	biolat_sort(k + 5, h + 5, 1);
	assert_int_equal(k[5].dev, 259 << 20);
	assert_int_equal(h[5].count, 104);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
