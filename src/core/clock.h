/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). The offset to wall time
 * is measured once at start, so converting an event costs an addition.
 */
#ifndef KSIGHT_CLOCK_H
#define KSIGHT_CLOCK_H

#include <stdint.h>

#include "sink/outbuf.h"

struct ks_clock {
	int64_t mono_to_real;	/* add to a monotonic time to get ns since the epoch */
	int64_t cached_sec;	/* second whose text prefix is cached below */
	char prefix[24];	/* "YYYY-MM-DDTHH:MM:SS" of cached_sec, UTC */
	int64_t cached_hms_sec;
	char hms[12];		/* "HH:MM:SS" local time of cached_hms_sec */
};

void ks_clock_init(struct ks_clock *c);
uint64_t ks_clock_mono_now(void);
static inline int64_t ks_clock_real(const struct ks_clock *c, uint64_t mono)
{
	return (int64_t)mono + c->mono_to_real;
}

/* Append the RFC 3339 UTC time with nanoseconds of wall time @real_ns, e.g.
 * 2026-11-23T12:42:31.123456789Z. */
void ks_clock_rfc3339(struct ks_clock *c, struct ks_buf *out, int64_t real_ns);

/* Append local "HH:MM:SS" of @real_ns (the -T column). */
void ks_clock_hms(struct ks_clock *c, struct ks_buf *out, int64_t real_ns);

#endif
