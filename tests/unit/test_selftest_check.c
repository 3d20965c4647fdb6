// SPDX-License-Identifier: GPL-2.0
/*
 * The test instrument's self-check (tests/modules/selftest_check.h): an intact record
 * passes, and each way a nested producer could damage one is caught.
 */
#include "testutil.h"

#include "selftest_check.h"

#define WORDS 16

static union {
	struct selftest_check r;
	uint8_t bytes[sizeof(struct selftest_check) + 8 * WORDS];
} rec;

static void build(void)
{
	__u64 sum = 0;

	memset(&rec, 0, sizeof(rec));
	rec.r.hdr.type = SELFTEST_EV_SYS;
	rec.r.hdr.size = sizeof(rec);
	rec.r.hdr.cpu = 1;
	rec.r.hdr.level = 1;
	rec.r.nonce = 0x1234567890abcdefULL;
	rec.r.cpu = 1;
	rec.r.level = 1;
	rec.r.nwords = WORDS;
	rec.r.src = SELFTEST_EV_SYS;
	for (int i = 0; i < WORDS; i++) {
		rec.r.words[i] = selftest_word(rec.r.nonce, i);
		sum = selftest_sum_step(sum, rec.r.words[i]);
	}
	rec.r.sum = sum;
}

static void test_intact(void **state)
{
	build();
	assert_null(selftest_check_verify(&rec.r, sizeof(rec)));
}

static void test_damage_caught(void **state)
{
	build();
	rec.r.words[7] ^= 1;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "payload");
	build();
	rec.r.sum++;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "sum");
	build();
	rec.r.hdr.level = 0;	/* another level's producer finished it */
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "level");
	build();
	rec.r.hdr.cpu = 0;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "cpu");
	build();
	rec.r.hdr.type = SELFTEST_EV_PERF;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "type");
	build();
	rec.r.nwords = WORDS - 1;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "size");
	build();
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec) - 8), "size");
	build();
	/* the whole payload replaced by another producer's, consistent in itself */
	rec.r.nonce++;
	assert_string_equal(selftest_check_verify(&rec.r, sizeof(rec)), "payload");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_damage_caught),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
