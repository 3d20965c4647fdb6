/* SPDX-License-Identifier: GPL-2.0 */
/* guard in the agent (guard_agent.c): its counters beside the alerts', its summary line. */
#ifndef KSIGHT_GUARD_AGENT_H
#define KSIGHT_GUARD_AGENT_H

struct ks_ctx;
struct ks_metric;
struct ks_series;

/* Register ksight_guard_records_lost_total (records neither the shared ring nor guard's
 * reserve could take: each raised the guard-records-lost alert) and
 * ksight_guard_records_rescued_total (records that came through the reserve); their
 * series into @lost and @rescued. Returns 0, or -1 with errno set. */
int guard_agent_init(struct ks_ctx *ctx, struct ks_series **lost, struct ks_series **rescued);

/* The agent's line: the interval's alerts per severity (from @m_alerts' deltas) and the
 * rules that raised most. */
void guard_agent_summary(struct ks_ctx *ctx, struct ks_metric *m_alerts, double secs);

#endif
