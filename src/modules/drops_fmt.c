// SPDX-License-Identifier: GPL-2.0
#include "modules/drops_fmt.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "SKB_DROP_REASON_"

/* The enum's @i-th name and value (ENUM or ENUM64). */
static const char *enum_entry(const struct btf *btf, const struct btf_type *t, int i,
			      uint64_t *v)
{
	if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t) + i;

		*v = btf_enum64_value(e);
		return btf__name_by_offset(btf, e->name_off);
	}
	*v = (uint32_t)btf_enum(t)[i].val;
	return btf__name_by_offset(btf, btf_enum(t)[i].name_off);
}

static const struct btf_type *find_enum(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);

	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	return id < 0 ? NULL : btf__type_by_id(btf, id);
}

/* "SKB_DROP_REASON_NO_SOCKET" -> "NO_SOCKET", "SKB_CONSUMED" -> "CONSUMED". */
static const char *short_name(const char *s)
{
	if (!strncmp(s, PREFIX, strlen(PREFIX)))
		return s + strlen(PREFIX);
	if (!strncmp(s, "SKB_", 4))
		return s + 4;
	return s;
}

/* The name of @s after @strip (else after the usual prefixes), or NULL for a marker in
 * @skip. */
static const char *entry_name(const char *s, const char *strip, const char *const *skip)
{
	if (!s)
		return NULL;
	if (!strncmp(s, strip, strlen(strip)))
		s += strlen(strip);
	else
		s = short_name(s);
	for (int k = 0; skip[k]; k++)
		if (!strcmp(s, skip[k]))
			return NULL;
	return s;
}

/* Fill @names[0..*n) by value from enum @ename, each name after @strip; values from @max
 * on and the markers in @skip are left out. */
static int load_enum(const struct btf *btf, const char *ename, const char *strip, uint64_t max,
		     const char *const *skip, char ***names, uint32_t *n)
{
	const struct btf_type *t = find_enum(btf, ename);
	uint64_t v, top = 0;
	int vlen;

	*names = NULL;
	*n = 0;
	if (!t)
		return 0;
	vlen = btf_vlen(t);
	for (int i = 0; i < vlen; i++) {
		const char *s = entry_name(enum_entry(btf, t, i, &v), strip, skip);

		if (s && v < max && v + 1 > top)
			top = v + 1;
	}
	*names = calloc(top ? top : 1, sizeof(**names));
	if (!*names)
		return -ENOMEM;
	*n = top;
	for (int i = 0; i < vlen; i++) {
		const char *s = entry_name(enum_entry(btf, t, i, &v), strip, skip);

		if (!s || v >= max || (*names)[v])
			continue;
		(*names)[v] = strdup(s);
		if (!(*names)[v])
			return -ENOMEM;
	}
	return 0;
}

int drops_reasons_load(struct drops_reasons *r, const struct btf *btf)
{
	static const char *const skip[] = { "MAX", "SUBSYS_MASK", NULL };
	static const char *const skip_subsys[] = { "NUM", NULL };
	int err;

	memset(r, 0, sizeof(*r));
	if (!btf || !find_enum(btf, "skb_drop_reason"))
		return 0;
	r->known = true;
	err = load_enum(btf, "skb_drop_reason", PREFIX, 1u << DROPS_SUBSYS_SHIFT, skip, &r->name,
			&r->n);
	if (!err)
		err = load_enum(btf, "skb_drop_reason_subsys", PREFIX "SUBSYS_", 1u << 16,
				skip_subsys, &r->subsys, &r->nsubsys);
	if (err)
		drops_reasons_free(r);
	return err;
}

static void free_names(char **names, uint32_t n)
{
	for (uint32_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

void drops_reasons_free(struct drops_reasons *r)
{
	if (!r)
		return;
	free_names(r->name, r->n);
	free_names(r->subsys, r->nsubsys);
	memset(r, 0, sizeof(*r));
}

const char *drops_reason_name(const struct drops_reasons *r, uint32_t v, char *buf, size_t len)
{
	uint32_t sub = v >> DROPS_SUBSYS_SHIFT, code = v & ((1u << DROPS_SUBSYS_SHIFT) - 1);

	if (v == DROPS_REASON_UNKNOWN)
		return "unknown";
	if (!sub && v < r->n && r->name[v])
		return r->name[v];
	if (sub && sub < r->nsubsys && r->subsys[sub])
		snprintf(buf, len, "%s/%u", r->subsys[sub], code);
	else
		snprintf(buf, len, "reason_%u", v);
	return buf;
}

int drops_reason_value(const struct drops_reasons *r, const char *name, uint32_t *v)
{
	const char *s = name;

	if (!strncasecmp(s, PREFIX, strlen(PREFIX)))
		s += strlen(PREFIX);
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->name[i] && !strcasecmp(r->name[i], s)) {
			*v = i;
			return 0;
		}
	}
	return -ENOENT;
}

const char *drops_proto_name(uint16_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 0:
		return "-";
	case 0x0800:
		return "IPv4";
	case 0x86dd:
		return "IPv6";
	case 0x0806:
		return "ARP";
	case 0x8100:
		return "802.1Q";
	case 0x88cc:
		return "LLDP";
	}
	snprintf(buf, len, "0x%04x", proto);
	return buf;
}

const char *drops_l4_name(uint8_t l4, char *buf, size_t len)
{
	switch (l4) {
	case 0:
		return "";
	case 1:
		return "ICMP";
	case 2:
		return "IGMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 47:
		return "GRE";
	case 50:
		return "ESP";
	case 58:
		return "ICMPv6";
	case 132:
		return "SCTP";
	case 136:
		return "UDPLite";
	}
	snprintf(buf, len, "%u", l4);
	return buf;
}

int drops_row_cmp_key(const void *a, const void *b)
{
	return memcmp(&((const struct drops_row *)a)->k, &((const struct drops_row *)b)->k,
		      sizeof(struct drops_key));
}

int drops_row_cmp_count(const void *a, const void *b)
{
	const struct drops_row *x = a, *y = b;

	if (x->v.count != y->v.count)
		return x->v.count > y->v.count ? -1 : 1;
	if (x->v.bytes != y->v.bytes)
		return x->v.bytes > y->v.bytes ? -1 : 1;
	return drops_row_cmp_key(a, b);
}

size_t drops_rows_delta(const struct drops_row *cur, size_t n, const struct drops_row *prev,
			size_t np, struct drops_row *out)
{
	size_t j = 0, nd = 0;

	for (size_t i = 0; i < n; i++) {
		struct drops_row d = cur[i];
		int c = 1;

		while (j < np && (c = drops_row_cmp_key(&prev[j], &cur[i])) < 0)
			j++;
		if (j < np && !c) {
			d.v.count -= prev[j].v.count < d.v.count ? prev[j].v.count : d.v.count;
			d.v.bytes -= prev[j].v.bytes < d.v.bytes ? prev[j].v.bytes : d.v.bytes;
		}
		if (d.v.count)
			out[nd++] = d;
	}
	return nd;
}
