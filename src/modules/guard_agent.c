// SPDX-License-Identifier: GPL-2.0
/*
 * guard in the agent (guard_agent.h): `ksight run --modules ...,guard`. The alerts are
 * counted per rule, severity and service (guard_alert.c), streamed to the agent's sinks
 * (JSON lines, /api/events, the store); here the counters of lost and rescued records
 * and the summary line, alerts per severity.
 */
#include <errno.h>
#include <string.h>

#include "core/metrics.h"
#include "core/module.h"
#include "modules/guard_agent.h"
#include "modules/guard_rules.h"
#include "sink/record.h"

static const struct ks_metric_desc lost_desc = {
	.name = "ksight_guard_records_lost_total",
	.help = "Security records neither the shared ring nor guard's reserve could take "
		"(each loss raised the guard-records-lost alert)",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc rescued_desc = {
	.name = "ksight_guard_records_rescued_total",
	.help = "Security records that came through guard's reserve (the shared ring was full)",
	.type = KS_METRIC_COUNTER,
};

int guard_agent_init(struct ks_ctx *ctx, struct ks_series **lost, struct ks_series **rescued)
{
	struct ks_metric *l = ks_ctx_metric(ctx, &lost_desc);
	struct ks_metric *r = ks_ctx_metric(ctx, &rescued_desc);

	if (!l || !r)
		return -1;
	*lost = ks_metric_get(l, NULL);
	*rescued = ks_metric_get(r, NULL);
	if (!*lost || !*rescued) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void guard_agent_summary(struct ks_ctx *ctx, struct ks_metric *m_alerts, double secs)
{
	static const char *const sevs[] = { "critical", "high", "medium", "low" };
	uint64_t n[4] = { 0 }, total = 0;
	struct ks_rec r;

	for (const struct ks_series *s = ks_series_first(m_alerts); s; s = ks_series_next(s)) {
		uint64_t d = s->v.u - s->prev.u;

		total += d;
		for (int i = 0; i < 4 && !s->overflow; i++)
			if (s->label[1] && !strcmp(s->label[1], sevs[i]))
				n[i] += d;
	}
	ks_rec_summary(&r, "guard");
	ks_rec_uint(&r, "alerts", "alerts", 0, total);
	for (int i = 0; i < 4; i++)
		ks_rec_uint(&r, sevs[i], sevs[i], 0, n[i]);
	(void)secs;	/* alerts are few: counts, not rates */
	ks_emit(ctx, &r);
}
