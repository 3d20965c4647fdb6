// SPDX-License-Identifier: GPL-2.0
#include "analyze/hist.h"

#include <string.h>

unsigned int ks_log2_slot(uint64_t v)
{
	return v < 2 ? 0 : 63 - __builtin_clzll(v);
}

void ks_hist_bounds(unsigned int i, uint64_t *lo, uint64_t *hi)
{
	*lo = i == 0 ? 0 : 1ULL << i;
	*hi = i >= 63 ? UINT64_MAX : (1ULL << (i + 1)) - 1;
}

uint64_t ks_hist_total(const __u64 *slots, unsigned int n)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += slots[i];
	return t;
}

double ks_hist_percentile(const __u64 *slots, unsigned int n, double p)
{
	uint64_t total = ks_hist_total(slots, n), cum = 0;
	double rank;

	if (!total || p <= 0 || p > 100)
		return -1;
	rank = p / 100.0 * (double)total;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t lo, hi;

		if (!slots[i])
			continue;
		if ((double)(cum + slots[i]) >= rank) {
			ks_hist_bounds(i, &lo, &hi);
			return (double)lo + ((double)hi + 1 - (double)lo) * (rank - (double)cum) /
						    (double)slots[i];
		}
		cum += slots[i];
	}
	return -1;	/* not reached: rank <= total */
}

void ks_hist_print(struct ks_buf *out, const __u64 *slots, unsigned int n, const char *unit)
{
	const int width = 40;
	uint64_t max = 0;
	int last = -1;

	for (unsigned int i = 0; i < n; i++) {
		if (slots[i] > max)
			max = slots[i];
		if (slots[i])
			last = i;
	}
	ks_buf_printf(out, "%18s%-10s : count    distribution\n", "", unit);
	for (int i = 0; i <= last; i++) {
		uint64_t lo, hi;
		/* 128 bits: count * width overflows 64 for counts above 2^64 / 40 */
		int stars = max ? (int)((unsigned __int128)slots[i] * width / max) : 0;

		ks_hist_bounds(i, &lo, &hi);
		ks_buf_printf(out, "%14llu -> %-10llu : %-8llu |", (unsigned long long)lo,
			      (unsigned long long)hi, (unsigned long long)slots[i]);
		for (int s = 0; s < width; s++)
			ks_buf_ch(out, s < stars ? '*' : ' ');
		ks_buf_str(out, "|\n");
	}
}

void ks_fmt_duration(struct ks_buf *out, double value, double unit_ns)
{
	double ns = value * unit_ns;

	if (ns < 0)
		ks_buf_str(out, "-");
	else if (ns < 1e3)
		ks_buf_printf(out, "%.0fns", ns);
	else if (ns < 1e6)
		ks_buf_printf(out, ns < 1e4 ? "%.1fus" : "%.0fus", ns / 1e3);
	else if (ns < 1e9)
		ks_buf_printf(out, ns < 1e7 ? "%.1fms" : "%.0fms", ns / 1e6);
	else
		ks_buf_printf(out, "%.1fs", ns / 1e9);
}
