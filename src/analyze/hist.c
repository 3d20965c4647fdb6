// SPDX-License-Identifier: GPL-2.0
#include "analyze/hist.h"

#include <stdbool.h>
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

/*
 * @ns / (@scale * 10^@dec) with @dec (0 or 1) decimals and @unit, rounded as printf's %.*f
 * would; false when @ns is exactly halfway, where printf rounds the binary value instead.
 */
static bool fixed(struct ks_buf *out, uint64_t ns, uint64_t scale, int dec, const char *unit)
{
	uint64_t q = ns / scale, r = ns % scale;

	if (2 * r == scale && r)
		return false;
	q += 2 * r > scale;
	ks_buf_u64(out, dec ? q / 10 : q);
	if (dec) {
		ks_buf_ch(out, '.');
		ks_buf_ch(out, '0' + q % 10);
	}
	ks_buf_str(out, unit);
	return true;
}

/* Whole nanoseconds (every per-event duration) without printf: it is on the hot path. */
static bool fmt_whole_ns(struct ks_buf *out, double ns)
{
	uint64_t v;

	if (!(ns >= 0 && ns < 9e15) || ns != (double)(uint64_t)ns)
		return false;
	v = ns;
	if (v < 1000)
		return fixed(out, v, 1, 0, "ns");
	if (v < 10000)
		return fixed(out, v, 100, 1, "us");
	if (v < 1000000)
		return fixed(out, v, 1000, 0, "us");
	if (v < 10000000)
		return fixed(out, v, 100000, 1, "ms");
	if (v < 1000000000)
		return fixed(out, v, 1000000, 0, "ms");
	return fixed(out, v, 100000000, 1, "s");
}

void ks_fmt_duration(struct ks_buf *out, double value, double unit_ns)
{
	double ns = value * unit_ns;

	if (fmt_whole_ns(out, ns))
		return;
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
