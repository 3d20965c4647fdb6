/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 histograms as the BPF side fills them: slot 0 holds values 0 and 1, slot i >= 1
 * holds [2^i, 2^(i+1)). Percentiles are interpolated linearly inside the bucket that
 * holds the rank, so they are estimates within a factor of two, never an average.
 */
#ifndef KSIGHT_HIST_H
#define KSIGHT_HIST_H

#include <linux/types.h>
#include <stdint.h>

#include "sink/outbuf.h"

/* The slot a value falls in (same as the BPF side's log2_slot). */
unsigned int ks_log2_slot(uint64_t v);

/* Smallest and largest integer value of slot @i. */
void ks_hist_bounds(unsigned int i, uint64_t *lo, uint64_t *hi);

uint64_t ks_hist_total(const __u64 *slots, unsigned int n);

/*
 * The @p-th percentile (0 < p <= 100) in the histogram's unit, or -1 if it is empty.
 * The rank p/100 * total is located in its bucket and interpolated between the bucket's
 * bounds (lo, hi + 1).
 */
double ks_hist_percentile(const __u64 *slots, unsigned int n, double p);

/* Print biolatency-style rows ("lo -> hi : count |****|"), zero tails trimmed. */
void ks_hist_print(struct ks_buf *out, const __u64 *slots, unsigned int n, const char *unit);

/* Format a duration given in @unit_ns nanoseconds units as "512us", "2.1ms", "3.0s". */
void ks_fmt_duration(struct ks_buf *out, double value, double unit_ns);

#endif
