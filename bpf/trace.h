/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace module: one generic program per probe kind (classic tracepoint, uprobe, USDT,
 * kernel function, raw tracepoint), verified once, configured by struct trace_conf that user space fills before load: which fields
 * to read (offset, size, kind), a filter as a small postfix program, which fields key
 * the counts, which one the histogram takes, and whether events are streamed.
 * Shared by bpf/trace.bpf.c and src/modules/trace*.c.
 */
#ifndef KSIGHT_TRACE_H
#define KSIGHT_TRACE_H

#include "common.h"

#define TRACE_EV_EVENT KS_EV(KS_MOD_trace, 0)	/* -f: one record per hit */
#define TRACE_EV_COUNT KS_EV(KS_MOD_trace, 1)	/* counted in trace_counts, trace_hist
						 * (loss: table full) */

#define TRACE_FIELDS 8		/* fields one probe reads */
#define TRACE_STR 64		/* bytes kept of a string (NUL included) */
#define TRACE_OPS 32		/* filter program length */
#define TRACE_STRS 4		/* string constants of a filter */
#define TRACE_KEYS 3		/* --count-by fields */
#define TRACE_KEY_MAX 320	/* key buffer: offsets masked to 255, lengths <= 64 */
#define TRACE_HSLOTS 128	/* histogram buckets (log2 uses 64) */
#define TRACE_ROWS 16384	/* --count-by rows */
#define TRACE_STEPS 4		/* a member path's reads (pointers followed + the last) */
#define TRACE_SERVES_LEN 160	/* trace_serves: "metrics:" and a metric's name, NUL */

enum trace_fkind {
	TRACE_F_INT,		/* integer at @off in the record, @size bytes */
	TRACE_F_STR,		/* char[@size] at @off */
	TRACE_F_DLOC,		/* __data_loc char[]: u32 at @off, (len << 16 | offset) */
	TRACE_F_COMM,		/* the current task's comm */
	TRACE_F_PID,		/* the current thread group id */
	TRACE_F_TID,		/* the current thread id */
	TRACE_F_ARG,		/* uprobe: argument @off (0-5) from the registers */
	TRACE_F_RET,		/* uretprobe: the return value */
	TRACE_F_USTR,		/* uprobe: the user string argument @off (0-5; 6: the return
				 * value) points to */
	TRACE_F_UARG,		/* USDT: argument @off (0-11), bpf_usdt_arg() */
	TRACE_F_USDTSTR,	/* USDT: the user string argument @off points to */
	TRACE_F_KPATH,		/* raw tracepoint: an integer reached from argument @off
				 * (0-5) through trace_conf.path[] (its field's index) */
	TRACE_F_KSTR,		/* raw tracepoint: a kernel string reached the same way */
};

/* Whether a field of @kind is a number (else a string). */
static inline int trace_num(__u32 kind)
{
	return kind == TRACE_F_INT || (kind >= TRACE_F_PID && kind <= TRACE_F_RET) ||
	       kind == TRACE_F_UARG || kind == TRACE_F_KPATH;
}

struct trace_field {
	__u16 off;		/* bytes into the record; TRACE_F_ARG: the argument's index */
	__u8 size;		/* bytes: an integer's width, a string's kept length */
	__u8 kind;		/* enum trace_fkind */
	__u8 is_signed;
	__u8 pad[3];
};

enum trace_opcode { TRACE_OP_INT, TRACE_OP_STR, TRACE_OP_AND, TRACE_OP_OR, TRACE_OP_NOT };
enum trace_cmp { TRACE_EQ, TRACE_NE, TRACE_LT, TRACE_LE, TRACE_GT, TRACE_GE };

/* One step of the filter, evaluated in order over a stack of booleans (bits of a u64):
 * a comparison pushes its result, AND and OR pop two and push one, NOT flips the top. */
struct trace_op {
	__u8 code;		/* enum trace_opcode */
	__u8 cmp;		/* enum trace_cmp (EQ or NE for strings) */
	__u8 field;		/* index in trace_conf.f */
	__u8 str;		/* TRACE_OP_STR: index in trace_conf.s */
	__u8 truth;		/* the result when field < constant (bit 0), == (bit 1),
				 * > (bit 2); strings: unequal (bit 0), equal (bit 1) */
	__u8 pad[3];
	__s64 val;		/* TRACE_OP_INT: the constant */
};

/* A string constant: the field's 64 bytes (zero padded) match when (field ^ w) & mask is
 * all zero; the mask covers every byte for ==, only the prefix for "abc*". */
struct trace_strc {
	__u64 w[TRACE_STR / 8];
	__u64 mask[TRACE_STR / 8];
};

/* A --count-by part: field @field's first @len bytes go at @off in the key. */
struct trace_kpart {
	__u8 field;
	__u8 off;
	__u8 len;
	__u8 pad;
};

/* A member path from a raw tracepoint's pointer argument x ("prev->mm->owner->pid"): for
 * each step but the last x = *(u64 *)(x + off[i]) (a pointer followed), then the field is
 * read at x + off[n - 1]. Offsets from the kernel's BTF, found in user space. */
struct trace_path {
	__u32 off[TRACE_STEPS];
	__u32 n;		/* 1 to TRACE_STEPS */
};

struct trace_conf {
	__u32 nfields;
	__u32 nops;		/* 0: no filter */
	__u32 nkeys;		/* --count-by parts, 0: none */
	__u32 events;		/* -f: stream each hit */
	__u32 hist;		/* 0: none, 1: log2, 2: linear */
	__u32 hist_field;
	__u64 hist_step;	/* linear: bucket width */
	struct trace_field f[TRACE_FIELDS];
	struct trace_kpart k[TRACE_KEYS];
	__u32 pad;
	struct trace_op ops[TRACE_OPS];
	struct trace_strc s[TRACE_STRS];
	/* ksight run --metrics: a histogram per key (log2, or linear as below). The hist
	 * field's bucket (8 bytes) goes at @hkey_off in the key after the parts, and the row
	 * counts 1; the same key with bucket TRACE_HSUM adds the value (the sum, two's
	 * complement). */
	__u32 hkey;
	__u32 hkey_off;
	/* linear (hist 2): slot 0 holds values below @hist_lo (signed when the field is),
	 * slot i [lo + (i-1)*step, lo + i*step), slot @hist_top everything above; ksight
	 * trace --linear: lo 0, top TRACE_HSLOTS, one slot less (its slot 0 is [0, step)) */
	__s64 hist_lo;
	__u64 hist_top;
	/* TRACE_F_KPATH, TRACE_F_KSTR: field i's path */
	struct trace_path path[TRACE_FIELDS];
};

#define TRACE_HSUM 64		/* hkey: the bucket of the sum row */

/* What a hit read, per CPU: integers sign- or zero-extended, strings zero padded. */
struct trace_vals {
	__u64 num[TRACE_FIELDS];
	char str[TRACE_FIELDS][TRACE_STR];
};

/* trace_total's slots */
#define TRACE_TOT_HITS 0	/* hits of tasks passing -p/-n/... */
#define TRACE_TOT_MATCH 1	/* of which the filter kept (counted only with a filter) */

struct trace_rec {
	struct ks_hdr h;
	struct trace_vals v;
};

#endif
