// SPDX-License-Identifier: GPL-2.0
#include "core/loss.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ks_loss_init(struct ks_loss *l, unsigned int ncpu)
{
	memset(l, 0, sizeof(*l));
	l->cpu = calloc(ncpu ? ncpu : 1, sizeof(*l->cpu));
	if (!l->cpu)
		return -ENOMEM;
	l->ncpu = ncpu;
	return 0;
}

void ks_loss_free(struct ks_loss *l)
{
	free(l->cpu);
	l->cpu = NULL;
}

void ks_loss_kernel(struct ks_loss *l, const uint64_t *seq, const uint64_t *lost)
{
	l->seq_total = 0;
	memset(l->lost, 0, sizeof(l->lost));
	for (unsigned int c = 0; c < l->ncpu; c++) {
		l->seq_total += seq[c];
		for (int t = 0; t < KS_EV_MAX; t++)
			l->lost[t] += lost[(size_t)c * KS_EV_MAX + t];
	}
}

void ks_loss_totals(const struct ks_loss *l, struct ks_loss_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < KS_EV_MAX; i++) {
		t->streamed += l->delivered[i];
		t->events += l->delivered[i] + l->aggregated[i];
		t->lost += l->lost[i];
		if (!l->agg_type[i])
			t->streamed_lost += l->lost[i];
	}
	t->consistent = l->seq_total == t->streamed + t->streamed_lost;
}

uint64_t ks_loss_gaps(const struct ks_loss *l)
{
	uint64_t g = 0;

	for (unsigned int c = 0; c < l->ncpu; c++)
		g += l->cpu[c].gaps;
	return g;
}
