// SPDX-License-Identifier: GPL-2.0
/* The agent's reading of per-process kernel tables (core/rows_collect.h). */
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "core/module.h"
#include "core/rows_collect.h"
#include "sink/record.h"

static uint32_t u32_at(const char *row, size_t off)
{
	uint32_t v;

	memcpy(&v, row + off, sizeof(v));
	return v;
}

void ks_task_rows_collect(struct ks_ctx *ctx, struct ks_task_rows *t, struct bpf_map *map,
			  uint16_t type, const struct ks_row_who *who, ks_row_add_fn add,
			  void *state)
{
	uint64_t total, cgroup;
	char *d;
	size_t m = ks_task_rows_read(t, map, &total, (void **)&d);

	ks_ctx_aggregated(ctx, type, total);
	for (size_t i = 0; d && i < m; i++) {
		const char *row = d + i * t->rowsz;
		struct ks_hdr h;

		memcpy(&cgroup, row + who->cgroup, sizeof(cgroup));
		ks_row_hdr(&h, u32_at(row, who->pid), u32_at(row, who->tid), cgroup,
			   row + who->comm);
		add(state, row, ks_ident__service(ks_ctx_ident(ctx), &h));
	}
	free(d);
}
