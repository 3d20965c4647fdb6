/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loss accounting. The kernel counts, per CPU and nesting level (a stream), every record
 * it tried to stream (seq) and, per type, every record it could not reserve or aggregation
 * update it could not make (lost); records that found no free level consumed no sequence
 * number and are counted apart (unleveled). User space counts what it decoded per type and
 * watches each stream's sequence for gaps while running. At the end, per type:
 * produced = delivered + lost, exactly, and the sequence totals must agree with the
 * streamed types' counts.
 */
#ifndef KSIGHT_LOSS_H
#define KSIGHT_LOSS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

struct ks_loss_cpu {
	uint64_t next;		/* next expected seq */
	uint64_t seen;		/* records decoded from this stream */
	uint64_t gaps;		/* seqs skipped so far (live estimate of losses) */
};

struct ks_loss {
	uint64_t delivered[KS_EV_MAX];	/* streamed records decoded */
	uint64_t aggregated[KS_EV_MAX];	/* events the kernel counted in maps */
	uint64_t lost[KS_EV_MAX];	/* from the kernel, summed over CPUs */
	bool agg_type[KS_EV_MAX];	/* the type is an aggregation slot, not a stream */
	uint64_t seq_total;		/* from the kernel: records attempted, all streams */
	uint64_t unleveled;		/* from the kernel: records that found no level */
	/* from the kernel: runs of ksight's programs it skipped because that program was
	 * already running on the CPU (bpf_prog_info.recursion_misses, 5.12 on): whatever
	 * they would have seen is in no count */
	uint64_t missed_runs;
	/* from the kernel: of those, the runs a backup program made in the skipped program's
	 * place (bpf/tcp_backup.bpf.h): their events are not lost */
	uint64_t backup_runs;
	unsigned int ncpu;
	struct ks_loss_cpu *cpu;	/* [ncpu * KS_LEVELS]: one per (cpu, level) stream */
};

/* Returns 0 or -ENOMEM. */
int ks_loss_init(struct ks_loss *l, unsigned int ncpu);
void ks_loss_free(struct ks_loss *l);

/* A decoded record of stream (@cpu, @level). Out-of-order sequence numbers reduce the gap
 * count instead of adding to it. */
static inline void ks_loss_record(struct ks_loss *l, uint32_t cpu, uint32_t level, uint64_t seq,
				  uint16_t type)
{
	struct ks_loss_cpu *c;

	l->delivered[type & (KS_EV_MAX - 1)]++;
	if (cpu >= l->ncpu || level >= KS_LEVELS)
		return;
	c = &l->cpu[cpu * KS_LEVELS + level];
	c->seen++;
	if (seq >= c->next) {
		c->gaps += seq - c->next;
		c->next = seq + 1;
	} else if (c->gaps) {
		c->gaps--;
	}
}

/* Take the kernel's per-CPU counters, flattened: @seq[ncpu][KS_LEVELS], @unleveled[ncpu],
 * @lost[ncpu][KS_EV_MAX]. */
void ks_loss_kernel(struct ks_loss *l, const uint64_t *seq, const uint64_t *unleveled,
		    const uint64_t *lost);

struct ks_loss_totals {
	uint64_t events;	/* delivered + aggregated */
	uint64_t lost;
	uint64_t streamed;	/* delivered */
	uint64_t streamed_lost;	/* lost of stream types */
	bool consistent;	/* seq_total + unleveled == streamed + streamed_lost */
};

void ks_loss_totals(const struct ks_loss *l, struct ks_loss_totals *t);

/* Sum of live sequence gaps over streams. */
uint64_t ks_loss_gaps(const struct ks_loss *l);

#endif
