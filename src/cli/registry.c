// SPDX-License-Identifier: GPL-2.0
#include "cli/registry.h"

#define KS_X_DECL(name, id) extern const struct ks_module name##_module;
KS_MODULES(KS_X_DECL)
#undef KS_X_DECL

const struct ks_module *const ks_modules[] = {
#define KS_X_REF(name, id) &name##_module,
	KS_MODULES(KS_X_REF)
#undef KS_X_REF
	NULL,
};
