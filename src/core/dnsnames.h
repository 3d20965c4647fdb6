/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address -> DNS name, from the answers the agent saw (the udp module decodes the DNS
 * responses its processes receive): the name a process asked for, for each A and AAAA
 * address its answer gave (through CNAMEs). The tcp and udp modules name their records'
 * remote ends with it, so the service map's remote nodes carry the name (docs/map.md).
 *
 * Bounded: at most the table's capacity of addresses; a new one past it evicts the least
 * recently used (counted). An entry names connections made until its answer's TTL ends,
 * but at least KS_DNSNAMES_FLOOR_NS after the answer (a 0-TTL answer still names the
 * connection made right after it); it stays in the table after that (a lookup for a
 * connection made within the TTL, closing later, still finds it) until evicted or
 * replaced by a newer answer for the address. Times: ns, the records' clock (monotonic).
 * One reader thread: no locking.
 */
#ifndef KSIGHT_DNSNAMES_H
#define KSIGHT_DNSNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_DNSNAMES_MAX 4096			/* addresses kept in the agent */
#define KS_DNSNAMES_FLOOR_NS 5000000000ULL	/* the shortest TTL honoured: 5 s */

struct ks_dnsnames;

/* A table of at most @cap addresses (>= 1), or NULL (ENOMEM). */
struct ks_dnsnames *ks_dnsnames_new(size_t cap);
void ks_dnsnames_free(struct ks_dnsnames *t);

/* Address @addr (text, IPv4 or IPv6) is @name for @ttl_s seconds from @now_ns. Returns 0,
 * -EINVAL for an address that does not parse or an empty name, -ENOMEM. */
int ks_dnsnames_put(struct ks_dnsnames *t, const char *addr, const char *name,
		    uint32_t ttl_s, uint64_t now_ns);

/*
 * The name of the address @addr (@af AF_INET: 4 bytes, AF_INET6: 16; an IPv4-mapped IPv6
 * address is its IPv4 one) for a connection made at @at_ns: NULL when no answer named it,
 * or its answer's TTL (with the floor) had ended by then. Valid until the next put.
 */
const char *ks_dnsnames_get(struct ks_dnsnames *t, int af, const void *addr, uint64_t at_ns);

struct ks_dnsnames_stats {
	uint64_t entries;	/* addresses held now */
	uint64_t added;		/* answers' addresses put (new or refreshed) */
	uint64_t evicted;	/* entries the budget pushed out */
};
void ks_dnsnames_stats(const struct ks_dnsnames *t, struct ks_dnsnames_stats *s);

/* The agent's table (one per process): made by the module that feeds it (udp, with its
 * DNS capture on), read by those naming remote ends; NULL when nobody feeds one. */
struct ks_dnsnames *ks_dnsnames_agent(void);
/* Make it (idempotent). Returns it, or NULL (ENOMEM). */
struct ks_dnsnames *ks_dnsnames_agent_make(size_t cap);
void ks_dnsnames_agent_free(void);

#endif
