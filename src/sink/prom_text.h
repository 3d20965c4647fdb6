/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The registry (core/metrics.h) in Prometheus' text exposition format, version 0.0.4:
 * # HELP and # TYPE per metric, then one line per series; histograms as cumulative
 * _bucket{le=...} lines, _sum and _count. Pure: the HTTP sink (prom.c) and the tests call it.
 *
 * - Label values: UTF-8 as it is, with the format's three escapes (\\ \" \n). The format
 *   has no escape for bytes that are not UTF-8 (a comm is any 15 bytes): each such byte
 *   becomes U+FFFD, so the page always parses; the JSON outputs keep the exact bytes.
 * - A metric's overflow series (label sets past its budget, retired idle series) has its
 *   labels empty and ksight_overflow="true": never mistaken for a real label value.
 * - Histogram buckets are the registry's log2 slots: slot i holds whole observations
 *   below 2^(i+1) observed units, so its bound is le = (2^(i+1) - 1) x the metric's scale
 *   (base units: seconds, bytes; le is inclusive: 4096 bytes are counted from le="8191"). Buckets are listed up to the series' highest non-empty slot (they
 *   only grow, the counts being cumulative), then +Inf.
 * - A metric with no series yet is left out (no HELP/TYPE without a sample).
 */
#ifndef KSIGHT_PROM_TEXT_H
#define KSIGHT_PROM_TEXT_H

#include "core/metrics.h"
#include "sink/outbuf.h"

#define KS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append every metric of @r to @out. */
void ks_prom_text(struct ks_buf *out, const struct ks_metrics *r);

/* ksight run --host-label: a host="..." label first on every series (and OTLP's
 * host.name); NULL: none. Set before the sinks start. */
extern const char *ks_host_label;

/* Append @s as a label value's inside (no quotes), escaped as above. */
void ks_prom_label_value(struct ks_buf *out, const char *s);

#endif
