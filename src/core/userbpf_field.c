// SPDX-License-Identifier: GPL-2.0
/*
 * ksight run --bpf: where a key's or value's pieces lie (from BTF), and how a key's become
 * label values: integers, enums by name, strings, addresses, lists.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/userbpf_int.h"

const struct btf_type *ub_resolve(const struct btf *btf, uint32_t *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* A name marks a log2 histogram when it ends in _log2, hist or slots. Returns the length
 * of its stem (without that suffix and the '_' before it), or -1. */
int ub_hist_stem(const char *name)
{
	static const char *const sfx[] = { "_log2", "hist", "slots" };
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (ends_with(name, sfx[i])) {
			size_t k = n - strlen(sfx[i]);

			while (k && name[k - 1] == '_')
				k--;
			return (int)k;
		}
	}
	return -1;
}

/* @f for type @id at byte @off (bitfield @bit_off/@bits inside it). */
int ub_field_of(const struct btf *btf, uint32_t id, const char *name, uint32_t off,
		    uint32_t bit_off, uint32_t bits, struct ub_field *f)
{
	const struct btf_type *t = ub_resolve(btf, &id), *e;
	uint32_t eid;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->off = off;
	f->bit_off = bit_off;
	f->bits = bits;
	f->btf = btf;
	f->type = id;
	if (!t)
		return -1;
	if (btf_is_int(t)) {
		if (t->size > 8)
			return -1;
		f->kind = UB_INT;
		f->size = t->size;
		f->sign = btf_int_encoding(t) & BTF_INT_SIGNED;
		return 0;
	}
	if (btf_is_enum(t) || btf_is_enum64(t)) {
		f->kind = UB_ENUM;
		f->size = t->size;
		f->sign = btf_kflag(t);
		return 0;
	}
	if (!btf_is_array(t) || bits)
		return -1;
	eid = btf_array(t)->type;
	e = ub_resolve(btf, &eid);
	if (!e || !btf_is_int(e) || e->size > 8 || !e->size)
		return -1;
	f->elem = e->size;
	f->nelem = btf_array(t)->nelems;
	f->size = f->elem * f->nelem;
	f->sign = btf_int_encoding(e) & BTF_INT_SIGNED;
	if (e->size == 1 && ((btf_int_encoding(e) & BTF_INT_CHAR) ||
			     !strcmp(btf__name_by_offset(btf, e->name_off), "char"))) {
		f->kind = UB_STR;
		return 0;
	}
	f->kind = UB_ARR;
	f->addr = e->size == 1 && (f->nelem == 4 || f->nelem == 16) &&
		  (strstr(name, "addr") || strstr(name, "ip"));
	return 0;
}

uint64_t ub_int(const struct ub_field *f, const void *data)
{
	const unsigned char *p = (const unsigned char *)data + f->off;
	uint64_t v = 0;

	memcpy(&v, p, f->size < 8 ? f->size : 8);	/* little-endian hosts */
	if (f->bits) {
		v >>= f->bit_off;
		if (f->bits < 64)
			v &= (1ULL << f->bits) - 1;
		if (f->sign && f->bits < 64 && (v >> (f->bits - 1)) & 1)
			v |= ~0ULL << f->bits;
	} else if (f->sign && f->size < 8 && (v >> (f->size * 8 - 1)) & 1) {
		v |= ~0ULL << (f->size * 8);
	}
	return v;
}

static void int_text(char *buf, size_t len, uint64_t v, bool sign)
{
	if (sign)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void enum_text(const struct ub_field *f, uint64_t v, char *buf, size_t len)
{
	const struct btf_type *t = btf__type_by_id(f->btf, f->type);
	uint64_t mask = f->size >= 8 ? ~0ULL : (1ULL << (f->size * 8)) - 1;

	for (int i = 0; t && i < btf_vlen(t); i++) {
		uint64_t ev;
		uint32_t name;

		if (btf_is_enum(t)) {
			ev = (uint64_t)(int64_t)btf_enum(t)[i].val;
			name = btf_enum(t)[i].name_off;
		} else {
			ev = btf_enum64_value(&btf_enum64(t)[i]);
			name = btf_enum64(t)[i].name_off;
		}
		if ((ev & mask) == (v & mask)) {
			snprintf(buf, len, "%s", btf__name_by_offset(f->btf, name));
			return;
		}
	}
	int_text(buf, len, v, f->sign);
}

void ub_label(const struct ub_field *f, const void *data, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)data + f->off;
	size_t n = 0;

	buf[0] = 0;
	switch (f->kind) {
	case UB_INT:
		int_text(buf, len, ub_int(f, data), f->sign);
		return;
	case UB_ENUM:
		enum_text(f, ub_int(f, data), buf, len);
		return;
	case UB_STR:
		n = strnlen((const char *)p, f->nelem);
		if (n >= len)
			n = len - 1;
		memcpy(buf, p, n);
		buf[n] = 0;
		return;
	case UB_ARR:
		if (f->addr) {
			inet_ntop(f->nelem == 4 ? AF_INET : AF_INET6, p, buf, len);
			return;
		}
		for (uint32_t i = 0; i < f->nelem && n + 24 < len; i++) {
			struct ub_field e = { .kind = UB_INT, .off = i * f->elem, .size = f->elem,
					      .sign = f->sign };

			if (i)
				buf[n++] = ',';
			int_text(buf + n, len - n, ub_int(&e, p), f->sign);
			n += strlen(buf + n);
		}
		return;
	}
}
