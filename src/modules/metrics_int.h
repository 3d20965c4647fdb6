/* SPDX-License-Identifier: GPL-2.0 */
/* The insides of ksight run --metrics (metrics.h): metrics_yaml.c parses and checks the
 * file into struct ym_metric, metrics_run.c runs them. */
#ifndef KSIGHT_METRICS_INT_H
#define KSIGHT_METRICS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/metrics.h"
#include "modules/trace_int.h"

#define YM_MAX 32	/* metrics per file */

struct trace_bpf;

struct ym_metric {
	char name[128], help[256], probe[4608];
	char labels[KS_LABELS_MAX][64];
	char unit[16];
	struct ks_metric_desc d;
	struct trace_probe p;
	struct trace_conf conf;
	size_t keylen;		/* bytes of a key (labels, then the bucket) */
	int nlabels;
	bool hist;
	char missing[512];	/* the kernel lacks what the probe needs: left out, said */
	/* running */
	struct trace_bpf *skel;
	struct bpf_link *link;
	struct ks_metric *m;
	void *prev;		/* the rows seen last: key, then the u64 count, sorted */
	size_t nprev;
	uint64_t events;	/* hits counted in all (per-interval rate in the summary) */
};

struct ks_ymetrics {
	char path[4096];
	struct ym_metric *v;
	int n, ncpu;
	struct ks_metric *runs, *run_time, *drops;
	struct timespec last;
};

/* metrics_yaml.c: parse @text (the file @path) into @ym. Returns 0, or -1 with one line
 * in @err. */
int ym_parse(struct ks_ymetrics *ym, const char *text, size_t n, char *err, size_t len);

#endif
