/* SPDX-License-Identifier: GPL-2.0 */
/* The commands. Each returns the process exit code: 0, 1 runtime failure, 2 bad usage. */
#ifndef KSIGHT_COMMANDS_H
#define KSIGHT_COMMANDS_H

#include "core/module.h"

int cmd_tool(const struct ks_module *m, const struct ks_variant *v, int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_tplist(int argc, char **argv);
int cmd_query(int argc, char **argv);
/* `ksight query timeline SERVICE` (cmd_query_timeline.c) from @store: @args (@nargs of
 * them) after "timeline", the window [now - @since, now - @until) (durations; NULL: 1h,
 * now); @other: an option timeline does not take was given. Returns the exit status (2:
 * bad input, no such service, or too many intervals). */
int query_timeline(const char *store, const char **args, int nargs, const char *since,
		   const char *until, bool json, bool other);
int cmd_map(int argc, char **argv);

#endif
