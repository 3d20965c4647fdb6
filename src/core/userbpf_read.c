// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf: a user map's entries into the registry, once an interval. The kernel's
 * numbers are cumulative: counters and histograms mirror them, gauges take them as they
 * are. Per-CPU values are summed over the CPUs. An array map's entries that are all zero
 * are left out (an array has every index from the start); a hash map's all count.
 */
#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "core/userbpf_int.h"

#define UB_ARRAY_MAX 65536	/* array entries read an interval */

static struct ks_series *series_of(struct ub_map *um, struct ub_out *o, const void *key)
{
	char vals[KS_LABELS_MAX][256];
	const char *v[KS_LABELS_MAX];
	size_t len[KS_LABELS_MAX];

	for (int i = 0; i < um->nkeys; i++) {
		ub_label(&um->keys[i], key, vals[i], sizeof(vals[i]));
		v[i] = vals[i];
		len[i] = strlen(vals[i]);
	}
	return ks_metric_getn(o->m, um->nkeys ? v : NULL, len);
}

/* The sum over @ncpu copies (@stride bytes apart) of the integer @f. */
static uint64_t sum_int(const struct ub_field *f, const char *val, int ncpu, size_t stride)
{
	uint64_t s = 0;

	for (int c = 0; c < ncpu; c++)
		s += ub_int(f, val + c * stride);
	return s;
}

/* Mirror a histogram kept in the kernel: slots summed over CPUs, its count, and its sum
 * (the sum member, else the slots' lower bounds: 0 for slot 0, 2^i for slot i). */
static void hist_set(struct ks_series *s, const struct ub_out *o, const uint64_t *slots, int n,
		     const char *val, int ncpu, size_t stride)
{
	uint64_t count = 0;
	double sum = 0;

	memset(s->h->slots, 0, sizeof(s->h->slots));
	for (int i = 0; i < n && i < KS_HIST_SLOTS; i++) {
		s->h->slots[i] = slots[i];
		count += slots[i];
		if (i)
			sum += (double)slots[i] * (double)(1ULL << i);
	}
	if (o->sum >= 0 && val)
		sum = (double)sum_int(&o->sumf, val, ncpu, stride);
	s->h->count = count;
	s->h->sum = sum;
}

/* The slots of histogram @o in @val, summed over the CPUs, into @slots; returns how many. */
static int hist_slots(const struct ub_out *o, const char *val, int ncpu, size_t stride,
		      uint64_t *slots)
{
	int n = o->f.nelem < KS_HIST_SLOTS ? o->f.nelem : KS_HIST_SLOTS;

	for (int k = 0; k < n; k++) {
		struct ub_field e = { .kind = UB_INT, .off = o->f.off + k * o->f.elem,
				      .size = o->f.elem };

		slots[k] = sum_int(&e, val, ncpu, stride);
	}
	return n;
}

static void overflow_add(struct ub_out *o, const char *val, int ncpu, size_t stride)
{
	o->ov_used = true;
	if (o->d.type == KS_METRIC_HIST) {
		uint64_t slots[KS_HIST_SLOTS] = { 0 };
		int n = hist_slots(o, val, ncpu, stride, slots);
		double lower = 0;

		for (int i = 0; i < n; i++) {
			o->ovh.slots[i] += slots[i];
			o->ovh.count += slots[i];
			if (i)
				lower += (double)slots[i] * (double)(1ULL << i);
		}
		o->ovh.sum += o->sum >= 0 ? (double)sum_int(&o->sumf, val, ncpu, stride) : lower;
		return;
	}
	uint64_t v = sum_int(&o->f, val, ncpu, stride);

	o->ov += o->d.type == KS_METRIC_GAUGE && o->f.sign ? (double)(int64_t)v : (double)v;
}

/* After a walk: the overflow series take the sums of what did not fit. */
static void overflow_set(struct ub_map *um)
{
	for (int i = 0; i < um->nouts; i++) {
		struct ub_out *o = &um->outs[i];
		struct ks_series *s;

		if (!o->ov_used || !o->m)
			continue;
		s = &o->m->overflow;
		if (o->d.type == KS_METRIC_HIST)
			*s->h = o->ovh;
		else if (o->d.type == KS_METRIC_GAUGE)
			ks_gauge_set(s, o->ov * o->gscale);
		else
			ks_counter_set(s, (uint64_t)o->ov);
		o->ov_used = false;
		o->ov = 0;
		memset(&o->ovh, 0, sizeof(o->ovh));
	}
}

static void entry(struct ub_map *um, const void *key, const char *val, int ncpu, size_t stride)
{
	for (int i = 0; i < um->nouts; i++) {
		struct ub_out *o = &um->outs[i];
		struct ks_series *s;

		if (!o->m)
			continue;
		s = series_of(um, o, key);
		if (s->overflow) {
			overflow_add(o, val, ncpu, stride);
			continue;
		}
		if (o->d.type == KS_METRIC_HIST) {
			uint64_t slots[KS_HIST_SLOTS] = { 0 };
			int n = hist_slots(o, val, ncpu, stride, slots);

			hist_set(s, o, slots, n, val, ncpu, stride);
		} else if (o->d.type == KS_METRIC_GAUGE) {
			uint64_t v = sum_int(&o->f, val, ncpu, stride);

			ks_gauge_set(s, (o->f.sign ? (double)(int64_t)v : (double)v) * o->gscale);
		} else {
			ks_counter_set(s, sum_int(&o->f, val, ncpu, stride));
		}
	}
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void ub_collect_map(struct ub_map *um, int ncpu)
{
	size_t stride = um->percpu ? (um->value_size + 7) & ~7u : um->value_size;
	int cpus = um->percpu ? ncpu : 1;
	int fd = bpf_map__fd(um->map);
	char *key = calloc(2, um->key_size + 8), *next = key + um->key_size + 8;
	char *val = calloc(1, stride * cpus + 8);

	if (!key || !val || fd < 0)
		goto out;
	if (um->slots_by_key) {
		uint64_t slots[KS_HIST_SLOTS] = { 0 };
		struct ub_out *o = &um->outs[0];
		uint32_t n = um->max_entries < KS_HIST_SLOTS ? um->max_entries : KS_HIST_SLOTS;

		if (!o->m)
			goto out;
		for (uint32_t i = 0; i < n; i++) {
			memset(key, 0, um->key_size);
			memcpy(key, &i, um->key_size < 4 ? um->key_size : 4);
			if (!bpf_map_lookup_elem(fd, key, val))
				slots[i] = sum_int(&o->f, val, cpus, stride);
		}
		hist_set(ks_metric_getn(o->m, NULL, NULL), o, slots, n, NULL, cpus, stride);
		goto out;
	}
	if (bpf_map__type(um->map) == BPF_MAP_TYPE_ARRAY ||
	    bpf_map__type(um->map) == BPF_MAP_TYPE_PERCPU_ARRAY) {
		for (uint32_t i = 0; i < um->max_entries && i < UB_ARRAY_MAX; i++) {
			memset(key, 0, um->key_size);
			memcpy(key, &i, um->key_size < 4 ? um->key_size : 4);
			if (!bpf_map_lookup_elem(fd, key, val) && !all_zero(val, stride * cpus))
				entry(um, key, val, cpus, stride);
		}
		goto out;
	}
	/* a hash map, key by key */
	if (bpf_map_get_next_key(fd, NULL, next))
		goto out;
	for (uint32_t seen = 0; seen <= um->max_entries; seen++) {
		char *t;

		if (!bpf_map_lookup_elem(fd, next, val))
			entry(um, next, val, cpus, stride);
		t = key;
		key = next;
		next = t;
		if (bpf_map_get_next_key(fd, key, next))
			break;
	}
out:
	overflow_set(um);
	free(key < next ? key : next);
	free(val);
}
