// SPDX-License-Identifier: GPL-2.0
/*
 * trace: any tracepoint or user function with no compiler at run time. One classic
 * tracepoint program (its context is the raw record, so the tracefs format file's offsets
 * apply, on every kernel from 5.10), one uprobe program (arguments from the registers),
 * and programs for USDT, kernel functions and raw tracepoints (tp_btf, raw_tp: the
 * arguments and the kernel memory behind them, along member paths found in BTF) share one
 * body, configured by trace_conf (bpf/trace.h), which user space writes before load: the
 * programs are the same whatever the probe, and the verifier sees every configuration at
 * once. Everything is aggregated here; records flow only with -f.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>
#include "trace.h"

#define TRACE_K_TP 0		/* the record is the context */
#define TRACE_K_REGS 1		/* uprobe: arguments in the registers */
#define TRACE_K_USDT 2		/* USDT: arguments where the probe's note says */
#define TRACE_K_FENTRY 3	/* fentry: arguments in the trampoline's u64 array */

/* Not const: the verifier must not specialize the programs for one configuration. */
struct trace_conf trace_conf = {};

/* What this instance runs for, read by `ksight status --live` from the object's .rodata
 * (cli/status_names.c) to name its rows: "metrics:NAME" for a YAML metric's instance
 * (metrics_run.c), whose program name alone (trace__tp) every metric shares; empty for
 * ksight trace. Never read here. */
const volatile char trace_serves[TRACE_SERVES_LEN] = {};

struct trace_buf {
	struct trace_vals v;
	__u8 key[TRACE_KEY_MAX];
	__u64 st;		/* the filter's stack of booleans (see filter()) */
};

/* A program of one kind does not nest on a CPU (bpf_prog_active): one scratch per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_buf);
} trace_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} trace_total SEC(".maps");

struct trace_hist {
	__u64 slots[TRACE_HSLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_hist);
} trace_hist SEC(".maps");

/* Key size set by user space to the --count-by parts' total (1 when unused). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TRACE_ROWS);
	__uint(key_size, TRACE_KEY_MAX);
	__uint(value_size, sizeof(__u64));
} trace_counts SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&trace_total, &slot);

	if (n)
		(*n)++;
}

/* The registers of x86-64's calling convention. The context is read through a helper:
 * the compiler turns a switch of direct loads into one load at a computed offset, which
 * the verifier refuses on a context. */
static __always_inline __u64 uprobe_reg(struct pt_regs *regs, __u32 kind, __u32 idx)
{
	__u32 off;
	__u64 x = 0;

	if (kind == TRACE_F_RET)
		off = offsetof(struct pt_regs, ax);
	else if (idx == 0)
		off = offsetof(struct pt_regs, di);
	else if (idx == 1)
		off = offsetof(struct pt_regs, si);
	else if (idx == 2)
		off = offsetof(struct pt_regs, dx);
	else if (idx == 3)
		off = offsetof(struct pt_regs, cx);
	else if (idx == 4)
		off = offsetof(struct pt_regs, r8);
	else
		off = offsetof(struct pt_regs, r9);
	bpf_probe_read_kernel(&x, sizeof(x), (void *)regs + off);
	return x;
}

/* fentry's argument @idx (0-5): the context is the trampoline's array of u64, read with
 * a helper at a constant offset per path, as uprobe_reg() does. */
static __always_inline __u64 fentry_arg(void *ctx, __u32 idx)
{
	__u32 off;
	__u64 x = 0;

	if (idx == 0)
		off = 0;
	else if (idx == 1)
		off = 8;
	else if (idx == 2)
		off = 16;
	else if (idx == 3)
		off = 24;
	else if (idx == 4)
		off = 32;
	else
		off = 40;
	bpf_probe_read_kernel(&x, sizeof(x), ctx + off);
	return x;
}

/* Where field @i's member path from argument @idx ends: the pointers on the way read
 * with a helper (a fault reads 0, and the field then reads 0 or ""). */
static __always_inline void *kpath(void *ctx, __u32 i, __u32 idx)
{
	const struct trace_path *pp = &trace_conf.path[i & (TRACE_FIELDS - 1)];
	__u64 x = fentry_arg(ctx, idx);
	__u32 n = pp->n;

#pragma unroll
	for (__u32 j = 0; j < TRACE_STEPS - 1; j++) {
		if (j + 1 >= n)
			break;
		bpf_probe_read_kernel(&x, sizeof(x), (void *)(x + pp->off[j]));
	}
	return (void *)(x + pp->off[(n - 1) & (TRACE_STEPS - 1)]);
}

/* Field @i of this hit into @v: from the record @ctx (tracepoint) or the registers. */
static __always_inline void read_field(void *ctx, int how, struct trace_vals *v, __u32 i,
				       __u64 pid_tgid)
{
	const struct trace_field *f = &trace_conf.f[i & (TRACE_FIELDS - 1)];
	char *s = v->str[i & (TRACE_FIELDS - 1)];
	__u32 kind = f->kind, size = f->size, off = f->off;
	__u64 x = 0, *w = (__u64 *)s;

	if (!trace_num(kind)) {
		for (int k = 0; k < TRACE_STR / 8; k++)
			w[k] = 0;
		if (kind == TRACE_F_COMM) {
			bpf_get_current_comm(s, TASK_COMM_LEN);
			return;
		}
		if (kind == TRACE_F_KSTR) {
			size = ks_mask(size - 1, 63) + 1;
			bpf_probe_read_kernel_str(s, size, kpath(ctx, i, off));
			return;
		}
		if (how == TRACE_K_USDT) {
			long a = 0;

			if (kind == TRACE_F_USDTSTR && !bpf_usdt_arg(ctx, off, &a))
				bpf_probe_read_user_str(s, TRACE_STR, (void *)a);
			return;
		}
		if (how == TRACE_K_REGS) {
			if (kind == TRACE_F_USTR) {
				x = uprobe_reg(ctx, off == 6 ? TRACE_F_RET : TRACE_F_ARG, off);
				bpf_probe_read_user_str(s, TRACE_STR, (void *)x);
			}
			return;
		}
		if (kind == TRACE_F_DLOC) {
			__u32 loc = 0;

			bpf_probe_read_kernel(&loc, sizeof(loc), ctx + off);
			off = loc & 0xffff;
			size = TRACE_STR;
		}
		/* 1 to TRACE_STR, in a form the verifier keeps (a clamp the compiler may drop) */
		size = ks_mask(size - 1, 63) + 1;
		bpf_probe_read_kernel_str(s, size, ctx + off);
		return;
	}
	if (kind == TRACE_F_PID) {
		x = pid_tgid >> 32;
	} else if (kind == TRACE_F_TID) {
		x = (__u32)pid_tgid;
	} else if (how == TRACE_K_USDT) {
		long a = 0;

		bpf_usdt_arg(ctx, off, &a);
		x = a;
	} else if (how == TRACE_K_REGS) {
		x = uprobe_reg(ctx, kind, off);
	} else if (kind == TRACE_F_KPATH) {
		size = ks_mask(size - 1, 7) + 1;
		bpf_probe_read_kernel(&x, size, kpath(ctx, i, off));
	} else if (how == TRACE_K_FENTRY) {
		x = fentry_arg(ctx, off);
	} else {
		size = ks_mask(size - 1, 7) + 1;
		bpf_probe_read_kernel(&x, size, ctx + off);
	}
	if (f->is_signed && size && size < 8) {
		__u32 sh = 64 - 8 * size;

		x = (__u64)((__s64)(x << sh) >> sh);
	}
	v->num[i & (TRACE_FIELDS - 1)] = x;
}

/* A comparison is its truth table indexed by the order of field and constant (0 <, 1 ==,
 * 2 >): two branches instead of one per operator and signedness, so the verifier walks
 * few paths per step of the filter. Signed values compare as unsigned once their sign
 * bits are flipped. */
static __always_inline __u64 cmp_int(const struct trace_op *op, const struct trace_vals *v)
{
	__u32 fi = op->field & (TRACE_FIELDS - 1);
	__u64 flip = (__u64)(trace_conf.f[fi].is_signed & 1) << 63;
	__u64 a = v->num[fi] ^ flip, b = op->val ^ flip;
	__u32 idx = (a >= b) + (a > b);

	return (op->truth >> idx) & 1;
}

static __always_inline __u64 cmp_str(const struct trace_op *op, const struct trace_vals *v)
{
	const struct trace_strc *c = &trace_conf.s[op->str & (TRACE_STRS - 1)];
	const __u64 *w = (const __u64 *)v->str[op->field & (TRACE_FIELDS - 1)];
	__u64 x = 0;

	for (int k = 0; k < TRACE_STR / 8; k++)
		x |= (w[k] ^ c->w[k]) & c->mask[k];
	return (op->truth >> (x == 0)) & 1;
}

/*
 * Step @i of the filter on the scratch's values, over its stack of booleans. A global
 * function, verified once for any step: the filter's loop then costs the verifier a call
 * per step, not every path through a step times the steps. The stack lives in map memory:
 * a register would hold a known constant on each path through the comparisons.
 */
__noinline int trace_step(__u32 i)
{
	const struct trace_op *op = &trace_conf.ops[i & (TRACE_OPS - 1)];
	struct trace_buf *sc;
	volatile __u64 *st;
	__u32 zero = 0;
	__u64 a;

	sc = bpf_map_lookup_elem(&trace_buf, &zero);
	if (!sc)
		return 0;
	st = &sc->st;
	switch (op->code) {
	case TRACE_OP_INT:
		*st = *st << 1 | cmp_int(op, &sc->v);
		break;
	case TRACE_OP_STR:
		*st = *st << 1 | cmp_str(op, &sc->v);
		break;
	case TRACE_OP_AND:
		a = *st;
		*st = (a >> 1 & ~1ULL) | (a >> 1 & a & 1);
		break;
	case TRACE_OP_OR:
		a = *st;
		*st = a >> 1 | (a & 1);
		break;
	default:
		*st ^= 1;
	}
	return 0;
}

/* The filter's verdict on the scratch's values (true without a filter). */
__noinline int trace_filter(void)
{
	struct trace_buf *sc;
	__u32 n = trace_conf.nops, zero = 0;

	if (!n)
		return 1;
	sc = bpf_map_lookup_elem(&trace_buf, &zero);
	if (!sc)
		return 0;
	sc->st = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < TRACE_OPS; i++) {
		if (i >= n)
			break;
		trace_step(i);
	}
	sc = bpf_map_lookup_elem(&trace_buf, &zero);
	return sc ? sc->st & 1 : 0;
}

/* The key of this hit: one field is its own key where it lies; several are copied side
 * by side into the scratch's key buffer. */
static __always_inline void *make_key(struct trace_buf *sc)
{
	const struct trace_kpart *p = &trace_conf.k[0];
	__u32 fi = p->field & (TRACE_FIELDS - 1);

	if (trace_conf.nkeys == 1 && !trace_conf.hkey)
		return trace_num(trace_conf.f[fi].kind) ? (void *)&sc->v.num[fi] :
							  (void *)sc->v.str[fi];
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < TRACE_KEYS; i++) {
		__u32 off, len;

		p = &trace_conf.k[i];
		fi = p->field & (TRACE_FIELDS - 1);
		if (i >= trace_conf.nkeys)
			break;
		off = ks_mask(p->off, 255);
		len = ks_mask(p->len - 1, 63) + 1;	/* 1 to TRACE_STR */
		if (trace_num(trace_conf.f[fi].kind))
			bpf_probe_read_kernel(sc->key + off, 8, &sc->v.num[fi]);
		else
			bpf_probe_read_kernel(sc->key + off, len, sc->v.str[fi]);
	}
	return sc->key;
}

/* Per-CPU rows: a hit adds to its CPU's count with no atomic operation. */
static __always_inline void count_add(void *key, __u64 inc)
{
	__u64 *n;

	n = bpf_map_lookup_elem(&trace_counts, key);
	if (n) {
		*n += inc;
		return;
	}
	/* an update from BPF sets this CPU's value and zeroes the others' */
	if (bpf_map_update_elem(&trace_counts, key, &inc, BPF_NOEXIST)) {
		/* another program made the row meanwhile (a uprobe can be preempted) */
		n = bpf_map_lookup_elem(&trace_counts, key);
		if (n)
			*n += inc;
		else
			ks_lost(TRACE_EV_COUNT);
	}
}

static __always_inline void count_key(struct trace_buf *sc)
{
	count_add(make_key(sc), 1);
}

/* The linear slot of @x (trace.h: hist_lo, hist_step, hist_top). The division runs on
 * the distance from lo, so that a value near 2^64 cannot overflow the slot. */
static __always_inline __u64 lin_slot(__u64 x, bool sgn)
{
	__u64 lo = trace_conf.hist_lo, step = trace_conf.hist_step, top = trace_conf.hist_top;
	__u64 d;

	if (sgn ? (__s64)x < (__s64)lo : x < lo)
		return 0;
	if (!step || !top)
		return 0;
	d = (x - lo) / step;
	return d < top - 1 ? d + 1 : top;
}

/* The bucket of the hist field's value: log2 (negative values of a signed field in the
 * first, docs/trace.md) or linear. */
static __always_inline __u64 hist_slot(__u64 x, bool sgn)
{
	if (trace_conf.hist == 2)
		return lin_slot(x, sgn);
	if (sgn && (__s64)x < 0)
		return 0;
	return ks_log2(x);
}

/* ksight run --metrics' histogram per key: the key's bucket row counts the hit, its
 * TRACE_HSUM row adds the value. */
static __always_inline void hist_key(struct trace_buf *sc)
{
	__u32 fi = trace_conf.hist_field & (TRACE_FIELDS - 1);
	__u32 off = ks_mask(trace_conf.hkey_off, 255);
	__u64 x = sc->v.num[fi], slot;
	void *key = make_key(sc);

	slot = hist_slot(x, trace_conf.f[fi].is_signed);
	bpf_probe_read_kernel(sc->key + off, sizeof(slot), &slot);
	count_add(key, 1);
	slot = TRACE_HSUM;
	bpf_probe_read_kernel(sc->key + off, sizeof(slot), &slot);
	count_add(key, x);
}

static __always_inline void hist(const struct trace_vals *v)
{
	__u32 fi = trace_conf.hist_field & (TRACE_FIELDS - 1);
	__u32 zero = 0;
	struct trace_hist *h = bpf_map_lookup_elem(&trace_hist, &zero);
	__u64 slot;

	if (!h)
		return;
	slot = hist_slot(v->num[fi], trace_conf.f[fi].is_signed);
	if (trace_conf.hist == 2 && slot)
		slot--;		/* --linear: no slot below 0 (negatives join [0, step)) */
	if (slot >= TRACE_HSLOTS)
		slot = TRACE_HSLOTS - 1;
	h->slots[slot & (TRACE_HSLOTS - 1)]++;
}

/* What a kept hit adds: a --count-by row, a histogram bucket, a -f record. A global
 * function, verified once on its own, like trace_filter(). */
__noinline int trace_keep(__u64 pid_tgid)
{
	struct trace_buf *sc;
	struct trace_rec *e;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&trace_buf, &zero);
	if (!sc)
		return 0;
	if (trace_conf.hkey)
		hist_key(sc);
	else if (trace_conf.nkeys)
		count_key(sc);
	if (trace_conf.hist && !trace_conf.hkey)
		hist(&sc->v);
	if (trace_conf.events) {
		e = ks_reserve(TRACE_EV_EVENT, sizeof(*e), pid_tgid);
		if (!e)
			return 0;
		bpf_probe_read_kernel(&e->v, sizeof(e->v), &sc->v);
		ks_submit(e);
	}
	return 0;
}

/* Whether the hit's only work is a row per comm (`--count-by comm`, a YAML counter keyed
 * by comm alone, with no filter, histogram or records): the common question gets what a
 * hand-written program does, the comm read straight into the key, with no field loop, no
 * clear of the 64-byte string and no call of the kept-hit function. */
static __always_inline bool comm_only(__u32 nf)
{
	return nf == 1 && trace_conf.f[0].kind == TRACE_F_COMM && trace_conf.nkeys == 1 &&
	       !(trace_conf.nops | trace_conf.hist | trace_conf.events | trace_conf.hkey);
}

static __always_inline int trace_hit(void *ctx, int how)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct trace_buf *sc;
	__u32 zero = 0, nf = trace_conf.nfields;

	if (!ks_want(pid_tgid))
		return 0;
	bump(TRACE_TOT_HITS);
	/* The key in the scratch's key buffer, not on the stack: the verifier checks this
	 * path against the map's key size whatever the configuration, up to TRACE_KEY_MAX.
	 * The helper pads with zeros: the key is the comm. A branch of its own before the
	 * field loop: placed inside it, it let the compiler make the loop's back-edge a fall
	 * through, which 5.10's verifier refuses ("back-edge from insn"). */
	if (comm_only(nf)) {
		sc = bpf_map_lookup_elem(&trace_buf, &zero);
		if (!sc)
			return 0;
		bpf_get_current_comm(sc->key, TASK_COMM_LEN);
		count_add(sc->key, 1);
		return 0;
	}
	if (nf) {
		sc = bpf_map_lookup_elem(&trace_buf, &zero);
		if (!sc)
			return 0;
#pragma clang loop unroll(disable)
		for (__u32 i = 0; i < TRACE_FIELDS; i++) {
			if (i >= nf)
				break;
			read_field(ctx, how, &sc->v, i, pid_tgid);
		}
		if (trace_conf.nops) {
			if (!trace_filter())
				return 0;
			bump(TRACE_TOT_MATCH);
		}
		trace_keep(pid_tgid);
	}
	return 0;
}

SEC("tracepoint")
int trace__tp(void *ctx)
{
	return trace_hit(ctx, TRACE_K_TP);
}

SEC("uprobe")
int trace__uprobe(struct pt_regs *ctx)
{
	return trace_hit(ctx, TRACE_K_REGS);
}

/* Kernel functions: fentry where the kernel allows it (its target set before load),
 * else a kprobe (the same registers as a uprobe). */
SEC("fentry")
int trace__fentry(void *ctx)
{
	return trace_hit(ctx, TRACE_K_FENTRY);
}

/* A tracepoint's raw arguments (raw:CATEGORY:NAME): tp_btf where the kernel allows it
 * (its target set before load), else raw_tp; both see the arguments as an array of u64,
 * read as fentry's are. */
SEC("tp_btf")
int trace__tpbtf(void *ctx)
{
	return trace_hit(ctx, TRACE_K_FENTRY);
}

SEC("raw_tp")
int trace__rawtp(void *ctx)
{
	return trace_hit(ctx, TRACE_K_FENTRY);
}

SEC("kprobe")
int trace__kprobe(struct pt_regs *ctx)
{
	return trace_hit(ctx, TRACE_K_REGS);
}

SEC("usdt")
int trace__usdt(struct pt_regs *ctx)
{
	return trace_hit(ctx, TRACE_K_USDT);
}

char LICENSE[] SEC("license") = "GPL";
