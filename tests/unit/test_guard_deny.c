// SPDX-License-Identifier: GPL-2.0
/* guard's deny rules (guard_deny.c): what `action: deny` accepts, and the bits each form
 * and act puts in guard_keys beside the watch classes. */
#include "testutil.h"

#include "guard_lsm.h"
#include "modules/guard_deny.h"
#include "modules/guard_rules.h"

static uint32_t bits(const struct guard_filter *f, uint64_t basis, const char *s)
{
	uint64_t k = guard_fnv(basis, s, strlen(s));

	for (size_t i = 0; i < f->nkeys; i++)
		if (f->keys[i] == k)
			return f->classes[i];
	return 0;
}

static void test_forms_and_acts(void **state)
{
	const char *text = "rules:\n"
		"  - {name: a, event: [write, rename], action: deny,\n"
		"     path: [/srv/x/passwd, '/srv/drop/*', '*/authorized_keys']}\n"
		"  - {name: b, event: exec, action: deny, path: '/srv/drop/*'}\n"
		"  - {name: c, event: write, path: /srv/y}\n";
	struct guard_rules rs = { 0 };
	struct guard_filter *f = calloc(1, sizeof(*f));
	uint32_t dk = 0;
	char err[256];

	assert_int_equal(guard_rules_load(&rs, text, strlen(text), "t.yaml", err, sizeof(err)), 0);
	assert_true(guard_has_deny(&rs));
	assert_int_equal(rs.r[rs.n - 3].action, GUARD_A_DENY);
	assert_int_equal(rs.r[rs.n - 1].action, GUARD_A_ALERT);
	assert_int_equal(guard_deny_keys(&rs, f, &dk, err, sizeof(err)), 0);
	assert_int_equal(dk, (1U << GUARD_DK_WRITE) | (1U << GUARD_DK_RENAME) |
			     (1U << GUARD_DK_EXEC));
	assert_int_equal(bits(f, GUARD_FNV_PATH, "/srv/x/passwd"),
			 GUARD_D(GUARD_DF_EXACT, GUARD_DK_WRITE) |
			 GUARD_D(GUARD_DF_EXACT, GUARD_DK_RENAME));
	assert_int_equal(bits(f, GUARD_FNV_PATH, "/srv/drop"),
			 GUARD_D(GUARD_DF_UNDER, GUARD_DK_WRITE) |
			 GUARD_D(GUARD_DF_UNDER, GUARD_DK_RENAME) |
			 GUARD_D(GUARD_DF_UNDER, GUARD_DK_EXEC));
	assert_int_equal(bits(f, GUARD_FNV_LEAF, "authorized_keys"),
			 GUARD_D(GUARD_DF_LEAF, GUARD_DK_WRITE) |
			 GUARD_D(GUARD_DF_LEAF, GUARD_DK_RENAME));
	assert_int_equal(bits(f, GUARD_FNV_PATH, "/srv/y"), 0);	/* alert rule: no deny bit */
	/* deny bits never overlap the watch classes (guard.h) */
	assert_int_equal(GUARD_D(0, 0) & (GUARD_C_CHANGE | GUARD_C_READ | GUARD_C_EXEC), 0);
	guard_rules_free(&rs);
	free(f);
}

static void test_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "rules:\n  - {name: a, event: write, action: deny, path: '/srv/*.conf'}\n",
		  "t.yaml:2:5: rule 'a': action: deny takes a whole path, DIR/* or */NAME" },
		{ "rules:\n  - {name: a, event: write, action: deny, path: '/*'}\n",
		  "t.yaml:2:5: rule 'a': action: deny takes" },
		{ "rules:\n  - {name: a, event: write, action: deny, path: /x, uid: 0}\n",
		  "t.yaml:2:5: rule 'a': action: deny is judged in the kernel on event and path "
		  "alone: no 'uid'" },
		{ "rules:\n  - {name: a, event: [write, read], action: deny, path: /x}\n",
		  "t.yaml:2:5: rule 'a': action: deny cannot deny 'read'" },
		{ "rules:\n  - {name: a, event: write, action: deny}\n",
		  "t.yaml:2:5: rule 'a': action: deny needs 'path'" },
		{ "rules:\n  - {name: a, path: /x, action: block}\n", "t.yaml:2:33: bad action 'block'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct guard_rules rs = { 0 };
		char err[512];

		assert_int_equal(guard_rules_load(&rs, bad[i][0], strlen(bad[i][0]), "t.yaml", err,
						  sizeof(err)), -1);
		if (strncmp(err, bad[i][1], strlen(bad[i][1])))
			fail_msg("%zu: %s", i, err);
		guard_rules_free(&rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms_and_acts),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
