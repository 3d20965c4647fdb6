/* SPDX-License-Identifier: GPL-2.0 */
/* What run_config.c (the reader) and run_config_print.c (the printer) share. */
#ifndef KSIGHT_RUN_CONFIG_INT_H
#define KSIGHT_RUN_CONFIG_INT_H

/* Keys of ksight run that a file may not hold (NULL-ended). */
extern const char *const ks_run_config_not_in_file[];

/* The value a missing option of ksight run stands for, as text (the listen address, the
 * store's path, ...), or NULL: none to show. */
const char *ks_run_config_default(const char *key);

#endif
