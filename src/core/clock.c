// SPDX-License-Identifier: GPL-2.0
#include "core/clock.h"

#include <string.h>
#include <time.h>

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

uint64_t ks_clock_mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_ns(&t);
}

void ks_clock_init(struct ks_clock *c)
{
	int64_t best = INT64_MAX;

	memset(c, 0, sizeof(*c));
	c->cached_sec = c->cached_hms_sec = INT64_MIN;
	/* the sample with the shortest gap between its two monotonic reads is the closest */
	for (int i = 0; i < 5; i++) {
		struct timespec m1, r, m2;
		int64_t gap;

		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		gap = ts_ns(&m2) - ts_ns(&m1);
		if (gap < best) {
			best = gap;
			c->mono_to_real = ts_ns(&r) - (ts_ns(&m1) + gap / 2);
		}
	}
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

void ks_clock_rfc3339(struct ks_clock *c, struct ks_buf *out, int64_t real_ns)
{
	int64_t sec = floor_div(real_ns, 1000000000);
	int64_t ns = real_ns - sec * 1000000000;
	char frac[12];

	if (sec != c->cached_sec) {
		time_t t = sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(c->prefix, sizeof(c->prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		c->cached_sec = sec;
	}
	ks_buf_str(out, c->prefix);
	frac[0] = '.';
	for (int i = 9; i >= 1; i--) {
		frac[i] = '0' + ns % 10;
		ns /= 10;
	}
	frac[10] = 'Z';
	ks_buf_put(out, frac, 11);
}

void ks_clock_hms(struct ks_clock *c, struct ks_buf *out, int64_t real_ns)
{
	int64_t sec = floor_div(real_ns, 1000000000);

	if (sec != c->cached_hms_sec) {
		time_t t = sec;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(c->hms, sizeof(c->hms), "%H:%M:%S", &tm);
		c->cached_hms_sec = sec;
	}
	ks_buf_str(out, c->hms);
}
