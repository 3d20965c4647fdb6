/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the block modules (biolat, bio) read of a struct request or of the classic block
 * tracepoints' records: the disk, the operation and its flags, normalised so every hook
 * family gives the same values (BIOLAT_OP_* | BIOLAT_F_*, biolat.h), and the key of an
 * in-flight request.
 */
#ifndef KSIGHT_BLKRQ_BPF_H
#define KSIGHT_BLKRQ_BPF_H

#include "biolat.h"

/* An in-flight request: tp_btf and raw_tp key it by its struct request pointer; the
 * classic tracepoints carry no pointer, so there it is (dev, sector), the pair the
 * request's completion reports too. */
struct blkrq_key {
	__u64 a;	/* request pointer, or dev for classic tracepoints */
	__u64 b;	/* 0, or sector */
};

/* The pre-5.16 layout, where a request named its disk directly. */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* The kernel dev_t (major << 20 | minor) of @disk, 0 for none. */
static __always_inline __u32 blkrq_disk_dev(struct gendisk *disk)
{
	if (!disk)
		return 0;
	return (BPF_CORE_READ(disk, major) << 20) | BPF_CORE_READ(disk, first_minor);
}

static __always_inline __u32 blkrq_dev(struct request *rq)
{
	if (bpf_core_field_exists(((struct request___old *)rq)->rq_disk))
		return blkrq_disk_dev(BPF_CORE_READ((struct request___old *)rq, rq_disk));
	return blkrq_disk_dev(BPF_CORE_READ(rq, q, disk));
}

static __always_inline __u32 blkrq_flags(struct request *rq)
{
	__u32 cmd = BPF_CORE_READ(rq, cmd_flags), f;

	switch (cmd & 0xff) {	/* REQ_OP_MASK: the low 8 bits since 4.10 */
	case REQ_OP_READ:
		f = BIOLAT_OP_READ;
		break;
	case REQ_OP_WRITE:
		f = BIOLAT_OP_WRITE;
		break;
	case REQ_OP_FLUSH:
		f = BIOLAT_OP_FLUSH;
		break;
	case REQ_OP_DISCARD:
		f = BIOLAT_OP_DISCARD;
		break;
	default:
		f = BIOLAT_OP_OTHER;
	}
	if (cmd & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_SYNC)))
		f |= BIOLAT_F_SYNC;
	if (cmd & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_META)))
		f |= BIOLAT_F_META;
	if (cmd & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_FUA)))
		f |= BIOLAT_F_FUA;
	if (cmd & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_RAHEAD)))
		f |= BIOLAT_F_AHEAD;
	if (cmd & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH)))
		f |= BIOLAT_F_PREFLUSH;
	return f;
}

/* The classic tracepoints' rwbs text ("WS", "FWFS", "RA", ...) into the same flags. */
static __always_inline __u32 blkrq_rwbs_flags(const char *rwbs)
{
	__u32 f = BIOLAT_OP_OTHER, i;
	bool op_seen = false;

	for (i = 0; i < 8; i++) {
		char ch = rwbs[i];

		if (!ch)
			break;
		if (!op_seen) {
			op_seen = true;
			if (ch == 'F' && i == 0 && rwbs[1]) {	/* leading F: preflush */
				f |= BIOLAT_F_PREFLUSH;
				op_seen = false;
				continue;
			}
			f &= ~BIOLAT_OP_MASK;
			f |= ch == 'R' ? BIOLAT_OP_READ : ch == 'W' ? BIOLAT_OP_WRITE :
			     ch == 'F' ? BIOLAT_OP_FLUSH : ch == 'D' ? BIOLAT_OP_DISCARD :
								  BIOLAT_OP_OTHER;
			continue;
		}
		if (ch == 'F')
			f |= BIOLAT_F_FUA;
		else if (ch == 'A')
			f |= BIOLAT_F_AHEAD;
		else if (ch == 'S')
			f |= BIOLAT_F_SYNC;
		else if (ch == 'M')
			f |= BIOLAT_F_META;
	}
	return f;
}

/* The start of the classic block_rq_* and block_bio_* records, and of block_io_start's
 * (6.5+), the same since 4.x: trace_entry, dev_t, sector_t. */
struct blkrq_tp_head {
	__u64 common;
	__u32 dev;
	__u32 __pad;
	__u64 sector;
};

/* The classic block_rq_complete record starts the same from 4.x (block_rq_complete) to
 * 6.x (block_rq_completion): trace_entry, dev_t, sector_t, nr_sector, error. Read at these
 * fixed offsets: the verifier refuses loads through a ctx pointer moved by CO-RE. */
struct blkrq_tp_done {
	__u64 common;
	__u32 dev;
	__u32 __pad;
	__u64 sector;
	__u32 nr_sector;
	__s32 error;
};

#endif
