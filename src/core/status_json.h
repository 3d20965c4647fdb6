/* SPDX-License-Identifier: GPL-2.0 */
/* What a started session chose, as JSON for the agent's /api/status (status_json.c). */
#ifndef KSIGHT_STATUS_JSON_H
#define KSIGHT_STATUS_JSON_H

struct ks_ctx;

/*
 * After ks_ctx__start: the kernel, its BTF, the syscall dispatcher and, per module, whether
 * it runs (or why it was skipped) and the hook of each of its slots with the refusals of
 * the others -- what `ksight status` prints -- handed to the HTTP API (http_api.h).
 */
void ks_ctx__publish_status(struct ks_ctx *c);

#endif
