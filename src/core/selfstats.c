// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's view of itself (selfstats.h). Programs and maps are read once an interval
 * through their fds; a program reached only by tail calls (a module's syscall handler)
 * never counts runs of its own: the kernel counts them, and their time, in the program
 * that made the call (the dispatcher's core__sys_exit_*).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/procfs.h"
#include "core/selfstats.h"
#include "core/session_int.h"
#include "core.skel.h"

const struct ks_metric_desc ks_prog_runs_desc = {
	.name = "ksight_bpf_prog_runs_total",
	.help = "Runs of each loaded ksight BPF program, as the kernel counts them (only while "
		"its BPF statistics are on: ksight_bpf_stats_enabled)",
	.type = KS_METRIC_COUNTER,
	.labels = { "module", "program" },
	.budget = 1024,
};

const struct ks_metric_desc ks_prog_run_time_desc = {
	.name = "ksight_bpf_prog_run_seconds_total",
	.help = "Time spent running each loaded ksight BPF program, tail calls it made included "
		"(only while the kernel's BPF statistics are on)",
	.type = KS_METRIC_COUNTER,
	.labels = { "module", "program" },
	.budget = 1024,
	.unit = "seconds",
	.scale = 1e-9,
};

static const struct ks_metric_desc missed_desc = {
	.name = "ksight_bpf_prog_missed_runs_total",
	.help = "Runs of each loaded ksight BPF program the kernel skipped because it was "
		"already running on that CPU (counted from 5.12 on, always on): what they would "
		"have seen is in no other count",
	.type = KS_METRIC_COUNTER,
	.labels = { "module", "program" },
	.budget = 1024,
};

static const struct ks_metric_desc stats_on_desc = {
	.name = "ksight_bpf_stats_enabled",
	.help = "Whether the kernel counts BPF programs' runs and run time now: "
		"kernel.bpf_stats_enabled, or this agent's --bpf-stats (sampled: one interval "
		"in --bpf-stats-every)",
	.type = KS_METRIC_GAUGE,
};

static const struct ks_metric_desc on_secs_desc = {
	.name = "ksight_bpf_stats_on_seconds_total",
	.help = "Time this agent held the kernel's BPF statistics on: the programs' run "
		"time over it is their share of a CPU, when sampled too",
	.type = KS_METRIC_COUNTER,
	.unit = "seconds",
	.scale = 1e-9,
};

static const struct ks_metric_desc rb_size_desc = {
	.name = "ksight_ring_buffer_size_bytes",
	.help = "Size of the ring buffer every module streams through",
	.type = KS_METRIC_GAUGE,
};

static const struct ks_metric_desc rb_peak_desc = {
	.name = "ksight_ring_buffer_peak_used_bytes",
	.help = "Most bytes waiting in the ring buffer when the reader woke, during the last "
		"interval (at the size, records are lost)",
	.type = KS_METRIC_GAUGE,
};

/* The agent's own cost beside its programs': user and system time of all its threads
 * (getrusage, microseconds), and its resident memory now. */
static const struct ks_metric_desc cpu_desc = {
	.name = "ksight_agent_cpu_seconds_total",
	.help = "CPU time the agent process used, user and system, all its threads",
	.type = KS_METRIC_COUNTER,
	.unit = "seconds",
	.scale = 1e-6,
};

static const struct ks_metric_desc rss_desc = {
	.name = "ksight_agent_resident_bytes",
	.help = "The agent process's resident memory (/proc/self/statm) at the interval's end",
	.type = KS_METRIC_GAUGE,
};

/* The agent's clock beside its CPU time: CPU % over an interval needs both from one page */
static const struct ks_metric_desc uptime_desc = {
	.name = "ksight_agent_uptime_seconds",
	.help = "Seconds since the agent started collecting, at the interval's end (monotonic)",
	.type = KS_METRIC_GAUGE,
};

static const struct ks_metric_desc map_entries_desc = {
	.name = "ksight_bpf_map_entries",
	.help = "Entries in each of ksight's hash maps (past its capacity, updates fail and are "
		"counted as lost)",
	.type = KS_METRIC_GAUGE,
	.labels = { "module", "map" },
	.budget = 1024,
};

static const struct ks_metric_desc map_max_desc = {
	.name = "ksight_bpf_map_max_entries",
	.help = "Capacity of each of ksight's hash maps",
	.type = KS_METRIC_GAUGE,
	.labels = { "module", "map" },
	.budget = 1024,
};

/* Hold the kernel's statistics on from now. */
static void stats_hold(struct ks_selfstats *s)
{
	if (s->stats_fd >= 0)
		return;
	s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	s->on_since = ks_clock_mono_now();
}

/* Let go of them (they stay on while kernel.bpf_stats_enabled or another holder says so). */
static void stats_release(struct ks_selfstats *s)
{
	if (s->stats_fd < 0)
		return;
	close(s->stats_fd);
	s->stats_fd = -1;
	s->on_ns += ks_clock_mono_now() - s->on_since;
}

/* The time held, the open window included. */
static uint64_t stats_held_ns(const struct ks_selfstats *s)
{
	return s->on_ns + (s->stats_fd >= 0 ? ks_clock_mono_now() - s->on_since : 0);
}

void ks_selfstats_init(struct ks_ctx *c, struct ks_selfstats *s)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	s->started = true;
	s->stats_fd = -1;
	s->every = c->common.bpf_stats_every;
	s->runs = ks_ctx_metric(c, &ks_prog_runs_desc);
	s->run_time = ks_ctx_metric(c, &ks_prog_run_time_desc);
	s->missed = ks_ctx_metric(c, &missed_desc);
	s->stats_on = ks_ctx_metric(c, &stats_on_desc);
	s->on_secs = ks_ctx_metric(c, &on_secs_desc);
	s->rb_size_m = ks_ctx_metric(c, &rb_size_desc);
	s->rb_peak_m = ks_ctx_metric(c, &rb_peak_desc);
	s->map_entries = ks_ctx_metric(c, &map_entries_desc);
	s->map_max = ks_ctx_metric(c, &map_max_desc);
	s->cpu = ks_ctx_metric(c, &cpu_desc);
	s->rss = ks_ctx_metric(c, &rss_desc);
	s->uptime = ks_ctx_metric(c, &uptime_desc);
	s->start_ns = ks_clock_mono_now();
	if (s->every) {
		stats_hold(s);
		if (s->stats_fd < 0) {
			fprintf(stderr, "ksight %s: --bpf-stats: cannot turn the kernel's BPF run-time "
				"statistics on (BPF_ENABLE_STATS): %s; program runs are counted only "
				"while kernel.bpf_stats_enabled is 1\n", c->label, strerror(errno));
			s->every = 0;
		}
	}
	if (!c->skel)
		return;
	s->rb_size = bpf_map__max_entries(c->skel->maps.ks_rb);
	/* the consumer's page, then the producer's: read-only, so no write can confuse
	 * libbpf's reader, which maps them too */
	p = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, bpf_map__fd(c->skel->maps.ks_rb), 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ksight %s: cannot map the ring buffer's positions: %s; "
			"ksight_ring_buffer_peak_used_bytes stays 0\n", c->label, strerror(errno));
		return;
	}
	s->rb_pages = p;
	s->rb_len = 2 * page;
}

void ks_selfstats_free(struct ks_selfstats *s)
{
	if (!s->started)
		return;
	stats_release(s);
	if (s->rb_pages)
		munmap(s->rb_pages, s->rb_len);
	s->rb_pages = NULL;
}

static struct ks_series *series2(struct ks_metric *m, const char *a, const char *b)
{
	const char *v[2] = { a, b };
	size_t len[2] = { strlen(a), strlen(b) };

	return ks_metric_getn(m, v, len);
}

static void programs(struct ks_selfstats *s, const char *module, struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;	/* not loaded: an alternative this kernel did not take */
		ks_counter_set(series2(s->runs, module, bpf_program__name(prog)), info.run_cnt);
		ks_counter_set(series2(s->run_time, module, bpf_program__name(prog)),
			       info.run_time_ns);
		ks_counter_set(series2(s->missed, module, bpf_program__name(prog)),
			       info.recursion_misses);
	}
}

static bool is_hash(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* Entries of hash map @fd, walked key by key: one syscall each, a few ms for thousands,
 * once an interval. A walk that meets a key deleted meanwhile restarts from the first, so
 * it stops at the capacity, which it cannot truly pass. -1 if the walk fails at once. */
static long count_entries(int fd, __u32 key_size, __u32 max)
{
	char *k = calloc(2, key_size ? key_size : 1);
	char *cur = k, *next = k + key_size;
	long n = 0;

	if (!k)
		return -1;
	if (bpf_map_get_next_key(fd, NULL, cur)) {
		n = errno == ENOENT ? 0 : -1;
		goto out;
	}
	for (n = 1; n < (long)max; n++) {
		char *t;

		if (bpf_map_get_next_key(fd, cur, next))
			break;
		t = cur;
		cur = next;
		next = t;
	}
out:
	free(k);
	return n;
}

/* Each hash map of @obj not seen yet (the shared ones belong to the first object). */
static void maps(struct ks_selfstats *s, const char *module, struct bpf_object *obj,
		 __u32 *seen, size_t *nseen, size_t cap)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_map__fd(map);
		bool dup = false;
		long n;

		if (fd < 0 || !is_hash(bpf_map__type(map)) ||
		    bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		for (size_t i = 0; i < *nseen && !dup; i++)
			dup = seen[i] == info.id;
		if (dup)
			continue;
		if (*nseen < cap)
			seen[(*nseen)++] = info.id;
		n = count_entries(fd, info.key_size, info.max_entries);
		if (n < 0)
			continue;
		ks_gauge_set(series2(s->map_entries, module, bpf_map__name(map)), n);
		ks_gauge_set(series2(s->map_max, module, bpf_map__name(map)), info.max_entries);
	}
}

/* Whether the sysctl kernel.bpf_stats_enabled is on (it does not show the switches held
 * through BPF_ENABLE_STATS, ours or another tool's). */
static bool stats_sysctl(void)
{
	char buf[8];

	return ks_read_file("/proc/sys/kernel/bpf_stats_enabled", buf, sizeof(buf)) > 0 &&
	       buf[0] == '1';
}

/* The agent process's CPU time and resident memory; what cannot be read keeps its last
 * value (both are on the page from the first interval). */
static void process(struct ks_selfstats *s)
{
	struct rusage ru;
	uint64_t pages;
	char buf[128];

	if (s->cpu && !getrusage(RUSAGE_SELF, &ru))
		ks_counter_set(ks_metric_get(s->cpu, NULL),
			       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL +
				       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	if (s->uptime)
		ks_gauge_set(ks_metric_get(s->uptime, NULL),
			     (ks_clock_mono_now() - s->start_ns) / 1e9);
	if (s->rss && ks_read_file("/proc/self/statm", buf, sizeof(buf)) > 0 &&
	    !ks_parse_statm_rss(buf, &pages))
		ks_gauge_set(ks_metric_get(s->rss, NULL), pages * (uint64_t)sysconf(_SC_PAGESIZE));
}

void ks_selfstats_collect(struct ks_ctx *c, struct ks_selfstats *s)
{
	size_t nseen = 0;
	__u32 seen[512];

	if (!s->started || !s->runs || !s->run_time || !s->stats_on || !s->on_secs || !s->rb_size_m ||
	    !s->rb_peak_m || !s->map_entries || !s->map_max)
		return;
	process(s);
	ks_gauge_set(ks_metric_get(s->rb_size_m, NULL), s->rb_size);
	ks_selfstats_sample(s);
	ks_gauge_set(ks_metric_get(s->rb_peak_m, NULL), s->rb_peak);
	s->rb_peak = 0;
	if (c->core.o.obj) {
		programs(s, "core", c->core.o.obj);
		maps(s, "core", c->core.o.obj, seen, &nseen, 512);
	}
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed || !in->o.obj)
			continue;
		programs(s, in->m->name, in->o.obj);
		maps(s, in->m->name, in->o.obj, seen, &nseen, 512);
	}
	/* the programs' counts are read: the window that ends here is in them; the next
	 * interval is held when its number is a multiple of every */
	s->intervals++;
	if (s->every > 1) {
		if (s->intervals % s->every)
			stats_release(s);
		else
			stats_hold(s);
	}
	ks_counter_set(ks_metric_get(s->on_secs, NULL), stats_held_ns(s));
	ks_gauge_set(ks_metric_get(s->stats_on, NULL), s->stats_fd >= 0 || stats_sysctl());
}
