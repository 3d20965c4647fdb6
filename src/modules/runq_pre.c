// SPDX-License-Identifier: GPL-2.0
/*
 * runqlat --preemptor: the kernel's (victim, preemptor) table (bpf/runq.bpf.c) as a table
 * per victim, shown before its histogram: each cgroup that held the CPU while the victim
 * waited, the delay it caused and its share of the victim's whole delay in the interval.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/ident.h"
#include "core/module.h"
#include "runq.skel.h"
#include "runq_int.h"

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct runq_pre_key));
}

/* By victim, then most delay first, then the preemptor's id: stable across reports. */
static int by_victim_ns(const void *a, const void *b)
{
	const struct runq_pre_row *x = a, *y = b;
	int c = memcmp(&x->k.victim, &y->k.victim, sizeof(x->k.victim));

	if (c)
		return c;
	if (x->v.ns != y->v.ns)
		return x->v.ns > y->v.ns ? -1 : 1;
	return x->k.preemptor < y->k.preemptor ? -1 : x->k.preemptor > y->k.preemptor;
}

static bool sub_pre(void *r, const void *p)
{
	struct runq_pre_row *d = r;
	const struct runq_pre_row *o = p;

	if (o) {
		d->v.ns -= o->v.ns;
		d->v.slices -= o->v.slices;
	}
	return d->v.ns;
}

static uint64_t count_pre(const void *r)
{
	return ((const struct runq_pre_row *)r)->v.slices;
}

void runq_pre_init(struct runq_state *st)
{
	st->pre = (struct ks_task_rows)KS_TASK_ROWS(struct runq_pre_row, by_key, sub_pre,
						     count_pre);
}

void runq_pre_read(struct ks_ctx *ctx, struct runq_state *st, struct runq_bpf *skel)
{
	uint64_t total;

	runq_pre_done(st);
	st->pre_n = ks_task_rows_read(&st->pre, skel->maps.runq_pres, &total,
				      (void **)&st->pre_d);
	ks_ctx_aggregated(ctx, RUNQ_EV_PRE, total);
	if (st->pre_d)
		qsort(st->pre_d, st->pre_n, sizeof(*st->pre_d), by_victim_ns);
}

void runq_pre_done(struct runq_state *st)
{
	free(st->pre_d);
	st->pre_d = NULL;
	st->pre_n = 0;
}

/* A preemptor's name: "idle", "unknown" (older than the CPU's ring), or its cgroup's
 * path below the mount ("cgroup:ID" while the worker has not resolved it). */
static const char *pre_name(struct ks_ctx *ctx, uint64_t id, char *buf, size_t len)
{
	const char *p;

	if (id == RUNQ_PRE_IDLE)
		return "idle";
	if (id == RUNQ_PRE_UNKNOWN)
		return "unknown";
	p = ks_ident__cgroup_path(ks_ctx_ident(ctx), id);
	if (p)
		return p;
	snprintf(buf, len, "cgroup:%llu", (unsigned long long)id);
	return buf;
}

void runq_victim_cols(struct ks_ctx *ctx, const struct runq_state *st, struct ks_rec *r,
		      const struct runq_key *k, const char *comm)
{
	if (st->per_process || st->per_thread) {
		ks_rec_uint(r, "pid", "pid", 0, k->pid);
		if (st->per_thread)
			ks_rec_uint(r, "tid", "tid", 0, k->tid);
		if (comm)
			ks_rec_str(r, "comm", "comm", 0, comm, strlen(comm));
	}
	if (st->per_cgroup) {
		const char *svc = ks_ctx_service(ctx, 0, k->cgroup);

		ks_rec_uint(r, "cgroup_id", "cgroup", 0, k->cgroup);
		ks_rec_str(r, "service", "service", 0, svc, strlen(svc));
	}
}

void runq_pre_emit(struct ks_ctx *ctx, const struct runq_state *st,
		   const struct runq_key *victim, const char *comm)
{
	const struct runq_pre_row *d = st->pre_d;
	size_t i = 0, n = st->pre_n;
	uint64_t whole = 0;

	while (i < n && memcmp(&d[i].k.victim, victim, sizeof(*victim)) < 0)
		i++;
	for (size_t j = i; j < n && !memcmp(&d[j].k.victim, victim, sizeof(*victim)); j++)
		whole += d[j].v.ns;
	for (; i < n && !memcmp(&d[i].k.victim, victim, sizeof(*victim)); i++) {
		char buf[48];
		const char *name = pre_name(ctx, d[i].k.preemptor, buf, sizeof(buf));
		struct ks_rec r;

		ks_rec_init(&r, "preemptor", NULL);
		runq_victim_cols(ctx, st, &r, victim, comm);
		ks_rec_add(&r, "delay_ns", "delay", 9, KS_V_NS)->u = d[i].v.ns;
		ks_rec_add(&r, "share", "share%", 7, KS_V_DOUBLE)->d =
			whole ? 100.0 * d[i].v.ns / whole : 0;
		ks_rec_add(&r, "slices", "slices", 8, KS_V_COUNT)->u = d[i].v.slices;
		ks_rec_uint(&r, "preemptor_id", NULL, 0, d[i].k.preemptor);
		ks_rec_str(&r, "preemptor", "preemptor", 0, name, strlen(name));
		ks_emit(ctx, &r);
	}
}

static void queue_cgroup(void *arg, uint64_t id, const char *path)
{
	(void)path;
	ks_ident__cgroup_path(arg, id);
}

void runq_pre_started(struct ks_ctx *ctx)
{
	struct ks_cgfs fs;

	if (ks_cgfs__open(&fs, "/proc"))
		return;
	ks_cgfs__walk(&fs, 512, queue_cgroup, ks_ctx_ident(ctx));
	ks_cgfs__close(&fs);
}
