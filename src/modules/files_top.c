// SPDX-License-Identifier: GPL-2.0
/* files --summary: the filetop-like table, from the kernel's per-(process, file) counts. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/maps.h"
#include "core/module.h"
#include "files.skel.h"
#include "modules/files_int.h"
#include "modules/files_tab.h"

static const char *const ftype_letter[] = { [FILES_T_REG] = "R", [FILES_T_SOCK] = "S",
					    [FILES_T_OTHER] = "O" };

static void emit_row(struct ks_ctx *ctx, const struct files_top_row *row)
{
	const struct files_top_val *v = &row->v;
	size_t plen = strnlen(v->path, sizeof(v->path));
	char anon[64];
	const char *path = v->path;
	struct ks_rec r;

	/* sockets and pipes live in pseudo filesystems: their walk ends at once */
	if (v->type != FILES_T_REG && plen <= 1) {
		plen = snprintf(anon, sizeof(anon), "%s:[%llu]",
				v->type == FILES_T_SOCK ? "socket" : "anon",
				(unsigned long long)row->k.ino);
		path = anon;
	}
	ks_rec_init(&r, "files_top", NULL);
	ks_rec_uint(&r, "pid", "PID", -7, row->k.tgid);
	ks_rec_kstr(&r, "comm", "COMM", -16, v->comm, sizeof(v->comm), false);
	ks_rec_uint(&r, "reads", "READS", 7, v->reads);
	ks_rec_uint(&r, "writes", "WRITES", 7, v->writes);
	ks_rec_uint(&r, NULL, "R_KB", 8, v->rbytes >> 10);
	ks_rec_uint(&r, NULL, "W_KB", 8, v->wbytes >> 10);
	ks_rec_uint(&r, "rbytes", NULL, 0, v->rbytes);
	ks_rec_uint(&r, "wbytes", NULL, 0, v->wbytes);
	ks_rec_str(&r, "ftype", "T", 1, ftype_letter[v->type < 3 ? v->type : FILES_T_OTHER], 1);
	ks_rec_uint(&r, "dev", NULL, 0, row->k.dev);
	ks_rec_uint(&r, "ino", NULL, 0, row->k.ino);
	if (v->cut) {
		/* the head was cut off: say so before the tail */
		static char buf[FILES_TOP_PATH + 4];

		memcpy(buf, "...", 3);
		memcpy(buf + 3, path, plen);
		path = buf;
		plen += 3;
	}
	ks_rec_kstr(&r, "path", "FILE", 0, path, plen, false);
	ks_rec_add(&r, "path_truncated", NULL, 0, KS_V_BOOL)->u = v->cut;
	ks_emit(ctx, &r);
}

static bool process_gone(uint32_t pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Entries are deleted only when they should see no more updates: their process has
 * exited, or (with an interval) they did not change during a whole one. The kernel's
 * counters are only ever added to, so nothing read here can be lost by a delete; the
 * delete returns the entry's last totals (BPF_MAP_LOOKUP_AND_DELETE_ELEM, 5.14) and
 * whatever they grew by since the dump goes into the next report. Only an update racing
 * with the delete itself (a program between its lookup and its add) can miss, and the
 * map is not preallocated so such an add lands in a dead element, not in another key.
 */
static void retire(struct files_state *st, struct bpf_map *map, const struct files_top_row *row,
		   bool idle_ok)
{
	struct files_top_val last;

	if (!process_gone(row->k.tgid) && !(idle_ok && !row->v.reads && !row->v.writes))
		return;
	if (bpf_map__lookup_and_delete_elem(map, &row->k, sizeof(row->k), &last, sizeof(last),
					    0))
		return;
	files_topd__retire(st->topd, &row->k, &last);
}

void files_top_report(struct ks_ctx *ctx, struct files_state *st, struct files_bpf *skel)
{
	struct bpf_map *map = skel->maps.files_top;
	size_t shown = 0, cap = bpf_map__max_entries(map);
	struct files_top_key *keys = calloc(cap, sizeof(*keys));
	struct files_top_val *vals = calloc(cap, sizeof(*vals));
	struct files_top_row *rows = calloc(2 * cap, sizeof(*rows));
	uint64_t reads = 0, writes = 0;
	bool idle_ok = ks_ctx_common(ctx)->interval;
	struct ks_rec r;
	long n;

	if (!keys || !vals || !rows)
		goto cleanup;
	n = ks_map_dump(map, keys, vals, cap);
	for (long i = 0; i < n; i++) {
		rows[i].k = keys[i];
		rows[i].v = vals[i];
	}
	n = files_topd__delta(st->topd, rows, n, 2 * cap);
	if (n < 0)
		goto cleanup;
	for (long i = 0; i < n; i++) {
		reads += rows[i].v.reads;
		writes += rows[i].v.writes;
	}
	st->top_total += reads + writes;
	ks_ctx_aggregated(ctx, FILES_EV_TOP, st->top_total);
	files_top_sort(rows, n, st->sort < 0 ? FILES_SORT_ALL : st->sort);
	/* the interval's totals: a line in tables, a record in JSON (all sinks take both) */
	ks_rec_init(&r, "files_interval", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", 0, "files", 5);
	ks_rec_uint(&r, "reads", "reads", 0, reads);
	ks_rec_uint(&r, "writes", "writes", 0, writes);
	ks_emit(ctx, &r);
	for (long i = 0; i < n && shown < (st->top ? st->top : 20); i++) {
		if (!rows[i].v.reads && !rows[i].v.writes)
			continue;
		emit_row(ctx, &rows[i]);
		shown++;
	}
	for (long i = 0; i < n; i++)
		retire(st, map, &rows[i], idle_ok);
cleanup:
	free(keys);
	free(vals);
	free(rows);
}
