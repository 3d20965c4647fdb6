// SPDX-License-Identifier: GPL-2.0
/*
 * otlp_render: what one interval's export costs the reader's thread. A registry of
 * SERIES counter series (labelled by a process name) and SERIES/10 histogram series (20
 * slots used each), rendered ROUNDS times as OTLP JSON, OTLP protobuf and, for
 * comparison, Prometheus text. Prints the median time of each and the payload sizes.
 *   otlp_render [SERIES [ROUNDS]]
 * Linked with build/libksight.a by bench/otlp_cost.sh (not in bench/helpers/, whose rule
 * builds without src/ on the include path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/metrics.h"
#include "sink/otlp.h"
#include "sink/prom_text.h"

static const struct ks_metric_desc calls = {
	.name = "ksight_bench_calls_total", .help = "Calls per process",
	.type = KS_METRIC_COUNTER, .labels = { "comm" }, .budget = 1000000,
};
static const struct ks_metric_desc lat = {
	.name = "ksight_bench_latency_seconds", .help = "Latency per process",
	.type = KS_METRIC_HIST, .labels = { "comm" }, .budget = 1000000,
	.unit = "seconds", .scale = 1e-9,
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum { JSON, PB, PROM, N };

int main(int argc, char **argv)
{
	static const char *const name[N] = { "otlp-json", "otlp-protobuf", "prometheus" };
	int series = argc > 1 ? atoi(argv[1]) : 10000, rounds = argc > 2 ? atoi(argv[2]) : 9;
	struct ks_otlp_resource res = { .host_name = "bench", .start_ns = 1, .time_ns = 2 };
	struct ks_metrics *r = ks_metrics__new();
	struct ks_metric *c = ks_metrics__register(r, &calls);
	struct ks_metric *h = ks_metrics__register(r, &lat);
	double *t = calloc(rounds, sizeof(*t));
	struct ks_buf b;
	char comm[16];

	if (!r || !c || !h || !t || ks_buf_init(&b, -1, 1 << 20) || series < 10 || rounds < 1)
		return 2;
	for (int i = 0; i < series; i++) {
		snprintf(comm, sizeof(comm), "proc%06d", i);
		ks_counter_add(ks_metric_get(c, comm), 1000003ULL * i);
		if (i % 10 == 0)
			for (int k = 0; k < 20; k++)
				ks_hist_observe(ks_metric_get(h, comm), 1000ULL << k);
	}
	printf("series: %d counters, %d histograms\n", series, series / 10);
	for (int e = 0; e < N; e++) {
		for (int i = 0; i < rounds; i++) {
			double t0 = now();

			ks_buf_reset(&b);
			if (e == JSON)
				ks_otlp_json(&b, r, &res);
			else if (e == PB)
				ks_otlp_protobuf(&b, r, &res);
			else
				ks_prom_text(&b, r);
			t[i] = now() - t0;
		}
		qsort(t, rounds, sizeof(*t), cmp);
		printf("%-14s median %7.2f ms  (min %.2f, max %.2f, %d rounds)  %9zu bytes\n",
		       name[e], t[rounds / 2] * 1e3, t[0] * 1e3, t[rounds - 1] * 1e3, rounds, b.len);
	}
	ks_buf_free(&b);
	ks_metrics__free(r);
	free(t);
	return 0;
}
