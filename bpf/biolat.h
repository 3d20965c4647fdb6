/* SPDX-License-Identifier: GPL-2.0 */
/* biolat module: block I/O latency histograms, aggregated in the kernel. */
#ifndef KSIGHT_BIOLAT_H
#define KSIGHT_BIOLAT_H

#include "common.h"

#define BIOLAT_EV_START KS_EV(KS_MOD_biolat, 0)	/* loss slot: start table full */
#define BIOLAT_EV_HIST KS_EV(KS_MOD_biolat, 1)	/* loss slot: histogram table full */

#define BIOLAT_SLOTS 32
#define BIOLAT_HISTS 1024
#define BIOLAT_MARKS 16384	/* requests made, not yet issued (LRU) */

/* Request flags, normalised so every hook family produces the same key. */
#define BIOLAT_OP_MASK 0x7
#define BIOLAT_OP_READ 0
#define BIOLAT_OP_WRITE 1
#define BIOLAT_OP_FLUSH 2
#define BIOLAT_OP_DISCARD 3
#define BIOLAT_OP_OTHER 4
#define BIOLAT_F_SYNC 0x10
#define BIOLAT_F_META 0x20
#define BIOLAT_F_FUA 0x40
#define BIOLAT_F_AHEAD 0x80
#define BIOLAT_F_PREFLUSH 0x100

struct biolat_key {
	__u32 dev;		/* kernel dev_t (major << 20 | minor) with -D, else 0 */
	__u32 flags;		/* BIOLAT_OP_* | BIOLAT_F_* with -F, else 0 */
};

struct biolat_hist {
	__u64 slots[BIOLAT_SLOTS];	/* log2 buckets of latency in us (ms with -m) */
	__u64 count;
	__u64 sum;			/* total latency, ns */
};

/* What the start table remembers of an in-flight request. */
struct biolat_start {
	__u64 ts;		/* ns */
	__u32 dev;
	__u32 flags;
};

#endif
