// SPDX-License-Identifier: GPL-2.0
/* analyze/topn.c: bounded counters, order, the "other" bucket, format. */
#include "testutil.h"

#include "analyze/topn.h"

static void add(struct ks_topn *t, const char *key, uint64_t n)
{
	ks_topn__add(t, key, strlen(key), n);
}

static void test_counts_and_order(void **state)
{
	struct ks_topn *t = ks_topn__new(8);
	struct ks_topn_item it[8];

	assert_non_null(t);
	assert_int_equal(ks_topn__top(t, 8, it), 0);
	add(t, "bash", 1);
	add(t, "sshd", 5);
	add(t, "bash", 2);
	add(t, "cron", 3);	/* ties are ordered by key */
	add(t, "awk", 3);
	add(t, "zsh", 1);
	assert_int_equal(ks_topn__total(t), 15);
	assert_int_equal(ks_topn__top(t, 8, it), 5);
	assert_string_equal(it[0].key, "sshd");
	assert_int_equal(it[0].count, 5);
	assert_string_equal(it[1].key, "awk");
	assert_int_equal(it[1].count, 3);
	assert_string_equal(it[2].key, "bash");
	assert_int_equal(it[2].count, 3);
	assert_string_equal(it[3].key, "cron");
	assert_int_equal(it[3].count, 3);
	assert_string_equal(it[4].key, "zsh");
	assert_int_equal(it[4].count, 1);
	/* only the k largest */
	assert_int_equal(ks_topn__top(t, 2, it), 2);
	assert_string_equal(it[1].key, "awk");
	assert_int_equal(ks_topn__top(t, 0, it), 0);
	ks_topn__free(t);
}

static void test_keys(void **state)
{
	struct ks_topn *t = ks_topn__new(4);
	struct ks_topn_item it[4];
	char a[100], b[100];

	/* keylen bounds the key; a NUL ends it earlier (kernel comms are NUL-padded) */
	ks_topn__add(t, "abcdef", 3, 1);
	ks_topn__add(t, "abc\0zzz", 7, 1);
	add(t, "ab", 1);
	assert_int_equal(ks_topn__top(t, 4, it), 2);
	assert_string_equal(it[0].key, "abc");
	assert_int_equal(it[0].count, 2);
	assert_string_equal(it[1].key, "ab");

	/* keys are cut to KS_TOPN_KEY - 1 bytes: two that differ later are one */
	ks_topn__reset(t);
	memset(a, 'k', 60);
	a[60] = 0;
	memcpy(b, a, 61);
	b[55] = 'X';
	add(t, a, 1);
	add(t, b, 1);
	assert_int_equal(ks_topn__top(t, 4, it), 1);
	assert_int_equal(strlen(it[0].key), KS_TOPN_KEY - 1);
	assert_memory_equal(it[0].key, a, KS_TOPN_KEY - 1);
	assert_int_equal(it[0].count, 2);
	ks_topn__free(t);
}

static void test_overflow_to_other(void **state)
{
	struct ks_topn *t = ks_topn__new(2);
	struct ks_topn_item it[4];
	char buf[128];

	add(t, "a", 5);
	add(t, "b", 3);
	add(t, "c", 2);		/* full: counted as "other" */
	add(t, "d", 1);
	add(t, "a", 10);	/* known keys still count on their own */
	add(t, "c", 4);
	assert_int_equal(ks_topn__total(t), 25);
	assert_int_equal(ks_topn__top(t, 4, it), 3);
	assert_string_equal(it[0].key, "a");
	assert_int_equal(it[0].count, 15);
	assert_string_equal(it[1].key, "other");
	assert_int_equal(it[1].count, 7);
	assert_string_equal(it[2].key, "b");
	assert_int_equal(it[2].count, 3);
	assert_int_equal(it[0].count + it[1].count + it[2].count, ks_topn__total(t));
	ks_topn__format(t, 5, buf, sizeof(buf));
	assert_string_equal(buf, "a 15, other 7, b 3");

	/* reset empties everything, "other" included, and frees the places */
	ks_topn__reset(t);
	assert_int_equal(ks_topn__total(t), 0);
	assert_int_equal(ks_topn__top(t, 4, it), 0);
	ks_topn__format(t, 5, buf, sizeof(buf));
	assert_string_equal(buf, "");
	add(t, "x", 1);
	add(t, "y", 2);
	add(t, "z", 3);
	ks_topn__format(t, 5, buf, sizeof(buf));
	assert_string_equal(buf, "other 3, y 2, x 1");
	ks_topn__free(t);
}

/* Adding nothing to a new key must not use up one of the places. */
static void test_add_zero(void **state)
{
	struct ks_topn *t = ks_topn__new(1);
	struct ks_topn_item it[2];

	add(t, "idle", 0);
	add(t, "busy", 4);
	assert_int_equal(ks_topn__total(t), 4);
	assert_int_equal(ks_topn__top(t, 2, it), 1);
	assert_string_equal(it[0].key, "busy");
	assert_int_equal(it[0].count, 4);
	ks_topn__free(t);
}

static void test_many_keys(void **state)
{
	struct ks_topn *t = ks_topn__new(100);
	struct ks_topn_item it[16];
	uint64_t sum = 0;
	char key[16];

	/* key i counted i times; 150 keys for 100 places */
	for (int i = 1; i <= 150; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		add(t, key, i);
	}
	for (int i = 1; i <= 150; i++)
		sum += i;
	assert_int_equal(ks_topn__total(t), sum);
	/* "other" holds keys 101..150: 50 * (101 + 150) / 2 */
	assert_int_equal(ks_topn__top(t, 3, it), 3);
	assert_string_equal(it[0].key, "other");
	assert_int_equal(it[0].count, 6275);
	assert_string_equal(it[1].key, "k100");
	assert_string_equal(it[2].key, "k099");
	ks_topn__free(t);
}

static void test_format(void **state)
{
	struct ks_topn *t = ks_topn__new(32);
	char buf[256], small[12];
	char key[8];

	add(t, "a b", 2);	/* keys as they are: the sink escapes them */
	add(t, "x", 1);
	ks_topn__format(t, 1, buf, sizeof(buf));
	assert_string_equal(buf, "a b 2");
	ks_topn__format(t, 2, buf, sizeof(buf));
	assert_string_equal(buf, "a b 2, x 1");
	ks_topn__format(t, 2, small, sizeof(small));	/* cut, terminated */
	assert_string_equal(small, "a b 2, x 1");
	ks_topn__format(t, 2, small, 8);
	assert_string_equal(small, "a b 2, ");
	ks_topn__format(t, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");

	/* at most 16 entries, whatever k asks */
	ks_topn__reset(t);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "%c", 'a' + i);
		add(t, key, 100 - i);
	}
	ks_topn__format(t, 100, buf, sizeof(buf));
	assert_string_equal(buf, "a 100, b 99, c 98, d 97, e 96, f 95, g 94, h 93, i 92, j 91, "
				 "k 90, l 89, m 88, n 87, o 86, p 85");
	ks_topn__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_order), cmocka_unit_test(test_keys),
		cmocka_unit_test(test_overflow_to_other), cmocka_unit_test(test_add_zero),
		cmocka_unit_test(test_many_keys),	  cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
