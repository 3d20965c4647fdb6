// SPDX-License-Identifier: GPL-2.0
/*
 * biolat: block I/O latency, issue (or insert with -Q) to completion, into log2 histograms
 * kept in the kernel; nothing is streamed.
 *
 * tp_btf and raw_tp key in-flight requests by their struct request pointer. The classic
 * tracepoints carry no pointer, so there the key is (dev, sector), as the request's
 * completion reports the same pair.
 * block_rq_issue/insert lost their request_queue argument in 5.11; user space reads the
 * running kernel's BTF and sets biolat_rq_arg1 where the request is the second argument.
 *
 * Whose a request is (for -p, -t, -u, -n, --cgroup): the task that made it, not the one
 * that inserts or issues it, which may be a kworker running the queue later (kblockd, a
 * requeue) or another task dispatching what a scheduler held. With a filter, on 6.5+,
 * block_io_start (fired where the request is made from its first bio, in the submitter's
 * context) marks each request with the filters' verdict in biolat_marks; the start takes
 * the mark. A request without a mark (made before ksight, a flush the kernel made, a
 * front merge that moved a classic key's sector; every request before 6.5) is judged by
 * the task running at insert or issue.
 */
#include "common.bpf.h"
#include "biolat.h"
#include "blkrq.bpf.h"

const volatile bool biolat_queued = false;	/* -Q: start at insert */
const volatile bool biolat_per_disk = false;	/* -D */
const volatile bool biolat_per_flags = false;	/* -F */
const volatile bool biolat_ms = false;		/* -m */
const volatile __u32 biolat_dev = 0;		/* -d: only this disk, 0 = all */
const volatile bool biolat_rq_arg1 = false;
const volatile bool biolat_marked = false;	/* block_io_start marks the requests */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct blkrq_key);
	__type(value, struct biolat_start);
} biolat_starts SEC(".maps");

/* The filters' verdict on a request's maker, from block_io_start to its issue. An LRU: a
 * request that ends without an issue (merged into another) leaves an entry to age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIOLAT_MARKS);
	__type(key, struct blkrq_key);
	__type(value, __u32);
} biolat_marks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOLAT_HISTS);
	__type(key, struct biolat_key);
	__type(value, struct biolat_hist);
} biolat_hists SEC(".maps");

/* block_io_start: the request is being made, by the task now running. */
static __always_inline int biolat_mark(__u64 a, __u64 b, __u32 dev)
{
	struct blkrq_key key = { .a = a, .b = b };
	__u32 want;

	if (biolat_dev && dev != biolat_dev)
		return 0;
	want = ks_want(bpf_get_current_pid_tgid());
	bpf_map_update_elem(&biolat_marks, &key, &want, BPF_ANY);	/* an LRU makes room */
	return 0;
}

/* Whether the request passes the filters: its mark, taken at issue (kept at insert for the
 * issue to come), else the task running now. */
static __always_inline bool biolat_wanted(struct blkrq_key *key, bool insert)
{
	__u32 *m;
	bool want;

	if (!biolat_marked)
		return ks_want(bpf_get_current_pid_tgid());
	m = bpf_map_lookup_elem(&biolat_marks, key);
	if (!m)
		return ks_want(bpf_get_current_pid_tgid());
	want = *m;
	if (!insert)
		bpf_map_delete_elem(&biolat_marks, key);
	return want;
}

static __always_inline int biolat_start(__u64 a, __u64 b, __u32 dev, __u32 flags, bool insert)
{
	struct blkrq_key key = { .a = a, .b = b };
	struct biolat_start st = { .dev = dev, .flags = flags };
	long err;

	if (biolat_dev && dev != biolat_dev)
		return 0;
	if (!biolat_wanted(&key, insert))
		return 0;
	st.ts = bpf_ktime_get_ns();
	/* with -Q the insert time stands; requests never inserted start at issue */
	err = bpf_map_update_elem(&biolat_starts, &key, &st, insert || !biolat_queued ?
								  BPF_ANY : BPF_NOEXIST);
	if (err && err != -17)	/* -EEXIST: inserted earlier, keep that time */
		ks_lost(BIOLAT_EV_START);
	return 0;
}

static __always_inline int biolat_done(__u64 a, __u64 b)
{
	struct blkrq_key key = { .a = a, .b = b };
	struct biolat_key hkey = {};
	struct biolat_start *st;
	struct biolat_hist *h;
	__u64 delta, v;

	st = bpf_map_lookup_elem(&biolat_starts, &key);
	if (!st)
		return 0;	/* started before ksight, or filtered out */
	delta = bpf_ktime_get_ns() - st->ts;
	if ((__s64)delta < 0)
		delta = 0;
	if (biolat_per_disk)
		hkey.dev = st->dev;
	if (biolat_per_flags)
		hkey.flags = st->flags;
	bpf_map_delete_elem(&biolat_starts, &key);

	h = bpf_map_lookup_elem(&biolat_hists, &hkey);
	if (!h) {
		struct biolat_hist zero = {};

		if (bpf_map_update_elem(&biolat_hists, &hkey, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&biolat_hists, &hkey)) {
			ks_lost(BIOLAT_EV_HIST);
			return 0;
		}
		h = bpf_map_lookup_elem(&biolat_hists, &hkey);
		if (!h)
			return 0;
	}
	v = delta / (biolat_ms ? 1000000 : 1000);
	ks_log2_count(h->slots, v);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, delta);
	return 0;
}

static __always_inline struct request *biolat_ctx_rq(unsigned long long *ctx)
{
	if (biolat_rq_arg1)
		return (struct request *)ctx[1];
	return (struct request *)ctx[0];
}

static __always_inline int biolat_rq_start(struct request *rq, bool insert)
{
	return biolat_start((__u64)rq, 0, blkrq_dev(rq), blkrq_flags(rq), insert);
}

/* block_io_start(rq): 6.5+, after the request_queue argument left */
SEC("tp_btf/block_io_start")
int biolat__mark_btf(unsigned long long *ctx)
{
	struct request *rq = (struct request *)ctx[0];

	return biolat_mark((__u64)rq, 0, blkrq_dev(rq));
}

SEC("tp_btf/block_rq_insert")
int biolat__insert_btf(unsigned long long *ctx)
{
	return biolat_rq_start(biolat_ctx_rq(ctx), true);
}

SEC("tp_btf/block_rq_issue")
int biolat__issue_btf(unsigned long long *ctx)
{
	return biolat_rq_start(biolat_ctx_rq(ctx), false);
}

SEC("tp_btf/block_rq_complete")
int biolat__done_btf(unsigned long long *ctx)
{
	return biolat_done(ctx[0], 0);
}

SEC("raw_tp/block_io_start")
int biolat__mark_raw(unsigned long long *ctx)
{
	struct request *rq = (struct request *)ctx[0];

	return biolat_mark((__u64)rq, 0, blkrq_dev(rq));
}

SEC("raw_tp/block_rq_insert")
int biolat__insert_raw(unsigned long long *ctx)
{
	return biolat_rq_start(biolat_ctx_rq(ctx), true);
}

SEC("raw_tp/block_rq_issue")
int biolat__issue_raw(unsigned long long *ctx)
{
	return biolat_rq_start(biolat_ctx_rq(ctx), false);
}

SEC("raw_tp/block_rq_complete")
int biolat__done_raw(unsigned long long *ctx)
{
	return biolat_done(ctx[0], 0);
}

/* The verifier refuses loads through a moved ctx pointer: parse a copy of rwbs. */
static __always_inline int biolat_tp_start(struct trace_event_raw_block_rq *ctx, bool insert)
{
	char rwbs[8] = {};

	bpf_probe_read_kernel(rwbs, sizeof(rwbs) - 1, ctx->rwbs);
	return biolat_start(ctx->dev, ctx->sector, ctx->dev, blkrq_rwbs_flags(rwbs), insert);
}

SEC("tp/block/block_io_start")
int biolat__mark_tp(struct blkrq_tp_head *ctx)
{
	return biolat_mark(ctx->dev, ctx->sector, ctx->dev);
}

SEC("tp/block/block_rq_insert")
int biolat__insert_tp(struct trace_event_raw_block_rq *ctx)
{
	return biolat_tp_start(ctx, true);
}

SEC("tp/block/block_rq_issue")
int biolat__issue_tp(struct trace_event_raw_block_rq *ctx)
{
	return biolat_tp_start(ctx, false);
}

SEC("tp/block/block_rq_complete")
int biolat__done_tp(struct blkrq_tp_done *ctx)
{
	return biolat_done(ctx->dev, ctx->sector);
}

char LICENSE[] SEC("license") = "GPL";
