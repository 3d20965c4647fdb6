// SPDX-License-Identifier: GPL-2.0
/* A command's module, over whichever registry the binary links (ksight's, or the test
 * instrument's, tests/modules/registry.c). */
#include <string.h>

#include "cli/registry.h"

const struct ks_module *ks_module_find(const char *name, const struct ks_variant **v)
{
	*v = NULL;
	for (int i = 0; ks_modules[i]; i++) {
		if (!strcmp(ks_modules[i]->name, name))
			return ks_modules[i];
		for (const struct ks_variant *x = ks_modules[i]->variants; x && x->name; x++)
			if (!strcmp(x->name, name)) {
				*v = x;
				return ks_modules[i];
			}
	}
	return NULL;
}
