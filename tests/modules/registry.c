// SPDX-License-Identifier: GPL-2.0
/*
 * The module registry of build/tests/ksight-selftest: every product module (bpf/modules.h)
 * and the test-only ones (tests/modules/modules.h). It replaces src/cli/registry.c there.
 */
#include "cli/registry.h"
#include "test_modules.h"

#define KS_X_DECL(name, id) extern const struct ks_module name##_module;
KS_MODULES(KS_X_DECL)
KS_TEST_MODULES(KS_X_DECL)
#undef KS_X_DECL

const struct ks_module *const ks_modules[] = {
#define KS_X_REF(name, id) &name##_module,
	KS_MODULES(KS_X_REF)
	KS_TEST_MODULES(KS_X_REF)
#undef KS_X_REF
	NULL,
};
