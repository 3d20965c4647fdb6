// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --metrics (metrics.h): each metric its own instance of trace's object, so
 * that the kernel's run count and run time of its program are the metric's own cost
 * (ksight_bpf_prog_runs_total{module="metrics:NAME"}, as --bpf objects'). Each interval
 * the instance's rows, cumulative in the kernel, are read; what each row gained since the
 * last read goes to its series (past the budget: into the overflow series, so the sum
 * over series stays exact). A row the kernel could not make is a counted drop.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/btfmin.h"
#include "core/legacy.h"
#include "core/module.h"
#include "core/probe_int.h"
#include "core/selfstats.h"
#include "core/session.h"
#include "modules/metrics.h"
#include "modules/metrics_int.h"
#include "trace.skel.h"

static const struct ks_metric_desc drops_desc = {
	.name = "ksight_metrics_file_drops_total",
	.help = "Hits of a --metrics metric not counted: its kernel table was full",
	.type = KS_METRIC_COUNTER,
	.labels = { "metric" },
	.budget = 256,
};

struct ks_ymetrics *ks_ymetrics__open(const char *path, char *err, size_t len)
{
	struct ks_ymetrics *ym = calloc(1, sizeof(*ym));
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t n = 0;

	if (!ym || !f) {
		snprintf(err, len, "--metrics %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(ym->path, sizeof(ym->path), "%s", path);
	if (fseek(f, 0, SEEK_END) || (long)(n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    n > (1 << 20) || !(text = malloc(n + 1)) || fread(text, 1, n, f) != n) {
		snprintf(err, len, "--metrics %s: cannot read it (1 MB at most)", path);
		goto fail;
	}
	text[n] = 0;
	if (ym_parse(ym, text, n, err, len))
		goto fail;
	free(text);
	fclose(f);
	return ym;
fail:
	free(text);
	if (f)
		fclose(f);
	ks_ymetrics__free(ym);
	return NULL;
}

/* Load @m's instance and attach it. Returns 0, or -1 said in one line. */
static int start_one(struct ym_metric *m)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char path[32];
	int core_btf = ks_btfmin_use("trace", trace_bpf__elf_bytes, &opts, path, sizeof(path),
				     NULL);
	struct trace_bpf *s = trace_bpf__open_opts(&opts);
	struct bpf_program *prog;
	const struct trace_probe *p = &m->p;
	int err;

	if (!s) {
		fprintf(stderr, "ksight run: --metrics %s: cannot open its program: %s\n",
			m->name, strerror(errno));
		if (core_btf >= 0)
			close(core_btf);
		return -1;
	}
	m->skel = s;
	bpf_object__for_each_program(prog, s->obj)
		bpf_program__set_autoload(prog, false);
	prog = trace_prog(s, p);
	if ((err = trace_prog_ready(s, p))) {
		fprintf(stderr, "ksight run: --metrics %s: %s: %s\n", m->name, m->probe,
			strerror(-err));
		if (core_btf >= 0)
			close(core_btf);
		return -1;
	}
	s->rodata->ks_cfg.self_tgid = getpid();
	s->bss->trace_conf = m->conf;
	snprintf((char *)s->rodata->trace_serves, sizeof(s->rodata->trace_serves), "metrics:%s",
		 m->name);
	bpf_map__set_max_entries(s->maps.ks_rb, 4096);	/* no records: a page */
	bpf_map__set_key_size(s->maps.trace_counts, m->keylen ? m->keylen : 1);
	bpf_map__set_max_entries(s->maps.trace_counts, !m->keylen ? 1 :
				 m->nlabels ? TRACE_ROWS : TRACE_HSUM + 1);
	err = trace_bpf__load(s);
	if (core_btf >= 0)
		close(core_btf);
	if (err) {
		fprintf(stderr, "ksight run: --metrics %s: the kernel refused its program: %s\n",
			m->name, strerror(-err));
		return -1;
	}
	if ((p->kind == TRACE_P_UPROBE || p->kind == TRACE_P_URETPROBE ||
	     p->kind == TRACE_P_USDT) && ks_uprobe_pmu_type() < 0 &&
	    (err = ks_legacy_note_libbpf("uprobe_events"))) {
		fprintf(stderr, "ksight run: --metrics %s: cannot record its uprobe: %s\n",
			m->name, strerror(-err));
		return -1;
	}
	if (p->kind == TRACE_P_KFUNC && !p->fentry &&
	    access("/sys/bus/event_source/devices/kprobe/type", F_OK) &&
	    (err = ks_legacy_note_libbpf("kprobe_events"))) {
		fprintf(stderr, "ksight run: --metrics %s: cannot record its kprobe: %s\n",
			m->name, strerror(-err));
		return -1;
	}
	if (p->fentry) {	/* fentry, tp_btf: the target set before load */
		m->link = bpf_program__attach_trace(prog);
	} else if (p->kind == TRACE_P_RAW) {
		m->link = bpf_program__attach_raw_tracepoint(prog, p->name);
	} else if (p->kind == TRACE_P_KFUNC) {
		m->link = bpf_program__attach_kprobe(prog, false, p->func);
	} else if (p->kind == TRACE_P_TP) {
		m->link = bpf_program__attach_tracepoint(prog, p->cat, p->name);
	} else if (p->kind == TRACE_P_USDT) {
		m->link = bpf_program__attach_usdt(prog, -1, p->path, p->provider, p->func, NULL);
	} else {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = p->kind == TRACE_P_URETPROBE);
		m->link = bpf_program__attach_uprobe_opts(prog, -1, p->path, p->off, &o);
	}
	if (!m->link) {
		fprintf(stderr, "ksight run: --metrics %s: cannot attach to %s: %s\n", m->name,
			m->probe, strerror(errno));
		return -1;
	}
	return 0;
}

static int ym_start(struct ks_ctx *c, void *arg)
{
	struct ks_ymetrics *ym = arg;
	int started = 0;

	ym->ncpu = libbpf_num_possible_cpus();
	if (ym->ncpu < 1)
		ym->ncpu = 1;
	clock_gettime(CLOCK_MONOTONIC, &ym->last);
	ym->runs = ks_ctx_metric(c, &ks_prog_runs_desc);
	ym->run_time = ks_ctx_metric(c, &ks_prog_run_time_desc);
	ym->drops = ks_ctx_metric(c, &drops_desc);
	for (int i = 0; i < ym->n; i++) {
		struct ym_metric *m = &ym->v[i];

		if (m->missing[0]) {
			fprintf(stderr, "ksight run: --metrics %s: %s left out: %s\n", ym->path,
				m->name, m->missing);
			continue;
		}
		if (ks_metrics__find(ks_ctx_metrics(c), m->name)) {
			fprintf(stderr, "ksight run: --metrics %s: %s is one of ksight's own "
				"metrics; rename it\n", ym->path, m->name);
			return -EEXIST;
		}
		m->m = ks_ctx_metric(c, &m->d);
		if (!m->m) {
			fprintf(stderr, "ksight run: --metrics %s: %s: %s\n", ym->path, m->name,
				strerror(errno));
			return -EINVAL;
		}
		if (start_one(m))
			return -EINVAL;	/* never half-configured: the agent stops */
		started++;
	}
	return started;
}

/* The sum over CPUs of slot @slot of per-CPU array @map (u64 values of @size bytes at
 * @off). */
static uint64_t percpu_sum(struct ks_ymetrics *ym, struct bpf_map *map, uint32_t slot,
			   size_t size, size_t off)
{
	char *v = calloc(ym->ncpu, size);
	uint64_t sum = 0, x;

	if (v && !bpf_map__lookup_elem(map, &slot, sizeof(slot), v, ym->ncpu * size, 0))
		for (int i = 0; i < ym->ncpu; i++) {
			memcpy(&x, v + i * size + off, sizeof(x));
			sum += x;
		}
	free(v);
	return sum;
}

static size_t g_keylen;

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, g_keylen);
}

/* The label values of @key into @buf, pointed to by @v. */
static void label_values(const struct ym_metric *m, const unsigned char *key, char (*buf)[80],
			 const char **v, size_t *len)
{
	for (int i = 0; i < m->nlabels; i++) {
		const struct trace_kpart *k = &m->conf.k[i];
		const struct trace_field *f = &m->conf.f[k->field];
		uint64_t x;

		if (trace_field_str(f)) {
			snprintf(buf[i], sizeof(buf[i]), "%.*s", (int)k->len,
				 (const char *)key + k->off);
		} else {
			memcpy(&x, key + k->off, sizeof(x));
			if (f->is_signed)
				snprintf(buf[i], sizeof(buf[i]), "%lld", (long long)(int64_t)x);
			else
				snprintf(buf[i], sizeof(buf[i]), "%llu", (unsigned long long)x);
		}
		v[i] = buf[i];
		len[i] = strlen(buf[i]);
	}
}

/* What row @key gained (@delta) into its series. */
static void add_row(struct ym_metric *m, const unsigned char *key, uint64_t delta)
{
	char buf[KS_LABELS_MAX][80];
	const char *v[KS_LABELS_MAX];
	size_t len[KS_LABELS_MAX];
	struct ks_series *s;
	__u64 slots[KS_HIST_SLOTS] = { 0 };
	uint64_t slot;

	label_values(m, key, buf, v, len);
	s = ks_metric_getn(m->m, m->nlabels ? v : NULL, len);
	if (!m->hist) {
		ks_counter_add(s, delta);
		m->events += delta;
		return;
	}
	memcpy(&slot, key + m->conf.hkey_off, sizeof(slot));
	if (slot == TRACE_HSUM) {
		ks_hist_add(s, slots, KS_HIST_SLOTS, 0, (double)(int64_t)delta);
		return;
	}
	slots[slot & (KS_HIST_SLOTS - 1)] = delta;
	ks_hist_add(s, slots, KS_HIST_SLOTS, delta, 0);
	m->events += delta;
}

/* Every row of @m's table, summed over CPUs, against the rows seen last. */
static void collect_rows(struct ks_ymetrics *ym, struct ym_metric *m)
{
	int fd = bpf_map__fd(m->skel->maps.trace_counts);
	size_t rowsz = m->keylen + 8, cap = 64, n = 0;
	unsigned char *rows = malloc(cap * rowsz), key[TRACE_KEY_MAX], next[TRACE_KEY_MAX];
	uint64_t *pc = calloc(ym->ncpu, sizeof(*pc));
	void *prevk = NULL;

	while (rows && pc && !bpf_map_get_next_key(fd, prevk, next)) {
		uint64_t c = 0;

		memcpy(key, next, m->keylen);
		prevk = key;
		if (bpf_map_lookup_elem(fd, key, pc))
			continue;
		for (int i = 0; i < ym->ncpu; i++)
			c += pc[i];
		if (n == cap) {
			unsigned char *nr = realloc(rows, 2 * cap * rowsz);

			if (!nr)
				break;
			rows = nr;
			cap *= 2;
		}
		memcpy(rows + n * rowsz, key, m->keylen);
		memcpy(rows + n * rowsz + m->keylen, &c, 8);
		n++;
	}
	free(pc);
	if (!rows)
		return;
	g_keylen = m->keylen;
	qsort(rows, n, rowsz, by_key);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *row = rows + i * rowsz;
		const unsigned char *was = m->prev ? bsearch(row, m->prev, m->nprev, rowsz, by_key)
						   : NULL;
		uint64_t c, w = 0;

		memcpy(&c, row + m->keylen, 8);
		if (was)
			memcpy(&w, was + m->keylen, 8);
		if (c != w)
			add_row(m, row, c - w);
	}
	free(m->prev);
	m->prev = rows;
	m->nprev = n;
}

static struct ks_series *series2(struct ks_metric *m, const char *a, const char *b)
{
	const char *v[2] = { a, b };
	size_t len[2] = { strlen(a), strlen(b) };

	return ks_metric_getn(m, v, len);
}

/* The metric's program's cost, its drops, and its line in the agent's summary. */
static void cost(struct ks_ctx *c, struct ks_ymetrics *ym, struct ym_metric *m, double secs,
		 uint64_t events0)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	char module[160];
	struct bpf_program *p = trace_prog(m->skel, &m->p);
	const char *prog = bpf_program__name(p);
	uint64_t runs = 0, ns = 0;
	struct ks_rec r;

	snprintf(module, sizeof(module), "metrics:%s", m->name);
	if (ym->drops) {
		const char *v = m->name;
		size_t len = strlen(v);

		ks_counter_set(ks_metric_getn(ym->drops, &v, &len),
			       percpu_sum(ym, m->skel->maps.ks_stats, 0, sizeof(struct ks_cpu_stats),
					  offsetof(struct ks_cpu_stats, lost[TRACE_EV_COUNT & (KS_EV_MAX - 1)])));
	}
	if (p && ym->runs && ym->run_time && bpf_program__fd(p) >= 0 &&
	    !bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &ilen)) {
		struct ks_series *rs = series2(ym->runs, module, prog);
		struct ks_series *ts = series2(ym->run_time, module, prog);

		ks_counter_set(rs, info.run_cnt);
		ks_counter_set(ts, info.run_time_ns);
		runs = ks_counter_delta(rs);
		ns = ks_counter_delta(ts);
	}
	ks_rec_summary(&r, module);
	ks_rec_rate(&r, "events_per_s", "events", m->events - events0, secs);
	ks_rec_add(&r, "ns_per_run", "per run", 0, KS_V_NS)->u = runs ? ns / runs : 0;
	ks_rec_add(&r, "series", "series", 0, KS_V_COUNT)->u = m->m->nseries;
	ks_emit(c, &r);
}

static void ym_collect(struct ks_ctx *c, void *arg)
{
	struct ks_ymetrics *ym = arg;
	struct timespec now;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (now.tv_sec - ym->last.tv_sec) + (now.tv_nsec - ym->last.tv_nsec) / 1e9;
	ym->last = now;
	for (int i = 0; i < ym->n; i++) {
		struct ym_metric *m = &ym->v[i];
		uint64_t events0 = m->events;

		if (!m->skel || !m->link || !m->m)
			continue;
		if (m->keylen) {
			collect_rows(ym, m);
		} else {
			uint64_t t = percpu_sum(ym, m->skel->maps.trace_total, m->conf.nops ?
						TRACE_TOT_MATCH : TRACE_TOT_HITS, 8, 0);
			struct ks_series *s = ks_metric_getn(m->m, NULL, NULL);

			ks_counter_set(s, t);
			m->events = t;
		}
		cost(c, ym, m, secs > 1e-3 ? secs : 1e-3, events0);
	}
}

static void ym_stop(void *arg)
{
	struct ks_ymetrics *ym = arg;

	for (int i = 0; i < ym->n; i++) {
		struct ym_metric *m = &ym->v[i];

		bpf_link__destroy(m->link);
		m->link = NULL;
		trace_bpf__destroy(m->skel);
		m->skel = NULL;
	}
}

void ks_ymetrics__attach_to(struct ks_ymetrics *ym, struct ks_ctx *ctx)
{
	struct ks_extra e = { ym_start, ym_collect, ym_stop, ym };

	ks_ctx__set_extra(ctx, &e);
}

void ks_ymetrics__free(struct ks_ymetrics *ym)
{
	if (!ym)
		return;
	ym_stop(ym);
	for (int i = 0; i < ym->n; i++)
		free(ym->v[i].prev);
	free(ym->v);
	free(ym);
}
