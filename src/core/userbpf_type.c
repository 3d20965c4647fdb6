// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf: what a user map's BTF says, turned into a plan: the key's labels and
 * the value's metrics with their Prometheus names (docs/userbpf.md has the conventions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/userbpf_int.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* A label or metric name part: [a-zA-Z0-9_] only. */
static void clean(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			*s = '_';
}

/* Padding, not a label: an unnamed member, or one named pad* or _*. */
static bool padding(const char *n)
{
	return !n || !*n || *n == '_' || !strncmp(n, "pad", 3);
}

/* The key's fields: a struct's members (at most KS_LABELS_MAX), or the key itself. */
static int plan_key(struct ub_obj *o, struct ub_map *um, const struct btf *btf, char *why,
		    size_t len)
{
	uint32_t id = bpf_map__btf_key_type_id(um->map);
	const struct btf_type *t = ub_resolve(btf, &id);

	if (!t) {
		snprintf(why, len, "its key has no BTF type");
		return -1;
	}
	if (btf_is_struct(t)) {
		const struct btf_member *mb = btf_members(t);
		int labels = 0;

		for (int i = 0; i < btf_vlen(t); i++)
			labels += !padding(btf__name_by_offset(btf, mb[i].name_off));
		if (labels > KS_LABELS_MAX) {
			snprintf(why, len, "its key has %d members, labels are at most %d", labels,
				 KS_LABELS_MAX);
			return -1;
		}
		for (int i = 0; i < btf_vlen(t); i++) {
			uint32_t bo = btf_member_bit_offset(t, i), bs = btf_member_bitfield_size(t, i);
			const char *n = btf__name_by_offset(btf, mb[i].name_off);
			struct ub_field *f = &um->keys[um->nkeys];

			if (padding(n))
				continue;
			if (ub_field_of(btf, mb[i].type, n, bs ? (bo / 8) & ~3u : bo / 8,
				     bs ? bo - ((bo / 8) & ~3u) * 8 : 0, bs, f)) {
				snprintf(why, len, "key member %s is not an integer, enum or array "
					 "of integers", n);
				return -1;
			}
			if (bs)
				f->size = 4;
			um->nkeys++;
		}
	} else if (ub_field_of(btf, id, "key", 0, 0, 0, &um->keys[0])) {
		snprintf(why, len, "its key is not an integer, enum, array of integers or struct "
			 "of those");
		return -1;
	} else {
		um->nkeys = 1;
	}
	for (int i = 0; i < um->nkeys; i++) {
		const char *r = ub_manifest_get(&o->man, "map.%s.label.%s", um->name,
						um->keys[i].name);

		if (r)
			snprintf(um->keys[i].name, sizeof(um->keys[i].name), "%s", r);
		clean(um->keys[i].name);
		if (!strcmp(um->keys[i].name, "le") || !strncmp(um->keys[i].name, "__", 2))
			strcat(um->keys[i].name, "_");
	}
	return 0;
}

/* "ksight_" + @a [+ "_" + @b (the first @blen bytes)], cleaned. */
static void metric_base(char *out, size_t len, const char *a, const char *b, int blen)
{
	const char *pre = strncmp(a, "ksight_", 7) ? "ksight_" : "";

	if (b && blen)
		snprintf(out, len, "%s%s_%.*s", pre, a, blen, b);
	else
		snprintf(out, len, "%s%s", pre, a);
	clean(out);
}

/* A time unit at the end of @name (_ns, _us, _ms): cut it, return base units per count. */
static double time_unit(char *name)
{
	static const struct { const char *s; double scale; } u[] = {
		{ "_ns", 1e-9 }, { "_us", 1e-6 }, { "_ms", 1e-3 }, { "_seconds", 1 },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (ends_with(name, u[i].s)) {
			name[strlen(name) - strlen(u[i].s)] = 0;
			return u[i].scale;
		}
	return 0;
}

static struct ub_out *new_out(struct ub_obj *o, struct ub_map *um, const char *what)
{
	struct ub_out *out;
	const char *help = ub_manifest_get(&o->man, "map.%s.help", um->name);
	const char *budget = ub_manifest_get(&o->man, "map.%s.budget", um->name);

	if (um->nouts >= UB_OUTS_MAX)
		return NULL;
	out = &um->outs[um->nouts++];
	memset(out, 0, sizeof(*out));
	out->sum = -1;
	if (help && !strcmp(what, "value"))
		snprintf(out->help, sizeof(out->help), "%s", help);
	else if (help)
		snprintf(out->help, sizeof(out->help), "%s: %s", help, what);
	else
		snprintf(out->help, sizeof(out->help), "%s of %s %s in %s (ksight run --bpf)",
			 what, um->globals ? "global" : "map", um->name, o->stem);
	out->d.help = out->help;
	out->d.name = out->name;
	out->d.budget = budget ? (uint32_t)atol(budget) : 1024;
	for (int i = 0; i < um->nkeys; i++) {
		snprintf(out->labels[i], sizeof(out->labels[i]), "%s", um->keys[i].name);
		out->d.labels[i] = out->labels[i];
	}
	return out;
}

/* A number: a counter ksight_<base>_total, or a gauge ksight_<base> when the name ends in
 * _gauge or the manifest says so; a trailing _ns/_us/_ms becomes _seconds. */
static void plan_number(struct ub_obj *o, struct ub_map *um, const char *member,
			const struct ub_field *f)
{
	const char *type = ub_manifest_get(&o->man, "map.%s.type", um->name);
	const char *base = ub_manifest_get(&o->man, "map.%s.name", um->name);
	struct ub_out *out = new_out(o, um, member ? member : "value");
	bool gauge = type && !strcmp(type, "gauge");
	char name[sizeof(out->name) - 16];	/* room for _seconds_total */
	double scale;

	if (!out)
		return;
	metric_base(name, sizeof(name), base ? base : um->name, member,
		    member ? (int)strlen(member) : 0);
	if (ends_with(name, "_gauge")) {
		gauge = true;
		name[strlen(name) - 6] = 0;
	}
	if (ends_with(name, "_total"))
		name[strlen(name) - 6] = 0;
	scale = time_unit(name);
	out->f = *f;
	if (gauge) {
		out->d.type = KS_METRIC_GAUGE;
		out->gscale = scale ? scale : 1;
		snprintf(out->name, sizeof(out->name), "%s%s", name, scale ? "_seconds" : "");
	} else {
		out->d.type = KS_METRIC_COUNTER;
		if (scale && scale != 1) {
			out->d.unit = "seconds";
			out->d.scale = scale;
		}
		snprintf(out->name, sizeof(out->name), "%s%s_total", name, scale ? "_seconds" : "");
	}
}

/* Make the counter @out a gauge (a member tagged ksight:gauge). */
static void gauge(struct ub_out *out)
{
	size_t n = strlen(out->name);
	double scale = out->d.scale;

	if (out->d.type != KS_METRIC_COUNTER || n < 6)
		return;
	out->name[n - 6] = 0;	/* _total */
	out->d.type = KS_METRIC_GAUGE;
	out->d.unit = NULL;
	out->d.scale = 0;
	out->gscale = scale ? scale : 1;
}

/* A log2 histogram from @f (slots) named ksight_<base>[_<stem>[0..slen)]; _ns/_us/_ms
 * make it seconds, _bytes bytes, else it has no unit. @base NULL: the map's name or the
 * manifest's. */
static struct ub_out *plan_hist(struct ub_obj *o, struct ub_map *um, const char *base,
				const char *stem, int slen, const struct ub_field *f)
{
	const char *mbase = ub_manifest_get(&o->man, "map.%s.name", um->name);
	struct ub_out *out = new_out(o, um, "log2 histogram");
	char name[sizeof(out->name) - 16];	/* room for _seconds_total */
	double scale;

	if (!out)
		return NULL;
	metric_base(name, sizeof(name), mbase ? mbase : base ? base : um->name, stem, slen);
	scale = time_unit(name);
	out->f = *f;
	out->d.type = KS_METRIC_HIST;
	if (scale) {
		out->d.unit = "seconds";
		out->d.scale = scale;
		snprintf(out->name, sizeof(out->name), "%s_seconds", name);
	} else {
		out->d.unit = ends_with(name, "_bytes") ? "bytes" : NULL;
		out->d.scale = 1;
		snprintf(out->name, sizeof(out->name), "%s", name);
	}
	return out;
}

/* Whether member @idx of struct @sid carries __attribute__((btf_decl_tag(@tag))). */
static bool tagged(const struct btf *btf, uint32_t sid, int idx, const char *tag)
{
	uint32_t n = btf__type_cnt(btf);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_decl_tag(t) && t->type == sid && btf_decl_tag(t)->component_idx == idx &&
		    !strcmp(btf__name_by_offset(btf, t->name_off), tag))
			return true;
	}
	return false;
}

static bool int_like(const struct ub_field *f)
{
	return f->kind == UB_INT || f->kind == UB_ENUM;
}

static int plan_value(struct ub_obj *o, struct ub_map *um, const struct btf *btf, char *why,
		      size_t len)
{
	uint32_t id = bpf_map__btf_value_type_id(um->map);
	const struct btf_type *t = ub_resolve(btf, &id);
	enum bpf_map_type mt = bpf_map__type(um->map);
	bool array = mt == BPF_MAP_TYPE_ARRAY || mt == BPF_MAP_TYPE_PERCPU_ARRAY;
	int hs = ub_hist_stem(um->name);
	struct ub_field f;

	if (!t) {
		snprintf(why, len, "its value has no BTF type");
		return -1;
	}
	if (!btf_is_struct(t)) {
		if (ub_field_of(btf, id, "value", 0, 0, 0, &f) || f.kind == UB_STR ||
		    (f.kind == UB_ARR && hs < 0)) {
			snprintf(why, len, "its value is not a number, a struct or a histogram "
				 "(an array named *_log2, *hist or *slots)");
			return -1;
		}
		char stem[UB_NAME];

		snprintf(stem, sizeof(stem), "%.*s", hs > 0 ? hs : (int)strlen(um->name), um->name);
		if (f.kind == UB_ARR) {
			plan_hist(o, um, stem, NULL, 0, &f);	/* each entry a histogram */
		} else if (hs >= 0 && array && um->nkeys == 1 && um->keys[0].kind == UB_INT) {
			/* the map is the histogram: its index is the slot */
			um->slots_by_key = true;
			um->nkeys = 0;
			if (!plan_hist(o, um, stem, NULL, 0, &f))
				return -1;
		} else {
			plan_number(o, um, NULL, &f);
		}
		return 0;
	}
	/* a struct: each number a metric, each array named as a histogram one, its sum the
	 * member <stem>_sum (or sum) */
	const struct btf_member *mb = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++) {
		uint32_t bo = btf_member_bit_offset(t, i), bs = btf_member_bitfield_size(t, i);
		const char *n = btf__name_by_offset(btf, mb[i].name_off);
		int k = n ? ub_hist_stem(n) : -1;

		if (!n || !*n || ub_field_of(btf, mb[i].type, n, bs ? (bo / 8) & ~3u : bo / 8,
					  bs ? bo - ((bo / 8) & ~3u) * 8 : 0, bs, &f))
			continue;	/* nested structs, pointers: nothing to count */
		if (bs)
			f.size = 4;
		if (f.kind == UB_ARR && k < 0 && tagged(btf, id, i, "ksight:log2"))
			k = (int)strlen(n);	/* a histogram by its tag, whatever its name */
		if (f.kind == UB_ARR && k >= 0) {
			plan_hist(o, um, NULL, n, k, &f);
		} else if (int_like(&f)) {
			plan_number(o, um, n, &f);
			if (tagged(btf, id, i, "ksight:gauge"))
				gauge(&um->outs[um->nouts - 1]);
		}
	}
	/* the sums: a number member <stem>_sum or sum belongs to a histogram */
	for (int h = 0; h < um->nouts; h++) {
		struct ub_out *ho = &um->outs[h];
		int k = ub_hist_stem(ho->f.name);
		char want[UB_NAME];

		if (k < 0)
			k = (int)strlen(ho->f.name);	/* tagged ksight:log2 */

		if (ho->d.type != KS_METRIC_HIST)
			continue;
		snprintf(want, sizeof(want), "%.*s_sum", k, ho->f.name);
		for (int j = 0; j < um->nouts; j++) {
			struct ub_out *so = &um->outs[j];

			if (so->d.type == KS_METRIC_HIST ||
			    (strcmp(so->f.name, want) && strcmp(so->f.name, "sum")))
				continue;
			ho->sumf = so->f;
			ho->sum = 0;
			memmove(so, so + 1, (um->nouts - j - 1) * sizeof(*so));
			um->nouts--;
			if (j < h)
				h--;
			break;
		}
	}
	if (!um->nouts) {
		snprintf(why, len, "its value struct has no integer member");
		return -1;
	}
	return 0;
}

int ub_plan_map(struct ub_obj *o, struct ub_map *um, char *why, size_t len)
{
	const struct btf *btf = bpf_object__btf(o->obj);

	if (!btf || !bpf_map__btf_key_type_id(um->map) || !bpf_map__btf_value_type_id(um->map)) {
		snprintf(why, len, "no BTF for its key and value (declare it in SEC(\".maps\") "
			 "with __type(key, ...) and __type(value, ...))");
		return -1;
	}
	if (plan_key(o, um, btf, why, len))
		return -1;
	return plan_value(o, um, btf, why, len);
}

int ub_plan_globals(struct ub_obj *o, struct ub_map *um)
{
	const struct btf *btf = bpf_object__btf(o->obj);
	uint32_t id = bpf_map__btf_value_type_id(um->map);
	const struct btf_type *t = btf && id ? btf__type_by_id(btf, id) : NULL;
	const char *map = um->name;

	if (!t || !btf_is_datasec(t))
		return -1;
	um->globals = true;
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_var_secinfo *vs = &btf_var_secinfos(t)[i];
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		const char *n = v ? btf__name_by_offset(btf, v->name_off) : NULL;
		struct ub_field f;
		int k;

		if (!v || !btf_is_var(v) || !n || !*n || *n == '_' ||
		    ub_field_of(btf, v->type, n, vs->offset, 0, 0, &f))
			continue;
		um->name = n;	/* names come from the variable's */
		k = ub_hist_stem(n);
		if (f.kind == UB_ARR && k >= 0) {
			char stem[UB_NAME];

			snprintf(stem, sizeof(stem), "%.*s", k ? k : (int)strlen(n), n);
			plan_hist(o, um, stem, NULL, 0, &f);
		} else if (int_like(&f)) {
			plan_number(o, um, NULL, &f);
		}
	}
	um->name = map;
	return um->nouts ? 0 : -1;
}
