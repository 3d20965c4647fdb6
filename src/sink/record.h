/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A record is what a module hands to the sinks: a type, a time, the task it concerns and a
 * list of typed values. Modules never format text themselves; the table and JSON sinks
 * decide how a value looks. Records live on the stack and point into the event they were
 * decoded from, so they are valid only during the emit call.
 */
#ifndef KSIGHT_RECORD_H
#define KSIGHT_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

enum ks_kind {
	KS_V_INT,	/* i */
	KS_V_UINT,	/* u */
	KS_V_HEX,	/* u, shown 0x... in tables */
	KS_V_OCT,	/* u, shown 0... in tables (modes) */
	KS_V_DOUBLE,	/* d */
	KS_V_BOOL,	/* u != 0 */
	KS_V_STR,	/* s: text ksight wrote itself */
	KS_V_KSTR,	/* s: bytes from the kernel, escaped on output, ends at n or NUL */
	KS_V_ARGV,	/* s: kernel strings separated by NUL (none after the last, see
			 * core/argv.h); a JSON array, space-joined in tables */
	KS_V_ERRNO,	/* i: positive errno, shown by name (ENOENT) */
	KS_V_NS,	/* u: a duration in ns, shown scaled in tables ("1.2ms") */
	KS_V_HIST,	/* h: a log2 histogram */
};

struct ks_histv {
	const __u64 *slots;
	unsigned int nslots;
	const char *unit;	/* "usecs", "msecs" */
	double unit_ns;		/* ns per unit, for percentiles shown as durations */
};

struct ks_val {
	const char *key;	/* JSON key; NULL: table only */
	const char *col;	/* table column header; NULL: JSON only */
	int16_t width;		/* table width: > 0 right-aligned, < 0 left, 0: free (last) */
	uint8_t kind;		/* enum ks_kind */
	uint8_t cut;		/* KSTR/ARGV: the kernel cut it; tables add "..." */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const char *p;
			uint32_t n;
		} s;
		const struct ks_histv *h;
	};
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
	uint8_t n;
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
	r->n = 0;
}

/* Append a value; extra values beyond KS_REC_MAX land in a scratch slot and are dropped. */
static inline struct ks_val *ks_rec_add(struct ks_rec *r, const char *key, const char *col,
					int width, enum ks_kind kind)
{
	static __thread struct ks_val overflow;
	struct ks_val *v = r->n < KS_REC_MAX ? &r->v[r->n++] : &overflow;

	v->key = key;
	v->col = col;
	v->width = width;
	v->kind = kind;
	v->cut = 0;
	return v;
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
