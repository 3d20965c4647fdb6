/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one libbpf print callback. libbpf's messages (and the verifier log) reach stderr only
 * with -v; otherwise the recent ones are kept so a load failure can name its program.
 */
#ifndef KSIGHT_LOG_H
#define KSIGHT_LOG_H

#include <stddef.h>

void ks_log_init(int verbose);
int ks_log_verbose(void);

/* Name of the last program libbpf reported failing to load, or NULL. Clears it. */
const char *ks_log_failed_prog(char *buf, size_t len);

#endif
