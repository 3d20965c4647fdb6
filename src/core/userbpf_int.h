/* SPDX-License-Identifier: GPL-2.0 */
/* The insides of ksight run --bpf (userbpf.h): what a map's BTF says and how its entries
 * become series. */
#ifndef KSIGHT_USERBPF_INT_H
#define KSIGHT_USERBPF_INT_H

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/metrics.h"

#define UB_NAME 96
#define UB_MAN_MAX 128
#define UB_OUTS_MAX 32

enum ub_kind {
	UB_INT,		/* an integer (bitfields too) */
	UB_ENUM,	/* an enum: its enumerator's name */
	UB_STR,		/* an array of char: a string up to its first NUL */
	UB_ARR,		/* an array of integers: joined with ',' (IP addresses as such) */
};

/* Where one decoded piece of a key or a value lies. */
struct ub_field {
	char name[UB_NAME];
	enum ub_kind kind;
	uint32_t off;		/* bytes */
	uint32_t bit_off, bits;	/* a bitfield inside the integer at off (bits 0: none) */
	uint32_t size;		/* the integer's bytes, or the whole array's */
	bool sign;
	uint32_t elem, nelem;	/* arrays: element bytes, count */
	bool addr;		/* a u8[4] or u8[16] named *addr* or *ip*: an address */
	const struct btf *btf;	/* enums: their names */
	uint32_t type;
};

/* One metric made from a value: a number (counter or gauge) or a log2 histogram. */
struct ub_out {
	struct ks_metric_desc d;
	char name[160], help[256], labels[KS_LABELS_MAX][UB_NAME];
	struct ub_field f;	/* UB_INT, or UB_ARR for a histogram's slots */
	int sum;		/* histogram: index of its _sum field in sums, -1: none */
	struct ub_field sumf;
	double gscale;		/* gauges: base units per count (1e-9 for ns) */
	struct ks_metric *m;
	/* entries past the metric's budget, summed over one walk of the map into its
	 * overflow series (a mirror of each would keep only the largest) */
	bool ov_used;
	double ov;
	struct ks_hist_vals ovh;
};

struct ub_map {
	struct bpf_map *map;
	const char *name;
	bool percpu;
	bool slots_by_key;	/* an array map that is itself a histogram (index = slot) */
	bool globals;		/* .bss or .data: each integer variable a metric */
	uint32_t key_size, value_size, max_entries;
	int nkeys;
	struct ub_field keys[KS_LABELS_MAX];
	int nouts;
	struct ub_out outs[UB_OUTS_MAX];
};

/* The manifest: key=value lines (docs/userbpf.md). */
struct ub_manifest {
	int n;
	char key[UB_MAN_MAX][128], val[UB_MAN_MAX][160];
};

struct ub_obj {
	const char *spec;	/* as given */
	char path[4096], stem[64], module[80];
	struct ub_manifest man;
	struct bpf_object *obj;
	bool failed;		/* refused at load: said, skipped */
	struct bpf_link **links;
	int nlinks;
	struct ub_map *maps;
	int nmaps;
};

/* ksight run --bpf's objects (userbpf.h). */
struct ks_userbpf {
	struct ub_obj objs[8];
	int n, ncpu;
	struct ks_metric *runs, *run_time;
	struct timespec last;		/* the previous collect: the summaries' interval */
};

/* userbpf_man.c: parse @path. Returns 0, or -1 with one line in @err. */
int ub_manifest_read(const char *path, struct ub_manifest *m, char *err, size_t len);
/* The value of @key ("map.NAME.name"...), or NULL. */
const char *ub_manifest_get(const struct ub_manifest *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Every key names a map of @obj and a known setting; else -1 with one line in @err. */
int ub_manifest_check(const struct ub_manifest *m, struct bpf_object *obj, char *err,
		      size_t len);

/* userbpf_field.c: type @id without its typedefs and modifiers (@id updated), or NULL. */
const struct btf_type *ub_resolve(const struct btf *btf, uint32_t *id);
/* A name marks a log2 histogram when it ends in _log2, hist or slots: the length of its
 * stem (without that suffix and the '_' before it), or -1. */
int ub_hist_stem(const char *name);
/* @f for type @id at byte @off (bitfield @bit_off/@bits inside it): 0, or -1 for a type
 * that is no integer, enum or array of integers. */
int ub_field_of(const struct btf *btf, uint32_t id, const char *name, uint32_t off,
		uint32_t bit_off, uint32_t bits, struct ub_field *f);

/* userbpf_type.c: plan how @um's entries become series: its key's labels and its
 * value's metrics, named per the manifest. Returns 0, or -1 with the reason (one
 * phrase) in @why: the map is then left out with a warning. */
int ub_plan_map(struct ub_obj *o, struct ub_map *um, char *why, size_t len);
/* The integer variables (and histogram arrays) of a .bss or .data map as metrics named
 * after them. Returns 0, or -1 when it has none (the map is then left out quietly). */
int ub_plan_globals(struct ub_obj *o, struct ub_map *um);
/* userbpf_field.c: the label value of @f in @data into @buf. */
void ub_label(const struct ub_field *f, const void *data, char *buf, size_t len);
/* The integer of @f in @data. */
uint64_t ub_int(const struct ub_field *f, const void *data);

/* userbpf_read.c: @um's entries into the registry. */
void ub_collect_map(struct ub_map *um, int ncpu);

#endif
