/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics registry: named counters, gauges and histograms (log2 or linear buckets)
 * with labels, in base units (seconds, bytes), cumulative from the start (never reset),
 * named the Prometheus way (ksight_ prefix, counters end in _total, histograms in their
 * unit). Modules update it as records arrive (or from the kernel's maps at each
 * interval); sinks read it (ks_metrics_first & co.); the agent's summaries are its
 * per-interval deltas.
 *
 * Cardinality is bounded: each metric keeps at most `budget` label sets. A label set that
 * does not fit is counted in the metric's overflow series (ks_series.overflow), and every
 * such refusal in ksight_metric_budget_hits_total{metric="<name>"}. A metric may retire
 * series idle for `idle` intervals: their counts move into the overflow series, so the
 * sum over a metric's series stays its exact cumulative total.
 *
 * Cheap on the per-record path: a module looks up a series once and keeps the handle
 * (unlabelled series, or label sets it knows in advance); updates are a few inline
 * instructions. A lookup by label hashes the values, once per record at most. Handles of
 * a metric with `idle` set must not be kept across intervals. Single-threaded: the
 * reader's thread updates and reads; a sink serving another thread copies under its own
 * lock (sink.h, ops->metrics).
 */
#ifndef KSIGHT_METRICS_H
#define KSIGHT_METRICS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KS_LABELS_MAX 3
#define KS_HIST_SLOTS 64
#define KS_BUDGET_DEFAULT 64

enum ks_metric_type {
	KS_METRIC_COUNTER,
	KS_METRIC_GAUGE,
	KS_METRIC_HIST,
};

/*
 * A histogram's buckets, slot by slot (observed units, integers):
 *   KS_HIST_LOG2 (the zero value): slot 0 holds 0 and 1, slot i [2^i, 2^(i+1)); its bound
 *     2^(i+1) - 1, the highest it holds (inclusive as Prometheus' le: a value of exactly
 *     2^(i+1) is the next slot's); 64 slots, the last the +Inf bucket.
 *   KS_HIST_LINEAR: slot 0 holds v <= min, slot i (1..count) min+(i-1)*step < v <=
 *     min+i*step (its bound, inclusive as Prometheus' le), slot count+1 v > the last bound
 *     (the +Inf bucket); count+2 <= KS_HIST_SLOTS.
 * ks_hist_bound() is the one place a bucket's bound is computed.
 */
enum ks_hist_layout {
	KS_HIST_LOG2,
	KS_HIST_LINEAR,
};

struct ks_hist_buckets {
	enum ks_hist_layout layout;
	uint32_t count;		/* linear: finite buckets after the first (v <= min) */
	int64_t min;		/* linear: the first bucket's bound */
	uint64_t step;		/* linear: the width of the others, > 0 */
};

#define KS_HIST_LINEAR_MAX (KS_HIST_SLOTS - 2)	/* linear: count at most */

/* What a metric is; static in the module that owns it. */
struct ks_metric_desc {
	const char *name;	/* ksight_<module>_<what>[_<unit>][_total] */
	const char *help;	/* one line, for Prometheus' # HELP */
	enum ks_metric_type type;
	const char *labels[KS_LABELS_MAX + 1];	/* label names, NULL-ended */
	uint32_t budget;	/* label sets kept; 0: KS_BUDGET_DEFAULT */
	uint32_t idle;		/* counters, histograms: retire a series unchanged for this
				 * many intervals (0: never) */
	const char *unit;	/* histograms: "seconds" or "bytes" (NULL with scale 1: a count,
				 * ksight run --bpf), the name's suffix (before
				 * _total for a counter with a scale) */
	double scale;		/* histograms: base units per observed unit (1e-9: ns);
				 * counters: 0, or base units per count kept (a run time
				 * counted in ns, shown in seconds) */
	struct ks_hist_buckets buckets;	/* histograms: zero = log2 */
};

/* A histogram's values: buckets of observed units (struct ks_hist_buckets says which),
 * the count, and the sum in observed units (ks_hist_sum: base units), so that the
 * per-record path does no multiplication. */
struct ks_hist_vals {
	__u64 slots[KS_HIST_SLOTS];	/* the BPF side's and analyze/hist.h's type */
	__u64 count;
	double sum;
};

struct ks_metric;

struct ks_series {
	struct ks_metric *m;
	struct ks_series *next;		/* the metric's series, in creation order */
	struct ks_series *chain;	/* hash chain */
	uint32_t hash;
	uint32_t idle;			/* intervals unchanged */
	bool overflow;			/* the series of label sets that did not fit */
	union {
		uint64_t u;		/* counter */
		double d;		/* gauge */
	} v, prev;			/* now, and at the last interval mark */
	struct ks_hist_vals *h, *hprev;	/* histogram: now, at the last mark */
	char *label[KS_LABELS_MAX];	/* values; NULL in the overflow series */
};

struct ks_metric {
	const struct ks_metric_desc *d;
	struct ks_metric *next;		/* registration order */
	struct ks_series *first, *last;
	struct ks_series overflow;	/* listed (ks_series_next) once used */
	bool overflow_used;
	unsigned int nlabels;
	uint32_t nseries, budget;
	struct ks_series **buckets;
	uint32_t nbuckets;
	uint32_t gen;			/* bumped when a series retires (caches check it) */
	struct ks_series *hits;		/* its series of ksight_metric_budget_hits_total */
};

struct ks_metrics;

/* An empty registry holding only ksight_metric_budget_hits_total. NULL with errno set. */
struct ks_metrics *ks_metrics__new(void);
void ks_metrics__free(struct ks_metrics *r);

/*
 * Register @d (kept by pointer: static storage). Registering a name again returns the
 * same metric when the type and labels agree. Returns NULL with errno: EINVAL for a name,
 * label or unit that breaks the rules above, EEXIST for a clash, ENOMEM.
 */
struct ks_metric *ks_metrics__register(struct ks_metrics *r, const struct ks_metric_desc *d);

/* The metric named @name, or NULL. */
struct ks_metric *ks_metrics__find(const struct ks_metrics *r, const char *name);

/*
 * The series of a label set: @v[i] (@len[i] bytes, cut at a NUL) for each of the metric's
 * labels; @v NULL for a metric without labels. Created on first use. Never NULL: past
 * the budget (or out of memory) the overflow series, and the hit is counted.
 */
struct ks_series *ks_metric_getn(struct ks_metric *m, const char *const *v, const size_t *len);

/* One label given as a NUL-terminated string (or NULL: an unlabelled metric). */
struct ks_series *ks_metric_get(struct ks_metric *m, const char *v);

#define KS_COMM_LEN 16

/*
 * A one-entry cache for a metric labelled by process name, fed by a stream that mostly
 * repeats one task (a process's reads, opens): while pid and comm repeat, no hashing.
 * Zero-initialise it; it stays valid across retirements (it checks m->gen).
 */
struct ks_comm_cache {
	uint32_t pid, gen;
	char comm[KS_COMM_LEN];
	struct ks_series *s;
};

/* The slow path of ks_metric_comm: look up and remember. */
struct ks_series *ks_metric_comm_miss(struct ks_metric *m, struct ks_comm_cache *c, uint32_t pid,
				      const char *comm);

/* The series of @comm (KS_COMM_LEN bytes, as in a record header) in a metric whose one
 * label is a process name. Never NULL, as ks_metric_getn. */
static inline struct ks_series *ks_metric_comm(struct ks_metric *m, struct ks_comm_cache *c,
					       uint32_t pid, const char *comm)
{
	if (c->s && c->pid == pid && c->gen == m->gen && !memcmp(c->comm, comm, KS_COMM_LEN))
		return c->s;
	return ks_metric_comm_miss(m, c, pid, comm);
}

static inline void ks_counter_add(struct ks_series *s, uint64_t n)
{
	s->v.u += n;
}

/* Mirror a count kept elsewhere (the kernel's), which only grows. */
static inline void ks_counter_set(struct ks_series *s, uint64_t total)
{
	if (total > s->v.u)
		s->v.u = total;
}

static inline void ks_gauge_set(struct ks_series *s, double v)
{
	s->v.d = v;
}

/* Log2 histograms only (a linear one is fed its slots by ks_hist_add). */
static inline void ks_hist_observe(struct ks_series *s, uint64_t v)
{
	s->h->slots[63 - __builtin_clzll(v | 1)]++;
	s->h->count++;
	s->h->sum += (double)v;
}

/* Add a histogram aggregated elsewhere: @slots[0..n) in observed units, its count and
 * its sum in observed units. */
void ks_hist_add(struct ks_series *s, const __u64 *slots, unsigned int n, uint64_t count,
		 double sum);

/* @out += @a - @b, slot by slot (a delta, or a sum of deltas). */
static inline void ks_hist_accumulate(struct ks_hist_vals *out, const struct ks_hist_vals *a,
				      const struct ks_hist_vals *b)
{
	for (int i = 0; i < KS_HIST_SLOTS; i++)
		out->slots[i] += a->slots[i] - b->slots[i];
	out->count += a->count - b->count;
	out->sum += a->sum - b->sum;
}

/* Reading. Deltas are since the last ks_metrics__mark (the agent's interval). */
static inline uint64_t ks_counter_delta(const struct ks_series *s)
{
	return s->v.u - s->prev.u;
}

/* The slots a histogram metric uses: 64 for log2, count + 2 for linear. The last is the
 * +Inf bucket. */
unsigned int ks_hist_nslots(const struct ks_metric_desc *d);

/* The upper bound of slot @i in base units (scale applied, rounded once, so that 100 ns
 * in seconds is the double nearest 1e-07), or INFINITY for the last slot and past it. */
double ks_hist_bound(const struct ks_metric_desc *d, unsigned int i);

/* How many finite bounds a sink writes for @h (a series' values): all of a linear
 * layout's (count + 1: every series has the same buckets), a log2 one's up to its last
 * used slot (at most 63). Slots from there on add up to the +Inf bucket. */
unsigned int ks_hist_shown(const struct ks_metric_desc *d, const struct ks_hist_vals *h);

/* Sum of a histogram's observations in base units (rounded once, as ks_hist_bound). */
double ks_hist_sum(const struct ks_series *s, const struct ks_hist_vals *h);

/* @out = the series' histogram now minus at the last mark (sum in observed units). */
void ks_hist_delta(const struct ks_series *s, struct ks_hist_vals *out);

/* Counters: the sum of every series' delta. */
uint64_t ks_metric_delta(const struct ks_metric *m);

/* Histograms: the sum of every series' delta into @out. */
void ks_metric_hist_delta(const struct ks_metric *m, struct ks_hist_vals *out);

struct ks_metric_top {
	const struct ks_series *s;	/* s->overflow: "everything else" */
	uint64_t delta;
};

/* Counters: the @k series that grew most since the mark (> 0), largest first, ties by
 * label. Returns how many. */
size_t ks_metric_top(const struct ks_metric *m, size_t k, struct ks_metric_top *out);

/* End of an interval: deltas restart from here; idle series retire. */
void ks_metrics__mark(struct ks_metrics *r);

/* Iteration for sinks: metrics in registration order, a metric's series in creation
 * order with the overflow series last (once used). */
const struct ks_metric *ks_metrics_first(const struct ks_metrics *r);
static inline const struct ks_metric *ks_metric_next(const struct ks_metric *m)
{
	return m->next;
}

const struct ks_series *ks_series_first(const struct ks_metric *m);
const struct ks_series *ks_series_next(const struct ks_series *s);

#endif
