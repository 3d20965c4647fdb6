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
int cmd_map(int argc, char **argv);

#endif
