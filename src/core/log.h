/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one libbpf print callback. libbpf's messages (and the verifier log) reach stderr only
 * with -v; otherwise the recent ones are kept so a load failure can name its program and
 * the verifier's reason.
 */
#ifndef KSIGHT_LOG_H
#define KSIGHT_LOG_H

#include <stddef.h>

void ks_log_init(int verbose);
int ks_log_verbose(void);

/* Forget what was kept: call before a load whose failure is to be explained. */
void ks_log_reset(void);

/* Name of the last program libbpf reported failing to load, or NULL. Clears it. */
const char *ks_log_failed_prog(char *buf, size_t len);

/* The verifier's own words on the last refused program (the last line of its log that says
 * what was wrong), or NULL when there was no log. Clears it. */
const char *ks_log_verifier_reason(char *buf, size_t len);

#endif
