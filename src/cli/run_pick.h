/* SPDX-License-Identifier: GPL-2.0 */
/* Which modules the agent runs (ksight run --modules LIST, --no-MODULE): pure, tested alone. */
#ifndef KSIGHT_RUN_PICK_H
#define KSIGHT_RUN_PICK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Choose among the @n modules named @names: those in @list (comma-separated names; NULL:
 * every module but those whose @optin[i] is set; @optin may be NULL), less those whose
 * @no[i] is set. An empty name is a module the agent never runs: no name in @list finds
 * it. Sets @keep[i] for each one kept.
 * Returns how many are kept, or -1 with one line in @err: a name in @list that is no
 * module (or empty), or no module left.
 */
int ks_run_pick(const char *const *names, int n, const char *list, const bool *no,
		const bool *optin, bool *keep, char *err, size_t len);

#endif
