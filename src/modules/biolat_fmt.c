// SPDX-License-Identifier: GPL-2.0
#include "modules/biolat_fmt.h"

#include <stdio.h>
#include <string.h>

void biolat_flags_str(unsigned int flags, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} mods[] = {
		{ BIOLAT_F_SYNC, "Sync-" },	{ BIOLAT_F_META, "Meta-" },
		{ BIOLAT_F_PREFLUSH, "PreFlush-" },	{ BIOLAT_F_FUA, "FUA-" },
		{ BIOLAT_F_AHEAD, "RAhead-" },
	};
	static const char *const ops[] = { "Read", "Write", "Flush", "Discard", "Other" };
	unsigned int op = flags & BIOLAT_OP_MASK;
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (flags & mods[i].bit && n < len)
			n += snprintf(buf + n, len - n, "%s", mods[i].name);
	if (n < len)
		snprintf(buf + n, len - n, "%s", ops[op <= BIOLAT_OP_OTHER ? op : BIOLAT_OP_OTHER]);
}

void biolat_sort(struct biolat_key *keys, struct biolat_hist *h, size_t n)
{
	/* insertion sort: a handful of disks times a handful of flag sets */
	for (size_t i = 1; i < n; i++) {
		struct biolat_key k = keys[i];
		struct biolat_hist v = h[i];
		size_t j = i;

		while (j && (keys[j - 1].dev > k.dev ||
			     (keys[j - 1].dev == k.dev && keys[j - 1].flags > k.flags))) {
			keys[j] = keys[j - 1];
			h[j] = h[j - 1];
			j--;
		}
		keys[j] = k;
		h[j] = v;
	}
}
