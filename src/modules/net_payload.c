// SPDX-License-Identifier: GPL-2.0
/*
 * --payload: the kernel keeps the first bytes of the last NET_PAYLOAD_SLOTS packets with
 * --port at one end in net_payload, a ring indexed by each capture's number. Each report
 * shows the captures made since the previous one, oldest first, and says how many were
 * overwritten before it could (more than the ring holds arrived in one interval).
 *
 * The bytes are shown twice: as hex (exact, in JSON too) and as display text (printable
 * ASCII as it is, other bytes escaped as \n, \t, \r, \\ or \xNN).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ident.h"
#include "modules/net_int.h"
#include "net.skel.h"

void net_hex(const uint8_t *p, size_t n, char *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < len; i++) {
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	if (len)
		out[o] = 0;
}

void net_text(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char esc[5];
		size_t k;

		if (p[i] == '\\')
			k = snprintf(esc, sizeof(esc), "\\\\");
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			k = snprintf(esc, sizeof(esc), "%c", p[i]);
		else if (p[i] == '\n')
			k = snprintf(esc, sizeof(esc), "\\n");
		else if (p[i] == '\r')
			k = snprintf(esc, sizeof(esc), "\\r");
		else if (p[i] == '\t')
			k = snprintf(esc, sizeof(esc), "\\t");
		else
			k = snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		if (o + k >= len)
			break;
		memcpy(out + o, esc, k);
		o += k;
	}
	if (len)
		out[o] = 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct net_cap *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void emit_cap(struct ks_ctx *ctx, const struct net_state *st, const struct net_cap *c)
{
	static char hex[2 * NET_PAYLOAD_MAX + 1], text[4 * NET_PAYLOAD_MAX + 1];
	static char src[64], dst[64], wbuf[64];
	const char *dir = c->dir == NET_DIR_OUT ? "out" : "in";
	const char *proto = net_proto_name(c->proto), *fam = net_family_name(c->family);
	const char *w;
	struct ks_rec r;
	uint32_t n = c->cap <= NET_PAYLOAD_MAX ? c->cap : NET_PAYLOAD_MAX;

	if (c->via == NET_VIA_IFACE) {
		w = net_iface_name(st, c->id, wbuf, sizeof(wbuf));
	} else {
		w = ks_ident__cgroup_path(ks_ctx_ident(ctx), c->id);
		if (!w) {
			snprintf(wbuf, sizeof(wbuf), "cgroup:%llu", (unsigned long long)c->id);
			w = wbuf;
		}
	}
	net_hex(c->data, n, hex, sizeof(hex));
	net_text(c->data, n, text, sizeof(text));
	net_addr_str(c->family, c->saddr, src, sizeof(src));
	net_addr_str(c->family, c->daddr, dst, sizeof(dst));
	ks_rec_init(&r, "net_payload", NULL);
	r.real_ns = ks_ctx_real(ctx, c->ts);
	ks_rec_uint(&r, "seq", "SEQ", 6, c->seq);
	ks_rec_str(&r, "where", "WHERE", -12, w, strlen(w));
	ks_rec_str(&r, "dir", "DIR", -3, dir, strlen(dir));
	ks_rec_str(&r, "family", NULL, 0, fam, strlen(fam));
	ks_rec_str(&r, "proto", "PROTO", -5, proto, strlen(proto));
	ks_rec_str(&r, "saddr", "SADDR", -15, src, strlen(src));
	ks_rec_uint(&r, "sport", "SPORT", 5, c->sport);
	ks_rec_str(&r, "daddr", "DADDR", -15, dst, strlen(dst));
	ks_rec_uint(&r, "dport", "DPORT", 5, c->dport);
	ks_rec_uint(&r, "len", "LEN", 5, c->len);
	ks_rec_uint(&r, "captured", "CAP", 3, n);
	ks_rec_str(&r, "hex", "HEX", -2 * (int)st->payload, hex, strlen(hex));
	ks_rec_str(&r, "text", "TEXT", 0, text, strlen(text));
	ks_emit(ctx, &r);
}

void net_payload_report(struct ks_ctx *ctx, struct net_state *st, struct net_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.net_payload);
	struct net_cap *caps = calloc(NET_PAYLOAD_SLOTS, sizeof(*caps));
	uint32_t zero = 0;
	uint64_t last = st->payload_seen, newest = last;
	size_t n = 0;
	struct {
		uint32_t lock;
		uint32_t pad;
		uint64_t seq;
	} sq = { 0 };

	if (!caps)
		return;
	/* the counter first: a capture numbered up to it but not yet finished shows next time */
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.net_payload_seq), &zero, &sq))
		newest = sq.seq;
	for (uint32_t i = 0; i < NET_PAYLOAD_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, &caps[n]))
			continue;
		if (caps[n].seq > last && caps[n].seq <= newest)
			n++;
	}
	qsort(caps, n, sizeof(*caps), by_seq);
	for (size_t i = 0; i < n; i++)
		emit_cap(ctx, st, &caps[i]);
	ks_ctx_aggregated(ctx, NET_EV_PAYLOAD, newest);
	if (newest - last > n) {
		struct ks_rec r;

		ks_rec_init(&r, "net_payload_overwritten", NULL);
		ks_rec_add(&r, "captures", "captures overwritten before shown", 0, KS_V_COUNT)->u =
			newest - last - n;
		ks_emit(ctx, &r);
	}
	/* a capture still being written (seq 0 in its slot) counts as overwritten: rare */
	st->payload_seen = newest;
	free(caps);
}
