/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's side of a per-process kernel table (core/rows.h): each interval, every row
 * that changed, with the service its process belongs to, handed to the module to add to
 * its metrics in the registry.
 */
#ifndef KSIGHT_ROWS_COLLECT_H
#define KSIGHT_ROWS_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/rows.h"

struct ks_ctx;

/* Where a row struct keeps its process: u32 pid and tid, u64 cgroup, comm[16]. */
struct ks_row_who {
	size_t pid, tid, cgroup, comm;
};

/* For a row struct with members k (key) and v (value), comm in the value. */
#define KS_ROW_WHO(type)                                                          \
	{ offsetof(type, k.pid), offsetof(type, k.tid), offsetof(type, v.cgroup),     \
	  offsetof(type, v.comm) }

/* Add the change @row (a copy) to the module's metrics under service @svc. */
typedef void (*ks_row_add_fn)(void *state, const void *row, const char *svc);

/*
 * Read @t from kernel map @map, tell the context what the rows counted (event type
 * @type), and hand each changed row to @add with its service.
 */
void ks_task_rows_collect(struct ks_ctx *ctx, struct ks_task_rows *t, struct bpf_map *map,
			  uint16_t type, const struct ks_row_who *who, ks_row_add_fn add,
			  void *state);

#endif
