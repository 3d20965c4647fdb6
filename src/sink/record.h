/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A record is what a module hands to the sinks: a type, a kind, a time, the task it
 * concerns and a list of typed values. Modules never format text themselves; each sink
 * decides how a value looks (the table shows human units, JSON base numbers). Records
 * live on the stack and point into the event they were decoded from, so they are valid
 * only during the emit call.
 *
 * A record holds KS_REC_MAX values; a list that may be longer (per-type counts, top lists)
 * is a nested object (KS_V_OBJ) whose storage the caller sizes. A value past either
 * capacity is never dropped silently: it is counted in the record or object ("dropped"),
 * every sink shows the count, and the core counts it in the metrics registry.
 */
#ifndef KSIGHT_RECORD_H
#define KSIGHT_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

enum ks_kind {
	KS_V_INT,	/* i */
	KS_V_UINT,	/* u */
	KS_V_HEX,	/* u, shown 0x... in tables */
	KS_V_OCT,	/* u, shown 0... in tables (modes) */
	KS_V_DOUBLE,	/* d */
	KS_V_BOOL,	/* u != 0 */
	KS_V_STR,	/* s: text ksight wrote itself */
	KS_V_KSTR,	/* s: bytes from the kernel, escaped on output, ends at n or NUL;
			 * p NULL: unknown (JSON null, nothing in tables) */
	KS_V_ARGV,	/* s: kernel strings separated by NUL (none after the last, see
			 * core/argv.h); a JSON array, space-joined in tables */
	KS_V_ERRNO,	/* i: positive errno, shown by name (ENOENT) */
	KS_V_NS,	/* u: a duration in ns, shown scaled in tables ("1.2ms") */
	KS_V_HIST,	/* h: a log2 histogram */
	KS_V_COUNT,	/* u: a count; tables shorten long ones ("12.3k", "4.56M") */
	KS_V_RATE,	/* d: per second; tables "540/s", "12.3k/s" */
	KS_V_BYTES,	/* u: bytes; tables in IEC units ("28.8 MiB") */
	KS_V_BYTE_RATE,	/* d: bytes per second; tables "28.8 MiB/s" */
	KS_V_OBJ,	/* o: a nested object; tables show "key value, key value" */
};

/*
 * What a record is, so that each sink can take only some kinds (sink.h). The default from
 * ks_rec_init: a record about a task is an event, any other a report.
 */
enum ks_rec_kind {
	KS_K_EVENT,	/* one thing that happened (streamed) */
	KS_K_REPORT,	/* a tool's table or histogram (each interval, at the end) */
	KS_K_SUMMARY,	/* the agent's per-interval lines, and its interval stats */
	KS_K_STATS,	/* the final loss accounting */
	KS_K_META,	/* the session itself ("ready") */
	KS_K_N,
};

struct ks_histv {
	const __u64 *slots;
	unsigned int nslots;
	const char *unit;	/* "usecs", "msecs" */
	double unit_ns;		/* ns per unit, for percentiles shown as durations; 0: not a
				 * time (sizes): percentiles as numbers in @unit */
};

struct ks_val {
	const char *key;	/* JSON key; NULL: table only */
	const char *col;	/* table column header; NULL: JSON only */
	int16_t width;		/* table width: > 0 right-aligned, < 0 left, 0: free (last) */
	uint8_t kind;		/* enum ks_kind */
	uint8_t cut;		/* KSTR/ARGV: the kernel cut it; tables add "..." */
	uint8_t kkey;		/* the key is kernel bytes (a comm in a top list): JSON
				 * writes it exactly, tables in display form */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const char *p;
			uint32_t n;
		} s;
		const struct ks_histv *h;
		const struct ks_obj *o;
	};
};

/* A nested object's values, in storage the caller provides (see ks_obj_init). */
struct ks_obj {
	struct ks_val *v;
	uint16_t n, cap;
	uint16_t dropped;	/* values past cap: counted and shown, never silent */
};

#define KS_REC_MAX 32

enum ks_rec_style {
	KS_REC_ROW,	/* a table row under a column header */
	KS_REC_LINE,	/* one line: the type, then "col value" pairs (summaries) */
	KS_REC_BLOCK,	/* multi-line (histograms): label lines then the values */
};

struct ks_rec {
	const char *type;	/* JSON "type" */
	const char *group;	/* rows of one table share a header; NULL: the type */
	int64_t real_ns;	/* wall time; 0: now */
	const struct ks_hdr *hdr;	/* the task, or NULL when the record is not about one */
	const char *service;	/* filled in by the core from hdr */
	uint8_t style;		/* enum ks_rec_style */
	uint8_t kind;		/* enum ks_rec_kind */
	uint8_t n;
	uint16_t dropped;	/* values past KS_REC_MAX: counted and shown, never silent */
	struct ks_val v[KS_REC_MAX];
};

static inline void ks_rec_init(struct ks_rec *r, const char *type, const struct ks_hdr *hdr)
{
	r->type = type;
	r->group = NULL;
	r->real_ns = 0;
	r->hdr = hdr;
	r->service = 0;
	r->style = KS_REC_ROW;
	r->kind = hdr ? KS_K_EVENT : KS_K_REPORT;
	r->n = 0;
	r->dropped = 0;
}

/* The slot a value past a capacity is written to, and forgotten (the owner counts it). */
extern __thread struct ks_val ks_val_scratch;

static inline struct ks_val *ks_val_set(struct ks_val *v, const char *key, const char *col,
					int width, enum ks_kind kind)
{
	v->key = key;
	v->col = col;
	v->width = width;
	v->kind = kind;
	v->cut = 0;
	v->kkey = 0;
	return v;
}

/*
 * Append a value and return it for the caller to fill. Never NULL: past KS_REC_MAX the
 * value goes to a scratch slot and r->dropped counts it.
 */
static inline struct ks_val *ks_rec_add(struct ks_rec *r, const char *key, const char *col,
					int width, enum ks_kind kind)
{
	struct ks_val *v;

	if (r->n < KS_REC_MAX) {
		v = &r->v[r->n++];
	} else {
		v = &ks_val_scratch;
		r->dropped++;
	}
	return ks_val_set(v, key, col, width, kind);
}

/* An empty nested object over @storage[0..cap). */
static inline void ks_obj_init(struct ks_obj *o, struct ks_val *storage, uint16_t cap)
{
	o->v = storage;
	o->n = 0;
	o->cap = cap;
	o->dropped = 0;
}

/* Append a value to a nested object, as ks_rec_add (past cap: o->dropped counts it). */
static inline struct ks_val *ks_obj_add(struct ks_obj *o, const char *key, const char *col,
					int width, enum ks_kind kind)
{
	struct ks_val *v;

	if (o->n < o->cap) {
		v = &o->v[o->n++];
	} else {
		v = &ks_val_scratch;
		o->dropped++;
	}
	return ks_val_set(v, key, col, width, kind);
}

/* Add @o (filled or to be filled before the emit) as the value @key / @col. */
static inline void ks_rec_obj(struct ks_rec *r, const char *key, const char *col,
			      const struct ks_obj *o)
{
	ks_rec_add(r, key, col, 0, KS_V_OBJ)->o = o;
}

/* A rate: @n per @secs seconds (0 when @secs is not positive). */
static inline void ks_rec_rate(struct ks_rec *r, const char *key, const char *col, uint64_t n,
			       double secs)
{
	ks_rec_add(r, key, col, 0, KS_V_RATE)->d = secs > 0 ? n / secs : 0;
}

/*
 * Start an agent summary line: type "summary", kind KS_K_SUMMARY, one line in tables that
 * begins with the module's name (JSON: "module").
 */
static inline void ks_rec_summary(struct ks_rec *r, const char *module)
{
	ks_rec_init(r, "summary", NULL);
	r->kind = KS_K_SUMMARY;
	r->style = KS_REC_LINE;
	ks_rec_add(r, "module", "", -8, KS_V_STR)->s.p = module;
	r->v[0].s.n = strlen(module);
}

static inline void ks_rec_int(struct ks_rec *r, const char *key, const char *col, int w, int64_t x)
{
	ks_rec_add(r, key, col, w, KS_V_INT)->i = x;
}

static inline void ks_rec_uint(struct ks_rec *r, const char *key, const char *col, int w,
			       uint64_t x)
{
	ks_rec_add(r, key, col, w, KS_V_UINT)->u = x;
}

static inline void ks_rec_str(struct ks_rec *r, const char *key, const char *col, int w,
			      const char *s, uint32_t n)
{
	struct ks_val *v = ks_rec_add(r, key, col, w, KS_V_STR);

	v->s.p = s;
	v->s.n = n;
}

static inline void ks_rec_kstr(struct ks_rec *r, const char *key, const char *col, int w,
			       const char *s, uint32_t n, bool cut)
{
	struct ks_val *v = ks_rec_add(r, key, col, w, KS_V_KSTR);

	v->s.p = s;
	v->s.n = n;
	v->cut = cut;
}

#endif
