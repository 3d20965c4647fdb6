/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksight run --metrics FILE: declarative metrics (docs/metrics.md). Each entry of the YAML
 * file is a counter or a histogram (log2 or linear buckets) from a tracepoint (or its raw
 * arguments), a uprobe, a USDT probe or a kernel function, keyed by chosen fields (a raw
 * tracepoint's member paths too), with a filter in ksight trace's language. Each
 * runs as its own instance of trace's generic program (bpf/trace.bpf.c), so its cost is
 * its own; each interval its rows go into the agent's registry (with the metric's series
 * budget).
 */
#ifndef KSIGHT_METRICS_FILE_H
#define KSIGHT_METRICS_FILE_H

#include <stddef.h>

struct ks_ctx;
struct ks_ymetrics;

/*
 * Read and check @path whole: YAML, names, probes (against tracefs and the binaries),
 * fields and filters. Returns the set, or NULL with one line in @err, "FILE:LINE:COL:
 * reason" when a place is to blame (the command exits 2; nothing was loaded).
 */
struct ks_ymetrics *ks_ymetrics__open(const char *path, char *err, size_t len);

/* Hand the set to the session: loaded and attached at start, read each interval. */
void ks_ymetrics__attach_to(struct ks_ymetrics *m, struct ks_ctx *ctx);

/* After ks_ctx__free. NULL is fine. */
void ks_ymetrics__free(struct ks_ymetrics *m);

#endif
