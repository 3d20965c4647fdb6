// SPDX-License-Identifier: GPL-2.0
#include "cli/run_pick.h"

#include <stdio.h>
#include <string.h>

static int find(const char *const *names, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (names[i][0] && strlen(names[i]) == len && !strncmp(names[i], s, len))
			return i;
	return -1;
}

/* "exec, open, ..." for an error message. */
static void known(const char *const *names, int n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < n && off < len; i++)
		if (names[i][0])	/* "": a module the agent does not run */
			off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", names[i]);
}

int ks_run_pick(const char *const *names, int n, const char *list, const bool *no,
		const bool *optin, bool *keep, char *err, size_t len)
{
	char all[256];
	int kept = 0;

	for (int i = 0; i < n; i++)
		keep[i] = !list && !(optin && optin[i]);
	for (const char *s = list; s;) {
		const char *comma = strchr(s, ',');
		size_t l = comma ? (size_t)(comma - s) : strlen(s);
		int i = find(names, n, s, l);

		if (i < 0) {
			known(names, n, all, sizeof(all));
			if (!l)
				snprintf(err, len, "--modules: an empty name in '%.60s' (%s)", list,
					 all);
			else
				snprintf(err, len, "--modules: unknown module '%.*s' (%s)",
					 (int)(l > 40 ? 40 : l), s, all);
			return -1;
		}
		keep[i] = true;
		s = comma ? comma + 1 : NULL;
	}
	for (int i = 0; i < n; i++) {
		keep[i] = keep[i] && !no[i];
		kept += keep[i];
	}
	if (!kept) {
		snprintf(err, len, "no module left to run: --modules and --no-MODULE left out all");
		return -1;
	}
	return kept;
}
