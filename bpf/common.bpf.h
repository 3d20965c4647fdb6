/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every BPF object of ksight shares: the one ring buffer, the per-CPU loss counters,
 * the scratch buffers for variable-size records, the task filters and the helpers that
 * reserve, fill and submit a record.
 *
 * Every object (bpf/core.bpf.c and one per module) is built from one source file and
 * loaded on its own. Each defines the shared maps below; the core object creates them and
 * the loader hands their fds to every other object before load (bpf_map__reuse_fd), by
 * name: every shared map's name starts with "ks_". The configuration (ks_cfg) is set in
 * every object's read-only data before load, identically.
 *
 * Records are safe in any context. Producers on one CPU nest (task, softirq, hardirq,
 * NMI): a per-CPU depth counter gives each running producer its own level, and each level
 * its own scratch buffer and sequence numbers, so an interrupting producer never touches
 * what the interrupted one is building and every (cpu, level) stream is numbered without
 * gaps or repeats (produced = delivered + lost stays exact). The counter needs no atomics:
 * producers on a CPU nest strictly, and one that interrupts another between its read and
 * its write of the counter has put it back before the interrupted one resumes.
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

/*
 * One count of @v in @slots, a log2 histogram of 32 slots (the last holds everything
 * above), atomically: the same histogram is counted from every CPU. The mask after the
 * clamp is the bound again where the verifier sees it: 5.10 and 6.1 lose the clamp across
 * the 32-bit zero extension clang puts between it and the index (and 5.10 then refuses
 * the atomic add at an offset it cannot tell is aligned).
 */
#define KS_LOG2_SLOTS 32
#define ks_log2_count(slots, v)                                                          \
	({                                                                               \
		_Static_assert(sizeof(slots) / sizeof((slots)[0]) == KS_LOG2_SLOTS,       \
			       "a histogram of KS_LOG2_SLOTS slots");                     \
		__u32 __s = ks_log2(v);                                                  \
									         \
		if (__s >= KS_LOG2_SLOTS)                                                \
			__s = KS_LOG2_SLOTS - 1;                                         \
		__sync_fetch_and_add(&(slots)[ks_mask(__s, 31)], 1);                     \
	})

/* Set by user space before load, in every object (see struct ks_config). */
const volatile struct ks_config ks_cfg = {};

/* Sized by user space (--ringbuf-size) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} ks_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_cpu_stats);
} ks_stats SEC(".maps");

/* Slot 0, nonzero: the reader found nothing for a whole timer tick and sleeps; the next
 * record wakes it (and clears this), so the first event after a quiet spell is shown at
 * once instead of up to a tick later. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ks_reader_idle SEC(".maps");

struct ks_scratch {
	__u8 buf[KS_SCRATCH_SIZE];
};

/* Room to build one variable-size record per CPU and nesting level (key: the level). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_LEVELS);
	__type(key, __u32);
	__type(value, struct ks_scratch);
} ks_scratch SEC(".maps");

/* --cgroup PATH: slot 0 holds the cgroup whose subtree passes. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ks_cgroup_filter SEC(".maps");

static __always_inline bool ks_comm_match(void)
{
	__u64 comm[2] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == ks_cfg.targ_comm[0] && comm[1] == ks_cfg.targ_comm[1];
}

/* Whether the current task passes every filter; checked before any reservation. */
static __always_inline bool ks_want(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	if (tgid == ks_cfg.self_tgid)
		return false;
	if (ks_cfg.targ_tgid && tgid != ks_cfg.targ_tgid)
		return false;
	if (ks_cfg.targ_tid && tid != ks_cfg.targ_tid)
		return false;
	if (ks_cfg.filter_uid && (__u32)bpf_get_current_uid_gid() != ks_cfg.targ_uid)
		return false;
	if (ks_cfg.filter_comm && !ks_comm_match())
		return false;
	if (ks_cfg.filter_cgroup && bpf_current_task_under_cgroup(&ks_cgroup_filter, 0) != 1)
		return false;
	return true;
}

static __always_inline struct ks_cpu_stats *ks_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ks_stats, &zero);
}

static __always_inline void ks_lost_on(struct ks_cpu_stats *st, __u32 type)
{
	__sync_fetch_and_add(&st->lost[type & (KS_EV_MAX - 1)], 1);
}

/* Count one lost record (or refused aggregation update) of @type on this CPU. */
static __always_inline void ks_lost(__u32 type)
{
	struct ks_cpu_stats *st = ks_stats_get();

	if (st)
		ks_lost_on(st, type);
}

/* A backup program did the work of a run the kernel skipped (bpf/tcp_backup.bpf.h). */
static __always_inline void ks_backup_ran(void)
{
	struct ks_cpu_stats *st = ks_stats_get();

	if (st)
		__sync_fetch_and_add(&st->backup_runs, 1);
}

/*
 * A level held by a running producer: taken by ks_level_enter(), given back by
 * ks_level_leave(). While held, the level's scratch buffer and sequence are this
 * producer's alone.
 */
struct ks_level {
	struct ks_cpu_stats *st;
	__u32 l;
};

/* Take this CPU's next level. Returns 0, or -1 (loss of @type counted) when none is free. */
static __always_inline int ks_level_enter(struct ks_level *lv, __u32 type)
{
	struct ks_cpu_stats *st = ks_stats_get();
	__u32 l;

	if (!st)
		return -1;
	l = st->depth;
	if (l >= KS_LEVELS) {
		__sync_fetch_and_add(&st->unleveled, 1);
		ks_lost_on(st, type);
		return -1;
	}
	st->depth = l + 1;
	lv->st = st;
	lv->l = l;
	return 0;
}

static __always_inline void ks_level_leave(struct ks_level *lv)
{
	lv->st->depth = lv->l;
}

static __always_inline __u64 ks_level_seq(struct ks_level *lv)
{
	/* masked where it is used: 5.10's verifier forgets the bound of a spilled 32-bit value */
	__u64 *p = &lv->st->seq[ks_mask(lv->l, 3)], seq = *p;	/* KS_LEVELS - 1 */

	*p = seq + 1;
	return seq;
}

static __always_inline void ks_hdr_common(struct ks_hdr *h, __u32 type, __u32 size,
					  struct ks_level *lv, __u64 seq)
{
	h->type = type;
	h->size = size;
	h->version = KS_HDR_VERSION;
	h->level = lv->l;
	h->__pad = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->seq = seq;
	h->ts = bpf_ktime_get_ns();
}

/* The task fields, from the current task. */
static __always_inline void ks_hdr_task(struct ks_hdr *h, __u64 pid_tgid)
{
	h->flags = 0;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->cgroup = bpf_get_current_cgroup_id();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	/* Two 8-byte loads through the task's BTF type where the kernel has it, else one
	 * 16-byte probe read (~25 ns more per record here); bpf_get_current_comm() zero-fills
	 * and copies byte by byte, slower still. The kernel keeps comm NUL-terminated; a rename
	 * racing the copy can tear it, and user space bounds every comm it reads. */
	if (ks_cfg.task_btf) {
		const __u64 *comm = (const __u64 *)bpf_get_current_task_btf()->comm;

		((__u64 *)h->comm)[0] = comm[0];
		((__u64 *)h->comm)[1] = comm[1];
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		/* a failed read zero-fills */
		bpf_core_read(h->comm, sizeof(h->comm), &task->comm);
	}
}

/* The task fields, from an owner the producer knows; @o NULL: no task at all. */
static __always_inline void ks_hdr_owner(struct ks_hdr *h, const struct ks_owner *o)
{
	if (!o) {
		h->flags = KS_HDR_F_NOTASK;
		h->uid = 0;
		h->cgroup = 0;
		h->pid = 0;
		h->tid = 0;
		((__u64 *)h->comm)[0] = 0;
		((__u64 *)h->comm)[1] = 0;
		return;
	}
	h->flags = KS_HDR_F_OWNER;
	h->uid = o->uid;
	h->cgroup = o->cgroup;
	h->pid = o->pid;
	h->tid = o->tid;
	((__u64 *)h->comm)[0] = ((const __u64 *)o->comm)[0];
	((__u64 *)h->comm)[1] = ((const __u64 *)o->comm)[1];
}

/*
 * Wake the reader only when the pending data crosses a multiple of 1 << wake_shift
 * bytes (a quarter of the ring): never one wakeup per record, and the reader's 100 ms
 * timer covers the rest. Each CPU judges the crossing from its own query of the pending
 * count, which another CPU's record can move between that CPU's reservation and its
 * query: both may then test the same byte range, and a crossing goes unseen. A sleeping
 * reader could be left to its timer while the ring overflows, so past half full every
 * 64th record of a CPU (@seq, its sequence number) wakes the reader as well. And a reader
 * that had nothing to read for a tick asked to be woken by the next record
 * (ks_reader_idle): at a trickle of events each is shown at once, at a flood no more
 * wakeups are made than the crossings.
 */
static __always_inline __u64 ks_wake_flags(__u64 before, __u64 size, __u64 seq)
{
	__u32 shift = ks_cfg.wake_shift, zero = 0, *idle;

	/* each record also takes the ring's 8-byte header, and sizes round up to 8 */
	size = ((size + 7) & ~7ULL) + 8;
	if ((before >> shift) != ((before + size) >> shift))
		return BPF_RB_FORCE_WAKEUP;
	if ((before >> (shift + 1)) && !(seq & 63))
		return BPF_RB_FORCE_WAKEUP;
	idle = bpf_map_lookup_elem(&ks_reader_idle, &zero);
	/* the read first: most records find it clear, and a store would bounce its line */
	if (idle && *idle) {
		*idle = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* Reserve a record of @type and fill the header but its task fields; NULL when lost. */
static __always_inline struct ks_hdr *ks_reserve_hdr(__u32 type, __u32 size)
{
	struct ks_level lv;
	struct ks_hdr *h;
	__u64 seq;

	if (ks_level_enter(&lv, type))
		return NULL;
	/* the level is held only while the sequence number and the slot are taken: the
	 * record is then in the ring, where nothing else writes */
	seq = ks_level_seq(&lv);
	h = bpf_ringbuf_reserve(&ks_rb, size, 0);
	if (h)
		ks_hdr_common(h, type, size, &lv, seq);
	else
		ks_lost_on(lv.st, type);
	ks_level_leave(&lv);
	return h;
}

/*
 * Reserve a fixed-size record of @type about the current task (@pid_tgid).
 * Returns NULL, with the loss counted, when the ring buffer is full.
 */
static __always_inline void *ks_reserve(__u32 type, __u32 size, __u64 pid_tgid)
{
	struct ks_hdr *h = ks_reserve_hdr(type, size);

	if (h)
		ks_hdr_task(h, pid_tgid);
	return h;
}

/* The same about owner @o, or about no task (@o NULL: interrupts, timers). */
static __always_inline void *ks_reserve_as(__u32 type, __u32 size, const struct ks_owner *o)
{
	struct ks_hdr *h = ks_reserve_hdr(type, size);

	if (h)
		ks_hdr_owner(h, o);
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
 * Take a level and its scratch buffer to build a variable-size record (or anything too big
 * for the stack) of @type. Returns the buffer, KS_SCRATCH_SIZE bytes; NULL, with the loss
 * counted, when none is free. Every non-NULL return must be ended by ks_output() or
 * ks_scratch_end() on every path.
 */
static __always_inline void *ks_scratch_begin(struct ks_level *lv, __u32 type)
{
	void *buf;

	if (ks_level_enter(lv, type))
		return NULL;
	buf = bpf_map_lookup_elem(&ks_scratch, &lv->l);
	if (!buf) {
		ks_lost_on(lv->st, type);
		ks_level_leave(lv);
	}
	return buf;
}

static __always_inline void ks_scratch_end(struct ks_level *lv)
{
	ks_level_leave(lv);
}

/*
 * Copy the record built at @h in @lv's scratch buffer into the ring, and end @lv.
 * @h->type must be set; the header's other fields are filled here; @size is clamped to the
 * scratch size. Returns 0, or -1 with the loss counted.
 */
static __always_inline int ks_output_hdr(struct ks_level *lv, struct ks_hdr *h, __u32 size)
{
	__u32 type = h->type;
	__u64 avail, flags;
	int err = -1;

	if (size > KS_SCRATCH_SIZE)
		size = KS_SCRATCH_SIZE;
	size = (size + 7) & ~7U;
	if (size < sizeof(*h))
		goto out;
	ks_hdr_common(h, type, size, lv, ks_level_seq(lv));
	avail = bpf_ringbuf_query(&ks_rb, BPF_RB_AVAIL_DATA);
	flags = ks_wake_flags(avail, size, h->seq);
	/* bounded for the verifier right at the call, where no spill can lose the bound */
	size = ks_mask(size, 16383);	/* KS_SCRATCH_SIZE * 2 - 1 */
	if (size > KS_SCRATCH_SIZE)
		goto out;
	err = bpf_ringbuf_output(&ks_rb, h, size, flags) ? -1 : 0;
	if (err)
		ks_lost_on(lv->st, type);
out:
	ks_level_leave(lv);
	return err;
}

/* ks_output_hdr() for a record about the current task (@pid_tgid). */
static __always_inline int ks_output(struct ks_level *lv, struct ks_hdr *h, __u32 size,
				     __u64 pid_tgid)
{
	ks_hdr_task(h, pid_tgid);
	return ks_output_hdr(lv, h, size);
}

/* ks_output_hdr() for a record about owner @o, or no task (@o NULL). */
static __always_inline int ks_output_as(struct ks_level *lv, struct ks_hdr *h, __u32 size,
					const struct ks_owner *o)
{
	ks_hdr_owner(h, o);
	return ks_output_hdr(lv, h, size);
}

/*
 * ks_output() for a record the caller built in a buffer of its own (a module's private
 * per-CPU buffer, in a context that never nests): the level is taken only to number it.
 */
static __always_inline int ks_output_from(struct ks_hdr *h, __u32 size, __u64 pid_tgid)
{
	struct ks_level lv;

	if (ks_level_enter(&lv, h->type))
		return -1;
	return ks_output(&lv, h, size, pid_tgid);
}

/*
 * A program the verifier always refuses (a load through a number). It is loaded only when
 * the test switch KSIGHT_TEST_REFUSE names this object's module, to prove that a module
 * the kernel refuses costs that module alone (tests/e2e/test_session.py).
 */
SEC("raw_tp/sys_exit")
int ks__refused(void *ctx)
{
	return *(volatile int *)(unsigned long)bpf_ktime_get_ns();
}

#endif
