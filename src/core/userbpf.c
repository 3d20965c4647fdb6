// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf (userbpf.h): load and auto-attach a user's objects once the modules run
 * (userbpf_open.c opened them), export their maps and their programs' cost each interval,
 * close everything with the session.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/module.h"
#include "core/selfstats.h"
#include "core/session.h"
#include "core/userbpf.h"
#include "core/userbpf_int.h"

static const char *map_type_name(struct bpf_map *m)
{
	const char *s = libbpf_bpf_map_type_str(bpf_map__type(m));

	return s ? s : "unknown";
}

static bool decodable(enum bpf_map_type t, bool *percpu)
{
	*percpu = t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
		  t == BPF_MAP_TYPE_PERCPU_ARRAY;
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_ARRAY ||
	       *percpu;
}

/* Register @um's metrics (each refusal said in one line) and keep it. */
static void register_outs(struct ks_ctx *c, struct ub_obj *o, struct ub_map *um)
{
	for (int i = 0; i < um->nouts; i++) {
		struct ub_out *out = &um->outs[i];

		if (ks_metrics__find(ks_ctx_metrics(c), out->name)) {
			fprintf(stderr, "ksight run: --bpf %s: %s %s: %s is taken (rename it%s); not "
				"exported\n", o->stem, um->globals ? "global" : "map", um->name,
				out->name, um->globals ? "" : " with map.NAME.name in a manifest");
			continue;
		}
		out->m = ks_ctx_metric(c, &out->d);
		if (!out->m)
			fprintf(stderr, "ksight run: --bpf %s: map %s: %s: %s; not exported\n",
				o->stem, um->name, out->name,
				errno == EINVAL ? "not a valid metric (name or labels)"
						: strerror(errno));
	}
	o->nmaps++;
}

/* Plan and register each map's metrics; a map that cannot be is said in one line. */
static void plan_maps(struct ks_ctx *c, struct ub_obj *o)
{
	struct bpf_map *map;
	int n = 0;

	bpf_object__for_each_map(map, o->obj)
		n++;
	o->maps = calloc(n ? n : 1, sizeof(*o->maps));
	if (!o->maps)
		return;
	bpf_object__for_each_map(map, o->obj) {
		struct ub_map *um = &o->maps[o->nmaps];
		const char *skip = ub_manifest_get(&o->man, "map.%s.skip", bpf_map__name(map));
		char why[KS_ERR_LEN];

		const char *sec = strrchr(bpf_map__name(map), '.');

		if (skip && !strcmp(skip, "true"))
			continue;	/* what the user left out */
		memset(um, 0, sizeof(*um));	/* what a map refused before left there */
		um->map = map;
		um->name = bpf_map__name(map);
		um->key_size = bpf_map__key_size(map);
		um->value_size = bpf_map__value_size(map);
		um->max_entries = bpf_map__max_entries(map);
		if (bpf_map__is_internal(map)) {
			/* global variables: .bss and .data, not the constants of .rodata */
			if (sec && (!strcmp(sec, ".bss") || !strcmp(sec, ".data")) &&
			    !ub_plan_globals(o, um))
				register_outs(c, o, um);
			continue;
		}
		if (!decodable(bpf_map__type(map), &um->percpu)) {
			fprintf(stderr, "ksight run: --bpf %s: map %s (%s): cannot decode this map "
				"type, not exported\n", o->stem, um->name, map_type_name(map));
			continue;
		}
		if (ub_plan_map(o, um, why, sizeof(why))) {
			fprintf(stderr, "ksight run: --bpf %s: map %s: %s; not exported\n", o->stem,
				um->name, why);
			continue;
		}
		register_outs(c, o, um);
	}
}

/* Load @o (never pinned), attach each program its section names. Returns programs
 * attached, or -1 when the kernel refused the object (said; the agent runs on). */
static int start_obj(struct ks_ctx *c, struct ub_obj *o)
{
	struct bpf_program *p;
	struct bpf_map *map;
	char buf[256];
	int n = 0, err;

	bpf_object__for_each_map(map, o->obj) {
		if (bpf_map__pin_path(map)) {
			fprintf(stderr, "ksight run: --bpf %s: map %s asks to be pinned: it is not "
				"(nothing of ksight outlives it)\n", o->stem, bpf_map__name(map));
			bpf_map__set_pin_path(map, NULL);
		}
	}
	ks_log_reset();
	err = bpf_object__load(o->obj);
	if (err) {
		const char *why = ks_log_verifier_reason(buf, sizeof(buf));

		fprintf(stderr, "ksight run: --bpf %s: the kernel refused it: %s; skipped\n",
			o->stem, why ? why : strerror(-err));
		o->failed = true;
		return -1;
	}
	bpf_object__for_each_program(p, o->obj)
		n++;
	o->links = calloc(n ? n : 1, sizeof(*o->links));
	if (!o->links)
		return -1;
	bpf_object__for_each_program(p, o->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p) || !bpf_program__autoattach(p))
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			fprintf(stderr, "ksight run: --bpf %s: program %s (SEC(\"%s\")) not attached: "
				"%s\n", o->stem, bpf_program__name(p), bpf_program__section_name(p),
				errno == EOPNOTSUPP || errno == ESRCH
					? "its section names nothing libbpf attaches by itself"
					: strerror(errno));
			continue;
		}
		o->links[o->nlinks++] = l;
	}
	plan_maps(c, o);
	return o->nlinks;
}

static int ub_start(struct ks_ctx *c, void *arg)
{
	struct ks_userbpf *u = arg;
	int total = 0;

	u->ncpu = libbpf_num_possible_cpus();
	if (u->ncpu < 1)
		u->ncpu = 1;
	clock_gettime(CLOCK_MONOTONIC, &u->last);
	u->runs = ks_ctx_metric(c, &ks_prog_runs_desc);
	u->run_time = ks_ctx_metric(c, &ks_prog_run_time_desc);
	for (int i = 0; i < u->n; i++) {
		int n = start_obj(c, &u->objs[i]);

		if (n > 0)
			total += n;
	}
	return total;
}

static struct ks_series *series2(struct ks_metric *m, const char *a, const char *b)
{
	const char *v[2] = { a, b };
	size_t len[2] = { strlen(a), strlen(b) };

	return ks_metric_getn(m, v, len);
}

/* The object's programs' cost into the registry; their runs and run time since the last
 * interval into @runs, @ns. */
static void prog_stats(struct ks_userbpf *u, struct ub_obj *o, uint64_t *runs, uint64_t *ns)
{
	struct bpf_program *p;

	if (!u->runs || !u->run_time)
		return;
	bpf_object__for_each_program(p, o->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		struct ks_series *r = series2(u->runs, o->module, bpf_program__name(p));
		struct ks_series *t = series2(u->run_time, o->module, bpf_program__name(p));

		ks_counter_set(r, info.run_cnt);
		ks_counter_set(t, info.run_time_ns);
		*runs += ks_counter_delta(r);
		*ns += ks_counter_delta(t);
	}
}

/* The agent's line for an object: its programs' runs and cost, its series. */
static void summary(struct ks_ctx *c, struct ub_obj *o, uint64_t runs, uint64_t ns, double secs)
{
	uint64_t series = 0;
	struct ks_rec r;

	for (int k = 0; k < o->nmaps; k++)
		for (int i = 0; i < o->maps[k].nouts; i++)
			if (o->maps[k].outs[i].m)
				series += o->maps[k].outs[i].m->nseries;
	ks_rec_summary(&r, o->module);
	ks_rec_rate(&r, "runs_per_s", "runs", runs, secs);
	ks_rec_add(&r, "ns_per_run", "per run", 0, KS_V_NS)->u = runs ? ns / runs : 0;
	ks_rec_add(&r, "series", "series", 0, KS_V_COUNT)->u = series;
	ks_emit(c, &r);
}

static void ub_collect(struct ks_ctx *c, void *arg)
{
	struct ks_userbpf *u = arg;
	struct timespec now;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (now.tv_sec - u->last.tv_sec) + (now.tv_nsec - u->last.tv_nsec) / 1e9;
	u->last = now;
	for (int i = 0; i < u->n; i++) {
		struct ub_obj *o = &u->objs[i];
		uint64_t runs = 0, ns = 0;

		if (o->failed || !o->obj)
			continue;
		for (int k = 0; k < o->nmaps; k++)
			ub_collect_map(&o->maps[k], u->ncpu);
		prog_stats(u, o, &runs, &ns);
		summary(c, o, runs, ns, secs > 1e-3 ? secs : 1e-3);
	}
}

/* Links first, then the objects: the kernel keeps nothing once their fds close. */
static void ub_stop(void *arg)
{
	struct ks_userbpf *u = arg;

	for (int i = 0; i < u->n; i++) {
		struct ub_obj *o = &u->objs[i];

		for (int k = 0; k < o->nlinks; k++)
			bpf_link__destroy(o->links[k]);
		o->nlinks = 0;
		bpf_object__close(o->obj);
		o->obj = NULL;
		o->nmaps = 0;
	}
}

void ks_userbpf__attach_to(struct ks_userbpf *u, struct ks_ctx *ctx)
{
	struct ks_extra e = { ub_start, ub_collect, ub_stop, u };

	ks_ctx__set_extra(ctx, &e);
}

void ks_userbpf__free(struct ks_userbpf *u)
{
	if (!u)
		return;
	ub_stop(u);
	for (int i = 0; i < u->n; i++) {
		free(u->objs[i].links);
		free(u->objs[i].maps);
	}
	free(u);
}
