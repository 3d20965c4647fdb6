// SPDX-License-Identifier: GPL-2.0
#include "core/loss.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ks_loss_init(struct ks_loss *l, unsigned int ncpu)
{
	memset(l, 0, sizeof(*l));
	l->cpu = calloc((size_t)(ncpu ? ncpu : 1) * KS_LEVELS, sizeof(*l->cpu));
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

void ks_loss_kernel(struct ks_loss *l, const uint64_t *seq, const uint64_t *unleveled,
		    const uint64_t *lost)
{
	l->seq_total = 0;
	l->unleveled = 0;
	memset(l->lost, 0, sizeof(l->lost));
	for (unsigned int c = 0; c < l->ncpu; c++) {
		for (int k = 0; k < KS_LEVELS; k++)
			l->seq_total += seq[c * KS_LEVELS + k];
		l->unleveled += unleveled[c];
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
	t->consistent = l->seq_total + l->unleveled == t->streamed + t->streamed_lost;
}

uint64_t ks_loss_gaps(const struct ks_loss *l)
{
	uint64_t g = 0;

	for (unsigned int c = 0; c < l->ncpu * KS_LEVELS; c++)
		g += l->cpu[c].gaps;
	return g;
}
