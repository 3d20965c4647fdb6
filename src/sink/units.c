// SPDX-License-Identifier: GPL-2.0
#include "sink/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/*
 * @x scaled by @base until it rounds below 1000, with three significant digits and the
 * prefix of its scale. The bound is 999.5, not 1000, so that 999.7k becomes 1.00M
 * rather than "1000k".
 */
static void scaled(struct ks_buf *out, double x, double base, const char *const *prefix,
		   int nprefix, const char *sep)
{
	int i = 0;

	while (x >= 999.5 && i + 1 < nprefix) {
		x /= base;
		i++;
	}
	if (x < 9.995)
		ks_buf_printf(out, "%.2f%s%s", x, sep, prefix[i]);
	else if (x < 99.95)
		ks_buf_printf(out, "%.1f%s%s", x, sep, prefix[i]);
	else
		ks_buf_printf(out, "%.0f%s%s", x, sep, prefix[i]);
}

static const char *const si[] = { "", "k", "M", "G", "T", "P", "E" };
static const char *const iec[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

void ks_fmt_count(struct ks_buf *out, uint64_t v)
{
	if (v < 10000) {
		ks_buf_u64(out, v);
		return;
	}
	scaled(out, (double)v, 1000, si, 7, "");
}

void ks_fmt_rate(struct ks_buf *out, double r)
{
	if (!isfinite(r) || r < 0) {
		ks_buf_ch(out, '-');
		return;
	}
	if (r < 99.95)
		ks_buf_printf(out, "%.1f/s", r);
	else if (r < 9999.5)
		ks_buf_printf(out, "%.0f/s", r);
	else {
		scaled(out, r, 1000, si, 7, "");
		ks_buf_str(out, "/s");
	}
}

void ks_fmt_bytes(struct ks_buf *out, double b)
{
	if (!isfinite(b) || b < 0) {
		ks_buf_ch(out, '-');
		return;
	}
	if (b < 1023.5) {
		ks_buf_printf(out, "%.0f B", b);
		return;
	}
	/* KiB and up: the same three digits, scaled by 1024 */
	b /= 1024;
	scaled(out, b, 1024, iec + 1, 6, " ");
}

void ks_fmt_byte_rate(struct ks_buf *out, double per_s)
{
	ks_fmt_bytes(out, per_s);
	if (isfinite(per_s) && per_s >= 0)
		ks_buf_str(out, "/s");
}

void ks_fmt_exact(char *t, size_t len, double d)
{
	if (fabs(d) < 1e15 && d == (double)(int64_t)d) {
		snprintf(t, len, "%" PRId64, (int64_t)d);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(t, len, "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			return;
	}
}

void ks_fmt_time(struct ks_buf *out, int64_t ns, bool ms)
{
	time_t t = ns / 1000000000;
	struct tm tm;
	char s[32];

	localtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	if (ms)
		ks_buf_printf(out, "%s.%03lld", s, (long long)(ns % 1000000000) / 1000000);
	else
		ks_buf_str(out, s);
}
