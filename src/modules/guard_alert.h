/* SPDX-License-Identifier: GPL-2.0 */
/* guard's alerts: the record of a rule an event matched (guard_alert.c). */
#ifndef KSIGHT_GUARD_ALERT_H
#define KSIGHT_GUARD_ALERT_H

#include <stddef.h>

struct ks_ctx;
struct ks_metric;
struct guard_rule;
struct guard_view;
struct guard_event;

/* Kernel path @p (up to @n bytes) cleaned into @out ("." and ".." a relative name joined
 * in the kernel keeps); a name that is not a path ("memfd:NAME") as it is. */
void guard_clean_path(const char *p, size_t n, char *out, size_t len);

/* Rule @r matched @v (from record @e): counted in @m_alerts per rule, severity and service, and
 * emitted as an "alert" record when an output streams; @uring_cov says what of io_uring
 * is watched (the coverage fields). */
void guard_alert(struct ks_ctx *ctx, struct ks_metric *m_alerts, int uring_cov,
		 const struct guard_rule *r, const struct guard_view *v, const struct guard_event *e);

#endif
