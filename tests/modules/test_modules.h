/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only modules: built into build/tests/ksight-selftest (never into build/ksight), from
 * the same core and modules plus these. One line per module, X(name, id), ids from 56 up so
 * they never meet a product module's (bpf/modules.h). The Makefile reads this list.
 */
#ifndef KSIGHT_TEST_MODULES_H
#define KSIGHT_TEST_MODULES_H

#define KS_TEST_MODULES(X) \
	X(selftest, 56)

enum ks_test_module_id {
#define KS_X_ENUM(name, id) KS_MOD_##name = id,
	KS_TEST_MODULES(KS_X_ENUM)
#undef KS_X_ENUM
};

#endif
