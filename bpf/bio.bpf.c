// SPDX-License-Identifier: GPL-2.0
/*
 * bio: block requests by the task that queued them. `ksight biotop` sums ops, bytes and
 * times per (process, disk, op) in the kernel (bio_rows); `ksight biosnoop` streams one
 * record per completed request through the shared ring buffer.
 *
 * Who queued a request: a request is completed in an interrupt and often inserted or
 * issued by whoever runs the queue (a kworker, another task flushing its plug, one that
 * dispatches what a scheduler held), so its owner is taken where the submitter is sure to
 * be running, and kept in bio_owners (an LRU) until the request is issued:
 * - 6.5+: block_io_start, fired once per request as it is made from its first bio (and
 *   for a split's later halves, each a request of its own). Keyed like the in-flight
 *   table: the request pointer (tp_btf, raw_tp), (disk, sector) for the classic one.
 * - before: block_bio_queue, per bio, after any partition remap, keyed by (disk, first
 *   sector) until the request that starts at that sector is inserted or issued.
 * User space picks one at start-up (bio_mark_rq: block_io_start). A request with no
 * owner seen (a flush the kernel made, made before ksight started; before 6.5 a split's
 * second half) belongs to the task running at insert or issue (BIO_BY_ISSUER). The
 * filters (-p, -t, --cgroup...) judge the owner.
 *
 * In flight: bio_starts, keyed like biolat's (blkrq.bpf.h). Times: insert to issue is the
 * queue time, issue to completion the service time.
 */
#include "common.bpf.h"
#include "bio.h"
#include "blkrq.bpf.h"

const volatile bool bio_snoop = false;		/* biosnoop: stream, don't sum */
const volatile bool bio_per_thread = false;	/* -L */
const volatile bool bio_per_cgroup = false;	/* --per-cgroup */
const volatile __u32 bio_dev = 0;		/* -d: only this disk, 0 = all */
const volatile bool bio_rq_arg1 = false;	/* block_rq_* have (q, rq): before 5.11 */
const volatile bool bio_bio_arg1 = false;	/* block_bio_queue has (q, bio): before 5.11 */
const volatile bool bio_mark_rq = false;	/* owners from block_io_start, keyed by request */

struct bio_who {
	struct ks_owner o;
	__u32 want;		/* the owner passes the filters */
	__u32 __pad;
};

struct bio_flight {
	struct ks_owner o;
	__u64 gen;		/* the request's start_time_ns: which life of a reused request
				 * this entry is about; 0: not known (classic tracepoints) */
	__u64 ts_insert;	/* 0: not inserted */
	__u64 ts_issue;		/* 0: not issued yet */
	__u64 sector;
	__u32 dev;
	__u32 flags;
	__u32 bytes;
	__u32 how;
};

/* Owners of requests made (or bios queued) and not yet issued; an LRU forgets those of
 * requests merged into others and of bios merged into requests. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIO_OWNERS);
	__type(key, struct blkrq_key);
	__type(value, struct bio_who);
} bio_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIO_INFLIGHT);
	__type(key, struct blkrq_key);
	__type(value, struct bio_flight);
} bio_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIO_ROWS);
	__type(key, struct bio_key);
	__type(value, struct bio_val);
} bio_rows SEC(".maps");

static __always_inline void bio_owner_current(struct ks_owner *o, __u64 pid_tgid)
{
	o->pid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* A request is being made (block_io_start: @a, @b its in-flight key) or a bio entered the
 * block layer (block_bio_queue: @a, @b the disk and sector of the request it will start):
 * remember the submitter. */
static __always_inline int bio_queued(__u32 dev, __u64 a, __u64 b)
{
	struct blkrq_key k = { .a = a, .b = b };
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bio_who w = {};

	if (bio_dev && dev != bio_dev)
		return 0;
	w.want = ks_want(pid_tgid);
	if (w.want)
		bio_owner_current(&w.o, pid_tgid);
	bpf_map_update_elem(&bio_owners, &k, &w, BPF_ANY);	/* an LRU makes room */
	return 0;
}

/*
 * A request was inserted into a queue (@insert) or issued to the driver. @gen tells this
 * life of a request from an earlier one at the same address: a request merged into another
 * ends without a completion, and its entry must not lend its owner to the next request
 * made there. An entry of the same life is the request inserted earlier (now issued), or
 * requeued (inserted again: it waits anew, and keeps its owner).
 */
static __always_inline int bio_start(__u64 a, __u64 b, __u64 gen, __u32 dev, __u64 sector,
				     __u32 bytes, __u32 flags, bool insert)
{
	struct blkrq_key rk = { .a = a, .b = b };
	/* the owner: by the request's own key (block_io_start), else by where it starts; the
	 * same for the classic tracepoints */
	struct blkrq_key ok = { .a = bio_mark_rq ? a : dev, .b = bio_mark_rq ? b : sector };
	__u64 now = bpf_ktime_get_ns(), pid_tgid;
	struct bio_flight f = {}, *cur;
	struct bio_who *w;

	if (bio_dev && dev != bio_dev)
		return 0;
	cur = bpf_map_lookup_elem(&bio_starts, &rk);
	/* without a generation an insert is always a new request */
	if (cur && cur->gen == gen && (gen || !insert)) {
		if (insert) {	/* requeued */
			cur->ts_insert = now;
			cur->ts_issue = 0;
			return 0;
		}
		cur->ts_issue = now;	/* inserted earlier: now it goes to the driver */
		cur->bytes = bytes;
		cur->flags = flags;
		bpf_map_delete_elem(&bio_owners, &ok);
		return 0;
	}
	w = bpf_map_lookup_elem(&bio_owners, &ok);
	if (w) {
		if (!w->want) {
			if (!insert)
				bpf_map_delete_elem(&bio_owners, &ok);
			return 0;
		}
		f.o = w->o;
		f.how = BIO_BY_QUEUER;
	} else {
		pid_tgid = bpf_get_current_pid_tgid();
		if (!ks_want(pid_tgid))
			return 0;
		bio_owner_current(&f.o, pid_tgid);
		f.how = BIO_BY_ISSUER;
	}
	if (insert)
		f.ts_insert = now;
	else
		f.ts_issue = now;
	f.gen = gen;
	f.sector = sector;
	f.dev = dev;
	f.flags = flags;
	f.bytes = bytes;
	/* a requeued request is inserted again: its new times stand */
	if (bpf_map_update_elem(&bio_starts, &rk, &f, BPF_ANY))
		ks_lost(BIO_EV_START);
	else if (!insert && w)
		bpf_map_delete_elem(&bio_owners, &ok);
	return 0;
}

static __always_inline void bio_add(const struct bio_flight *f, __u64 svc, __u64 queue)
{
	struct bio_key k = { .dev = f->dev, .op = f->flags & BIOLAT_OP_MASK };
	struct bio_val *v;

	if (bio_per_cgroup) {
		k.cgroup = f->o.cgroup;
	} else {
		k.pid = f->o.pid;
		if (bio_per_thread)
			k.tid = f->o.tid;
	}
	v = bpf_map_lookup_elem(&bio_rows, &k);
	if (!v) {
		struct bio_val zero = { .cgroup = f->o.cgroup };

		__builtin_memcpy(zero.comm, f->o.comm, sizeof(zero.comm));
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&bio_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&bio_rows, &k);
		if (!v) {
			ks_lost(BIO_EV_ROWS);
			return;
		}
	}
	__sync_fetch_and_add(&v->ops, 1);
	__sync_fetch_and_add(&v->bytes, f->bytes);
	__sync_fetch_and_add(&v->svc_ns, svc);
	__sync_fetch_and_add(&v->queue_ns, queue);
	ks_log2_count(v->slots, (svc + queue) / 1000);
}

static __always_inline void bio_emit(const struct bio_flight *f, __u64 svc, __u64 queue,
				     int error)
{
	struct bio_req *e = ks_reserve_as(BIO_EV_REQ, sizeof(*e), &f->o);

	if (!e)
		return;	/* counted lost */
	e->sector = f->sector;
	e->queue_ns = queue;
	e->svc_ns = svc;
	e->dev = f->dev;
	e->flags = f->flags;
	e->bytes = f->bytes;
	e->error = error;
	e->how = f->how;
	e->__pad = 0;
	ks_submit(e);
}

static __always_inline int bio_done(__u64 a, __u64 b, int error)
{
	struct blkrq_key rk = { .a = a, .b = b };
	__u64 now = bpf_ktime_get_ns(), svc, queue = 0;
	struct bio_flight f, *cur;

	cur = bpf_map_lookup_elem(&bio_starts, &rk);
	if (!cur)
		return 0;	/* started before ksight, or filtered out */
	f = *cur;
	bpf_map_delete_elem(&bio_starts, &rk);
	if (!f.ts_issue)	/* ended without an issue (failed in the queue) */
		f.ts_issue = f.ts_insert;
	svc = now - f.ts_issue;
	if ((__s64)svc < 0)
		svc = 0;
	if (f.ts_insert && f.ts_issue > f.ts_insert)
		queue = f.ts_issue - f.ts_insert;
	if (bio_snoop)
		bio_emit(&f, svc, queue, error);
	else
		bio_add(&f, svc, queue);
	return 0;
}

/* --- tp_btf and raw_tp: the request and bio pointers --- */

/*
 * Argument 0 or 1 of a tp_btf/raw_tp context, by a load at a constant offset in each
 * branch: clang would otherwise move the ctx pointer by (second * 8) and load once, which
 * the verifier refuses ("dereference of modified ctx ptr") where the offset is 8 (5.10:
 * block_bio_queue(q, bio)). The branch not taken is dead code: @second is read-only data.
 */
static __always_inline __u64 bio_ctx_arg(unsigned long long *ctx, bool second)
{
	__u64 v;

	if (second)
		asm volatile("%[v] = *(u64 *)(%[ctx] + 8)" : [v] "=r"(v) : [ctx] "r"(ctx));
	else
		asm volatile("%[v] = *(u64 *)(%[ctx] + 0)" : [v] "=r"(v) : [ctx] "r"(ctx));
	return v;
}

static __always_inline struct request *bio_ctx_rq(unsigned long long *ctx)
{
	return (struct request *)bio_ctx_arg(ctx, bio_rq_arg1);
}

static __always_inline int bio_rq_start(struct request *rq, bool insert)
{
	return bio_start((__u64)rq, 0, BPF_CORE_READ(rq, start_time_ns), blkrq_dev(rq),
			 BPF_CORE_READ(rq, __sector), BPF_CORE_READ(rq, __data_len),
			 blkrq_flags(rq), insert);
}

/* 5.12 gave the bio its block device; before, it named the disk (and partition, 0 once
 * remapped, which block_bio_queue follows). */
struct bio___old {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

static __always_inline int bio_bio_queued(struct bio *bio)
{
	__u32 dev;

	if (bpf_core_field_exists(((struct bio___old *)bio)->bi_disk))
		dev = blkrq_disk_dev(BPF_CORE_READ((struct bio___old *)bio, bi_disk));
	else
		dev = BPF_CORE_READ(bio, bi_bdev, bd_dev);
	return bio_queued(dev, dev, BPF_CORE_READ(bio, bi_iter.bi_sector));
}

/* block_io_start(rq): 6.5+, after the request_queue argument left */
static __always_inline int bio_rq_made(struct request *rq)
{
	return bio_queued(blkrq_dev(rq), (__u64)rq, 0);
}

static __always_inline struct bio *bio_ctx_bio(unsigned long long *ctx)
{
	return (struct bio *)bio_ctx_arg(ctx, bio_bio_arg1);
}

SEC("tp_btf/block_bio_queue")
int bio__queue_btf(unsigned long long *ctx)
{
	return bio_bio_queued(bio_ctx_bio(ctx));
}

SEC("raw_tp/block_bio_queue")
int bio__queue_raw(unsigned long long *ctx)
{
	return bio_bio_queued(bio_ctx_bio(ctx));
}

SEC("tp_btf/block_io_start")
int bio__made_btf(unsigned long long *ctx)
{
	return bio_rq_made((struct request *)ctx[0]);
}

SEC("raw_tp/block_io_start")
int bio__made_raw(unsigned long long *ctx)
{
	return bio_rq_made((struct request *)ctx[0]);
}

SEC("tp_btf/block_rq_insert")
int bio__insert_btf(unsigned long long *ctx)
{
	return bio_rq_start(bio_ctx_rq(ctx), true);
}

SEC("tp_btf/block_rq_issue")
int bio__issue_btf(unsigned long long *ctx)
{
	return bio_rq_start(bio_ctx_rq(ctx), false);
}

/* block_rq_complete(rq, error, nr_bytes) */
SEC("tp_btf/block_rq_complete")
int bio__done_btf(unsigned long long *ctx)
{
	return bio_done(ctx[0], 0, (int)(__u8)ctx[1]);
}

SEC("raw_tp/block_rq_insert")
int bio__insert_raw(unsigned long long *ctx)
{
	return bio_rq_start(bio_ctx_rq(ctx), true);
}

SEC("raw_tp/block_rq_issue")
int bio__issue_raw(unsigned long long *ctx)
{
	return bio_rq_start(bio_ctx_rq(ctx), false);
}

SEC("raw_tp/block_rq_complete")
int bio__done_raw(unsigned long long *ctx)
{
	return bio_done(ctx[0], 0, (int)(__u8)ctx[1]);
}

/* --- classic tracepoints: (dev, sector) --- */

SEC("tp/block/block_bio_queue")
int bio__queue_tp(struct blkrq_tp_head *ctx)
{
	return bio_queued(ctx->dev, ctx->dev, ctx->sector);
}

SEC("tp/block/block_io_start")
int bio__made_tp(struct blkrq_tp_head *ctx)
{
	return bio_queued(ctx->dev, ctx->dev, ctx->sector);
}

/* The verifier refuses loads through a moved ctx pointer: parse a copy of rwbs. */
static __always_inline int bio_tp_start(struct trace_event_raw_block_rq *ctx, bool insert)
{
	char rwbs[8] = {};

	bpf_probe_read_kernel(rwbs, sizeof(rwbs) - 1, ctx->rwbs);
	return bio_start(ctx->dev, ctx->sector, 0, ctx->dev, ctx->sector, ctx->bytes,
			 blkrq_rwbs_flags(rwbs), insert);
}

SEC("tp/block/block_rq_insert")
int bio__insert_tp(struct trace_event_raw_block_rq *ctx)
{
	return bio_tp_start(ctx, true);
}

SEC("tp/block/block_rq_issue")
int bio__issue_tp(struct trace_event_raw_block_rq *ctx)
{
	return bio_tp_start(ctx, false);
}

SEC("tp/block/block_rq_complete")
int bio__done_tp(struct blkrq_tp_done *ctx)
{
	return bio_done(ctx->dev, ctx->sector, ctx->error);
}

char LICENSE[] SEC("license") = "GPL";
