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
/* `ksight query timeline SERVICE` (cmd_query_timeline.c): the window is [now - @since_s,
 * now - @until_s). Returns the exit status (2: no such service, or too many intervals). */
int query_timeline(const char *store, const char *service, uint64_t since_s, uint64_t until_s,
		   bool json);
int cmd_map(int argc, char **argv);

#endif
