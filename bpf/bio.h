/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bio module: `ksight biotop` (disk I/O per process and disk, summed in the kernel) and
 * `ksight biosnoop` (one record per request), both naming the task that queued the I/O.
 */
#ifndef KSIGHT_BIO_H
#define KSIGHT_BIO_H

#include "common.h"

#define BIO_EV_REQ KS_EV(KS_MOD_bio, 0)	/* biosnoop: one request; loss slot: ring full */
#define BIO_EV_ROWS KS_EV(KS_MOD_bio, 1)	/* aggregated: requests counted; loss slot: a
						 * row the full table could not take */
#define BIO_EV_START KS_EV(KS_MOD_bio, 2)	/* loss slot: in-flight table full */

#define BIO_ROWS 10240
#define BIO_INFLIGHT 16384
#define BIO_OWNERS 16384
#define BIO_SLOTS 32		/* log2 buckets of a request's latency in us (a power of 2: the
				 * index is masked for the verifier) */

/* Whose a request is (bio_req.how). */
#define BIO_BY_QUEUER 0		/* the task that submitted its bio (block_bio_queue) */
#define BIO_BY_ISSUER 1		/* none seen: the task running at insert or issue */

/* biotop's row: per process (or thread, -L, or cgroup, --per-cgroup), disk and op. */
struct bio_key {
	__u32 pid;		/* thread group id; 0 with --per-cgroup */
	__u32 tid;		/* -L, else 0 */
	__u64 cgroup;		/* --per-cgroup: the cgroup v2 id, else 0 */
	__u32 dev;		/* kernel dev_t (major << 20 | minor) */
	__u32 op;		/* BIOLAT_OP_* (biolat.h) */
};

struct bio_val {
	__u64 ops;		/* requests completed */
	__u64 bytes;		/* their size at issue */
	__u64 svc_ns;		/* total issue to completion */
	__u64 queue_ns;		/* total insert to issue (0 for requests issued directly) */
	__u64 cgroup;		/* cgroup v2 id of the task that made the row */
	char comm[TASK_COMM_LEN];	/* the task that made the row */
	__u64 slots[BIO_SLOTS];	/* log2(queue + service time, us): the per-service p99 of
				 * the agent's timeline (docs/store.md) */
};

/* biosnoop: one completed request. The header's task is its owner (KS_HDR_F_OWNER). */
struct bio_req {
	struct ks_hdr hdr;
	__u64 sector;		/* first sector (512 bytes) on the disk */
	__u64 queue_ns;		/* insert to issue; 0: issued without waiting in a queue */
	__u64 svc_ns;		/* issue to completion */
	__u32 dev;		/* kernel dev_t */
	__u32 flags;		/* BIOLAT_OP_* | BIOLAT_F_* */
	__u32 bytes;		/* size at issue */
	__s32 error;		/* the completion's status: 0, or a blk_status_t */
	__u32 how;		/* BIO_BY_* */
	__u32 __pad;
};

#endif
