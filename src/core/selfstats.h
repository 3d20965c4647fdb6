/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What observing costs and how full ksight's own buffers are, as metrics of the agent's
 * registry (selfstats.c): each loaded program's runs and run time (the kernel's BPF
 * statistics, bpf_prog_info run_cnt/run_time_ns), the ring buffer's size and the most it
 * held at a reader wake-up in the interval, each hash map's entries against its capacity,
 * and the agent process's own CPU time and resident memory.
 */
#ifndef KSIGHT_SELFSTATS_H
#define KSIGHT_SELFSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ks_ctx;
struct ks_metric_desc;

/* Each program's runs and run time (bpf_prog_info), labels module and program: the
 * agent's own programs' and the users' (userbpf.c), one pair of metrics for both. */
extern const struct ks_metric_desc ks_prog_runs_desc, ks_prog_run_time_desc;

struct ks_selfstats {
	bool started;			/* ks_selfstats_init ran */
	int stats_fd;			/* bpf_enable_stats' fd while held, else -1 */
	uint32_t every;			/* held one interval in this many (0: never) */
	uint64_t intervals;		/* collected so far */
	uint64_t on_since;		/* monotonic ns the fd was opened at */
	uint64_t on_ns;			/* time it was held, closed windows */
	/* the ring buffer's consumer and producer pages, mapped read-only: their positions
	 * say how much waits, without libbpf (whose 1.1 has no call for it) */
	void *rb_pages;
	size_t rb_len;
	uint64_t rb_size;		/* data bytes */
	uint64_t rb_peak;		/* most bytes waiting at a wake-up since the last mark */
	struct ks_metric *runs, *run_time, *missed, *stats_on, *on_secs, *rb_size_m, *rb_peak_m;
	struct ks_metric *map_entries, *map_max;
	/* the agent process: getrusage, /proc/self/statm, monotonic time since init */
	struct ks_metric *cpu, *rss, *uptime;
	uint64_t start_ns;
};

/* How many bytes wait in the ring buffer now, 0 when it is not mapped. */
static inline uint64_t ks_selfstats_rb_used(const struct ks_selfstats *s)
{
	const volatile unsigned long *cons, *prod;

	if (!s->rb_pages)
		return 0;
	cons = s->rb_pages;
	prod = (const volatile unsigned long *)((const char *)s->rb_pages + s->rb_len / 2);
	return *prod - *cons;
}

/* The reader woke (before it consumes): keep the interval's peak. */
static inline void ks_selfstats_sample(struct ks_selfstats *s)
{
	uint64_t used = ks_selfstats_rb_used(s);

	if (used > s->rb_peak)
		s->rb_peak = used;
}

/* Register the metrics, map the ring buffer's positions and, if the agent was asked
 * (--bpf-stats, --bpf-stats-every, --bpf, --metrics), turn the kernel's BPF run-time
 * statistics on: for good (every 1), or for the first interval and then one in `every`
 * (ks_selfstats_collect switches them), since they cost every BPF program of the machine
 * two clock reads per run. What fails is said on stderr in one line and left out; the
 * agent runs on. */
void ks_selfstats_init(struct ks_ctx *c, struct ks_selfstats *s);

/* Each interval (and at the end): read the programs, maps and ring buffer into the
 * registry; the ring buffer's peak restarts; sampled statistics are switched on or off
 * for the next interval. */
void ks_selfstats_collect(struct ks_ctx *c, struct ks_selfstats *s);

void ks_selfstats_free(struct ks_selfstats *s);

#endif
