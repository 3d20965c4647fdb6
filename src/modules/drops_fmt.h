/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the drops module reads and names without the kernel (tested in
 * tests/unit/test_drops.c): the drop reasons of the running kernel from its BTF (enum
 * skb_drop_reason: new kernels add reasons and renumber them, so no table is built in),
 * protocol names, and the rows' order and per-interval deltas.
 */
#ifndef KSIGHT_DROPS_FMT_H
#define KSIGHT_DROPS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drops.h"

struct btf;

/* A reason of the core's enum is below this; above, the subsystem is in the high bits. */
#define DROPS_SUBSYS_SHIFT 16

struct drops_reasons {
	bool known;		/* the kernel has enum skb_drop_reason (5.17+) */
	uint32_t n;		/* entries of name[] */
	char **name;		/* by value (< 1 << DROPS_SUBSYS_SHIFT): "NO_SOCKET", or NULL */
	uint32_t nsubsys;
	char **subsys;		/* enum skb_drop_reason_subsys by id: "MAC80211_UNUSABLE" */
};

/*
 * Fill @r from @btf's enum skb_drop_reason (and skb_drop_reason_subsys), the prefixes
 * SKB_DROP_REASON_ and SKB_ taken off; the markers (MAX, SUBSYS_MASK) left out. A @btf
 * without the enum (or NULL) gives an empty table with known false. Returns 0, or -ENOMEM
 * (@r then empty). Free with drops_reasons_free().
 */
int drops_reasons_load(struct drops_reasons *r, const struct btf *btf);
void drops_reasons_free(struct drops_reasons *r);

/*
 * The name of reason @v: its enum name, "unknown" for DROPS_REASON_UNKNOWN, the
 * subsystem and code ("MAC80211_UNUSABLE/3") for a subsystem's reason, else "reason_N".
 * Returns a name in @r or @buf.
 */
const char *drops_reason_name(const struct drops_reasons *r, uint32_t v, char *buf, size_t len);

/* The value of reason @name (any case, with or without SKB_DROP_REASON_). Returns 0, or
 * -ENOENT when this kernel has no such reason. */
int drops_reason_value(const struct drops_reasons *r, const char *name, uint32_t *v);

/* "IPv4", "IPv6", "ARP", or "0x88cc"; "-" for 0. Returns a constant or @buf. */
const char *drops_proto_name(uint16_t proto, char *buf, size_t len);
/* "TCP", "UDP", "ICMP", "ICMPv6", ..., "" for 0 (not read), else the number. */
const char *drops_l4_name(uint8_t l4, char *buf, size_t len);

struct drops_row {
	struct drops_key k;
	struct drops_val v;
};

/* Order by key (for deltas) and by count, then bytes, then key (for reports). */
int drops_row_cmp_key(const void *a, const void *b);
int drops_row_cmp_count(const void *a, const void *b);

/*
 * The counts of @cur (@n rows, sorted by key) since @prev (@np rows, sorted by key): rows
 * that grew, into @out (room for @n). Returns how many.
 */
size_t drops_rows_delta(const struct drops_row *cur, size_t n, const struct drops_row *prev,
			size_t np, struct drops_row *out);

#endif
