/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numbers for people: what the terminal shows for counts, rates and sizes. JSON and the
 * metrics keep exact base values (counts, bytes, seconds); only tables are rounded, to
 * three significant digits once a number is long. Durations: ks_fmt_duration (hist.h).
 */
#ifndef KSIGHT_UNITS_H
#define KSIGHT_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/outbuf.h"

/* A count: exact below 10000, then "12.3k", "456k", "1.23M", ... up to "E". */
void ks_fmt_count(struct ks_buf *out, uint64_t v);

/* Events per second: "0.5/s", "54.3/s", "540/s", "12.3k/s"; "-" if not a number. */
void ks_fmt_rate(struct ks_buf *out, double per_s);

/* Bytes in IEC units: "512 B", "1.00 KiB", "28.8 MiB", "3.10 GiB"; "-" if not a number. */
void ks_fmt_bytes(struct ks_buf *out, double bytes);

/* Bytes per second: ks_fmt_bytes then "/s". */
void ks_fmt_byte_rate(struct ks_buf *out, double per_s);

/* A wall-clock time (ns since the epoch) in local time: "2026-12-05 21:48:07", with
 * ".123" milliseconds when @ms. */
void ks_fmt_time(struct ks_buf *out, int64_t ns, bool ms);

/* A finite double as exact text for programs (Prometheus, OTLP JSON) into @t (32 bytes
 * are enough): a whole number below 1e15 as an integer ("100", not "1e+02"), any other in
 * the fewest digits that read back as the same double ("2e-09", not
 * "2.0000000000000001e-09"), as Prometheus' own clients write them. */
void ks_fmt_exact(char *t, size_t len, double d);

#endif
