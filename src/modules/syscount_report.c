// SPDX-License-Identifier: GPL-2.0
/* syscount: reading the kernel's tables and turning rows into records. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "syscount.skel.h"
#include "modules/syscount_int.h"

/* One syscall's per-CPU counts into @r: the dispatcher's own table for plain counts, else
 * syscount's. Returns 0 or -errno. */
static int read_nr(const struct syscount_state *st, struct syscount_bpf *skel, __u32 nr,
		   struct syscount_row *r, void *buf)
{
	const struct ks_sys_count *k = buf;
	const struct syscount_val *v = buf;

	memset(r, 0, sizeof(*r));
	if (syscount_plain(st)) {
		if (bpf_map__lookup_elem(skel->maps.ks_sys_counts, &nr, sizeof(nr), buf,
					 sizeof(*k) * st->ncpu, 0))
			return -errno;
		for (int c = 0; c < st->ncpu; c++) {
			r->count += k[c].count;
			r->errors += k[c].errors;
			r->lat_ns += k[c].lat_ns;
		}
		return 0;
	}
	if (bpf_map__lookup_elem(skel->maps.syscount_nr_counts, &nr, sizeof(nr), buf,
				 sizeof(*v) * st->ncpu, 0))
		return -errno;
	for (int c = 0; c < st->ncpu; c++)
		syscount_row_add(r, &v[c]);
	return 0;
}

/* The syscall-number arrays (no -P, no -e). */
static ssize_t read_by_nr(const struct syscount_state *st, struct syscount_bpf *skel,
			  struct syscount_row *rows, void *buf)
{
	const struct syscount_hist *h = buf;
	ssize_t n = 0;

	for (__u32 nr = 0; nr < KS_SYS_MAX; nr++) {
		struct syscount_row *r = &rows[n];
		int err = read_nr(st, skel, nr, r, buf);

		if (err)
			return err;
		if (!r->count)
			continue;
		r->k.nr = nr;
		if (st->hist) {
			if (bpf_map__lookup_elem(skel->maps.syscount_nr_hists, &nr, sizeof(nr),
						 buf, sizeof(*h) * st->ncpu, 0))
				return -errno;
			for (int c = 0; c < st->ncpu; c++)
				syscount_row_add_hist(r, &h[c]);
		}
		n++;
	}
	return n;
}

/* The hash tables of -P and -e; keys are never deleted, so the walk sees each once. */
static ssize_t read_by_key(const struct syscount_state *st, struct syscount_bpf *skel,
			   struct syscount_row *rows, size_t cap, void *buf)
{
	struct bpf_map *counts = skel->maps.syscount_key_counts;
	const struct syscount_val *v = buf;
	struct syscount_key key, next;
	struct syscount_hist h;
	bool first = true;
	size_t n = 0;

	while (n < cap && !bpf_map__get_next_key(counts, first ? NULL : &key, &next,
						 sizeof(next))) {
		struct syscount_row *r = &rows[n];

		first = false;
		key = next;
		if (bpf_map__lookup_elem(counts, &key, sizeof(key), buf, sizeof(*v) * st->ncpu, 0))
			continue;
		memset(r, 0, sizeof(*r));
		r->k = key;
		for (int c = 0; c < st->ncpu; c++)
			syscount_row_add(r, &v[c]);
		if (st->hist && !bpf_map__lookup_elem(skel->maps.syscount_key_hists, &key,
						      sizeof(key), &h, sizeof(h), 0))
			syscount_row_add_hist(r, &h);
		if (r->count)
			n++;
	}
	return n;
}

ssize_t syscount_read(const struct syscount_state *st, struct syscount_bpf *skel,
		      struct syscount_row **out)
{
	bool keyed = st->per_pid || st->errnos;
	size_t cap = keyed ? st->max_keys : KS_SYS_MAX;
	struct syscount_row *rows = calloc(cap, sizeof(*rows));
	void *buf = calloc(st->ncpu, sizeof(struct syscount_hist));
	ssize_t n = -ENOMEM;

	if (rows && buf)
		n = keyed ? read_by_key(st, skel, rows, cap, buf) : read_by_nr(st, skel, rows, buf);
	free(buf);
	if (n < 0) {
		free(rows);
		return n;
	}
	*out = rows;
	return n;
}

/*
 * One row. Table columns first, JSON-only values last: the table pads every column but
 * the record's last value, and these columns are right-aligned numbers.
 */
static void emit_row(struct ks_ctx *ctx, const struct syscount_state *st,
		     const struct syscount_row *row, const struct ks_histv *hv)
{
	static char name[KS_SYSNAME_LEN];
	const char *sys = ks_sysnames_name(st->names, row->k.nr, name, sizeof(name));
	bool block = st->hist, timed = st->latency || st->hist;
	struct ks_rec r;

	ks_rec_init(&r, "syscount", NULL);
	r.style = block ? KS_REC_BLOCK : KS_REC_ROW;
	if (st->per_pid) {
		const char *comm = row->comm[0] ? row->comm : "?";

		ks_rec_uint(&r, "pid", block ? "pid" : "PID", -7, row->k.pid);
		ks_rec_kstr(&r, "comm", block ? "comm" : "COMM", -16, comm,
			    strnlen(comm, TASK_COMM_LEN), false);
	}
	ks_rec_str(&r, "name", block ? "syscall" : "SYSCALL", -22, sys, strlen(sys));
	if (st->errnos) {
		if (row->k.err)
			ks_rec_add(&r, "err", block ? "errno" : "ERRNO", -10, KS_V_ERRNO)->i =
				row->k.err;
		else
			ks_rec_str(&r, NULL, block ? "errno" : "ERRNO", -10, "-", 1);
	}
	ks_rec_uint(&r, "count", block ? "count" : "COUNT", 10, row->count);
	ks_rec_uint(&r, "errors", st->errnos ? NULL : block ? "errors" : "ERRORS", 10,
		    row->errors);
	if (timed) {
		ks_rec_add(&r, NULL, block ? (st->ms ? "time (ms)" : "time (us)") :
				     (st->ms ? "TIME (ms)" : "TIME (us)"), 12, KS_V_DOUBLE)->d =
			row->lat_ns / (st->ms ? 1e6 : 1e3);
		ks_rec_add(&r, NULL, block ? "avg" : "AVG", 9, KS_V_NS)->u =
			row->lat_ns / row->count;
	}
	ks_rec_uint(&r, "nr", NULL, 0, row->k.nr);
	if (st->errnos)
		ks_rec_int(&r, "errno", NULL, 0, row->k.err);
	if (timed) {
		ks_rec_uint(&r, "lat_ns", NULL, 0, row->lat_ns);
		ks_rec_add(&r, "avg_ns", NULL, 0, KS_V_DOUBLE)->d =
			(double)row->lat_ns / row->count;
	}
	if (hv)
		ks_rec_add(&r, "hist", "hist", 0, KS_V_HIST)->h = hv;
	ks_emit(ctx, &r);
}

void syscount_emit(struct ks_ctx *ctx, const struct syscount_state *st,
		   const struct syscount_row *rows, size_t n, double secs)
{
	uint64_t calls = 0, errors = 0;
	struct ks_rec r;

	for (size_t i = 0; i < n; i++) {
		calls += rows[i].count;
		errors += rows[i].errors;
	}
	ks_rec_init(&r, "syscount_total", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, "module", "", -8, "syscount", 8);
	ks_rec_uint(&r, "calls", "calls", 0, calls);
	ks_rec_uint(&r, "errors", "errors", 0, errors);
	ks_rec_uint(&r, "rows", "rows", 0, n);
	ks_rec_add(&r, "seconds", "seconds", 0, KS_V_DOUBLE)->d = secs;
	ks_emit(ctx, &r);
	for (size_t i = 0; i < n && i < st->top; i++) {
		const struct ks_histv hv = {
			.slots = rows[i].slots, .nslots = SYSCOUNT_SLOTS,
			.unit = st->ms ? "usecs" : "nsecs", .unit_ns = st->ms ? 1e3 : 1,
		};

		emit_row(ctx, st, &rows[i], st->hist ? &hv : NULL);
	}
}
