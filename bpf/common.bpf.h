/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every BPF object of ksight shares: the one ring buffer, the per-CPU loss counters,
 * the scratch buffer for variable-size records, the task filters and the helpers that
 * reserve, fill and submit a record.
 *
 * All objects are linked into one (bpftool gen object), so the maps are declared __weak
 * here and merged by the linker, and the filter globals are defined once in core.bpf.c.
 */
#ifndef KSIGHT_COMMON_BPF_H
#define KSIGHT_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "common.h"

#define KS_SCRATCH_SIZE 8192

#define KS_STR(x) #x
#define KS_XSTR(x) KS_STR(x)
/*
 * @v & @mask in an instruction the verifier sees. Clang drops a mask it can prove
 * redundant (after a clamp), and the verifier, tracking a different register, then rejects
 * the variable size or offset. @mask must be a literal 2^k - 1.
 */
#define ks_mask(v, mask)                                              \
	({                                                            \
		__u64 __v = (v);                                      \
		asm volatile("%[x] &= " KS_XSTR(mask) : [x] "+r"(__v)); \
		__v;                                                  \
	})

/* floor(log2(@v)), 0 for 0 and 1: the slot of a log2 histogram (src/analyze/hist.h). */
static __always_inline __u32 ks_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	return r + (__u32)(v >> 1);
}

/* Sized by user space (--ringbuf-size) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} ks_rb SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_cpu_stats);
} ks_stats SEC(".maps") __weak;

struct ks_scratch {
	__u8 buf[KS_SCRATCH_SIZE];
};

/* Room to build one variable-size record per CPU; programs on a CPU do not nest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_scratch);
} ks_scratch SEC(".maps") __weak;

/* --cgroup PATH: slot 0 holds the cgroup whose subtree passes. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ks_cgroup_filter SEC(".maps") __weak;

/* Filters and tuning, set by user space before load (defined in core.bpf.c). */
extern const volatile __u32 ks_self_tgid __weak;	/* ksight never traces itself */
extern const volatile __u32 ks_targ_tgid __weak;	/* -p, 0 = any */
extern const volatile __u32 ks_targ_tid __weak;		/* -t, 0 = any */
extern const volatile __u32 ks_targ_uid __weak;		/* -u, when ks_filter_uid */
extern const volatile bool ks_filter_uid __weak;
extern const volatile bool ks_filter_comm __weak;	/* -n, exact comm */
extern const volatile __u64 ks_targ_comm[2] __weak;
extern const volatile bool ks_filter_cgroup __weak;	/* --cgroup, subtree */
extern const volatile __u32 ks_wake_shift __weak;	/* wake reader every 1 << shift bytes */
extern const volatile bool ks_task_btf __weak;	/* bpf_get_current_task_btf() exists (5.11+) */

static __always_inline bool ks_comm_match(void)
{
	__u64 comm[2] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == ks_targ_comm[0] && comm[1] == ks_targ_comm[1];
}

/* Whether the current task passes every filter; checked before any reservation. */
static __always_inline bool ks_want(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	if (tgid == ks_self_tgid)
		return false;
	if (ks_targ_tgid && tgid != ks_targ_tgid)
		return false;
	if (ks_targ_tid && tid != ks_targ_tid)
		return false;
	if (ks_filter_uid && (__u32)bpf_get_current_uid_gid() != ks_targ_uid)
		return false;
	if (ks_filter_comm && !ks_comm_match())
		return false;
	if (ks_filter_cgroup && bpf_current_task_under_cgroup(&ks_cgroup_filter, 0) != 1)
		return false;
	return true;
}

static __always_inline struct ks_cpu_stats *ks_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ks_stats, &zero);
}

/* Count one lost record (or refused aggregation update) of @type on this CPU. */
static __always_inline void ks_lost(__u32 type)
{
	struct ks_cpu_stats *st = ks_stats_get();

	if (st)
		__sync_fetch_and_add(&st->lost[type & (KS_EV_MAX - 1)], 1);
}

static __always_inline void *ks_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ks_scratch, &zero);
}

/*
 * Take the next sequence number of this CPU. Programs on one CPU do not nest (ksight has no
 * NMI-context producers), so a plain increment is exact and needs no BPF_FETCH (5.12+).
 */
static __always_inline __u64 ks_next_seq(struct ks_cpu_stats *st)
{
	__u64 seq = st->seq;

	st->seq = seq + 1;
	return seq;
}

static __always_inline void ks_hdr_fill(struct ks_hdr *h, __u32 type, __u32 size, __u64 seq,
					__u64 pid_tgid)
{
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->seq = seq;
	h->ts = bpf_ktime_get_ns();
	h->cgroup = bpf_get_current_cgroup_id();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	/* Two 8-byte loads through the task's BTF type where the kernel has it, else one
	 * 16-byte probe read (~25 ns more per record here); bpf_get_current_comm() zero-fills
	 * and copies byte by byte, slower still. The kernel keeps comm NUL-terminated; a rename
	 * racing the copy can tear it, and user space bounds every comm it reads. */
	if (ks_task_btf) {
		const __u64 *comm = (const __u64 *)bpf_get_current_task_btf()->comm;

		((__u64 *)h->comm)[0] = comm[0];
		((__u64 *)h->comm)[1] = comm[1];
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		/* a failed read zero-fills */
		bpf_core_read(h->comm, sizeof(h->comm), &task->comm);
	}
}

/*
 * Wake the reader only when the pending data crosses a multiple of 1 << ks_wake_shift
 * bytes (a quarter of the ring): never one wakeup per record, and the reader's 100 ms
 * timer covers the rest. Each CPU judges the crossing from its own query of the pending
 * count, which another CPU's record can move between that CPU's reservation and its
 * query: both may then test the same byte range, and a crossing goes unseen. A sleeping
 * reader could be left to its timer while the ring overflows, so past half full every
 * 64th record of a CPU (@seq, its sequence number) wakes the reader as well.
 */
static __always_inline __u64 ks_wake_flags(__u64 before, __u64 size, __u64 seq)
{
	/* each record also takes the ring's 8-byte header, and sizes round up to 8 */
	size = ((size + 7) & ~7ULL) + 8;
	if ((before >> ks_wake_shift) != ((before + size) >> ks_wake_shift))
		return BPF_RB_FORCE_WAKEUP;
	if ((before >> (ks_wake_shift + 1)) && !(seq & 63))
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Reserve a fixed-size record of @type with its header filled for the current task.
 * Returns NULL, with the loss counted, when the ring buffer is full.
 */
static __always_inline void *ks_reserve(__u32 type, __u32 size, __u64 pid_tgid)
{
	struct ks_cpu_stats *st = ks_stats_get();
	struct ks_hdr *h;
	__u64 seq;

	if (!st)
		return NULL;
	seq = ks_next_seq(st);
	h = bpf_ringbuf_reserve(&ks_rb, size, 0);
	if (!h) {
		__sync_fetch_and_add(&st->lost[type & (KS_EV_MAX - 1)], 1);
		return NULL;
	}
	ks_hdr_fill(h, type, size, seq, pid_tgid);
	return h;
}

static __always_inline void ks_submit(void *rec)
{
	struct ks_hdr *h = rec;
	__u64 size = h->size;
	__u64 avail = bpf_ringbuf_query(&ks_rb, BPF_RB_AVAIL_DATA);

	/* avail already holds this record and its header */
	bpf_ringbuf_submit(rec, ks_wake_flags(avail - ((size + 7) & ~7ULL) - 8, size, h->seq));
}

/*
 * Copy a variable-size record built in the scratch buffer into the ring. @h->type must be
 * set; the rest of the header is filled here. @size is clamped to the scratch size.
 * Returns 0, or -1 with the loss counted.
 */
static __always_inline int ks_output(struct ks_hdr *h, __u32 size, __u64 pid_tgid)
{
	struct ks_cpu_stats *st = ks_stats_get();
	__u32 type = h->type;
	__u64 avail, flags;

	if (!st)
		return -1;
	if (size > KS_SCRATCH_SIZE)
		size = KS_SCRATCH_SIZE;
	size = (size + 7) & ~7U;
	if (size < sizeof(*h))
		return -1;
	ks_hdr_fill(h, type, size, ks_next_seq(st), pid_tgid);
	avail = bpf_ringbuf_query(&ks_rb, BPF_RB_AVAIL_DATA);
	flags = ks_wake_flags(avail, size, h->seq);
	/* bounded for the verifier right at the call, where no spill can lose the bound */
	size = ks_mask(size, 16383);	/* KS_SCRATCH_SIZE * 2 - 1 */
	if (size > KS_SCRATCH_SIZE)
		return -1;
	if (bpf_ringbuf_output(&ks_rb, h, size, flags)) {
		__sync_fetch_and_add(&st->lost[type & (KS_EV_MAX - 1)], 1);
		return -1;
	}
	return 0;
}

#endif
