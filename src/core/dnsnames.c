// SPDX-License-Identifier: GPL-2.0
/* Address -> DNS name (core/dnsnames.h): a chained hash over a fixed array of entries,
 * with a least-recently-used list for eviction. */
#include "core/dnsnames.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL ((uint32_t)-1)

struct entry {
	uint8_t key[17];	/* family byte (4 or 6) and the address */
	char *name;
	uint64_t until_ns;	/* names connections made before this */
	uint32_t hnext;		/* the bucket's chain */
	uint32_t prev, next;	/* the LRU list: head most recent */
	bool used;
};

struct ks_dnsnames {
	struct entry *e;
	uint32_t *bucket;
	size_t cap, nbuckets, n;
	uint32_t head, tail, nfree;	/* nfree: the next never-used entry */
	struct ks_dnsnames_stats st;
};

static struct ks_dnsnames *agent_table;

struct ks_dnsnames *ks_dnsnames_new(size_t cap)
{
	struct ks_dnsnames *t = calloc(1, sizeof(*t));

	if (!t || !cap)
		goto fail;
	t->cap = cap;
	for (t->nbuckets = 16; t->nbuckets < cap * 2; t->nbuckets <<= 1)
		;
	t->e = calloc(cap, sizeof(*t->e));
	t->bucket = malloc(t->nbuckets * sizeof(*t->bucket));
	if (!t->e || !t->bucket)
		goto fail;
	memset(t->bucket, 0xff, t->nbuckets * sizeof(*t->bucket));
	t->head = t->tail = NIL;
	return t;
fail:
	ks_dnsnames_free(t);
	return NULL;
}

void ks_dnsnames_free(struct ks_dnsnames *t)
{
	if (!t)
		return;
	if (t->e)
		for (size_t i = 0; i < t->cap; i++)
			free(t->e[i].name);
	free(t->e);
	free(t->bucket);
	free(t);
}

static uint32_t hash(const uint8_t *k)
{
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 17; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ h >> 32);
}

/* @af's address @a as a key; false for another family. */
static bool make_key(uint8_t *k, int af, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(k, 0, 17);
	if (af == AF_INET6 && !memcmp(a, mapped, 12)) {
		af = AF_INET;
		a += 12;
	}
	if (af == AF_INET) {
		k[0] = 4;
		memcpy(k + 1, a, 4);
	} else if (af == AF_INET6) {
		k[0] = 6;
		memcpy(k + 1, a, 16);
	} else {
		return false;
	}
	return true;
}

static uint32_t *slot_of(struct ks_dnsnames *t, const uint8_t *k)
{
	uint32_t *s = &t->bucket[hash(k) & (t->nbuckets - 1)];

	while (*s != NIL && memcmp(t->e[*s].key, k, 17))
		s = &t->e[*s].hnext;
	return s;
}

static void lru_unlink(struct ks_dnsnames *t, uint32_t i)
{
	struct entry *x = &t->e[i];

	if (x->prev != NIL)
		t->e[x->prev].next = x->next;
	else
		t->head = x->next;
	if (x->next != NIL)
		t->e[x->next].prev = x->prev;
	else
		t->tail = x->prev;
}

static void lru_front(struct ks_dnsnames *t, uint32_t i)
{
	struct entry *x = &t->e[i];

	x->prev = NIL;
	x->next = t->head;
	if (t->head != NIL)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

/* A free entry: a never-used one, else the least recently used one, evicted. */
static uint32_t take(struct ks_dnsnames *t)
{
	uint32_t i;
	uint32_t *s;

	if (t->nfree < t->cap) {
		t->n++;
		return t->nfree++;
	}
	i = t->tail;
	lru_unlink(t, i);
	s = slot_of(t, t->e[i].key);
	*s = t->e[i].hnext;
	free(t->e[i].name);
	t->e[i].name = NULL;
	t->st.evicted++;
	return i;
}

int ks_dnsnames_put(struct ks_dnsnames *t, const char *addr, const char *name,
		    uint32_t ttl_s, uint64_t now_ns)
{
	uint8_t a[16], k[17];
	uint64_t ttl = (uint64_t)ttl_s * 1000000000ULL;
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	uint32_t *s, i;
	char *dup;

	if (!name || !*name || inet_pton(af, addr, a) != 1 || !make_key(k, af, a))
		return -EINVAL;
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	s = slot_of(t, k);
	if (*s != NIL) {
		i = *s;
		lru_unlink(t, i);
		free(t->e[i].name);
	} else {
		i = take(t);
		s = slot_of(t, k);	/* the eviction may have changed the chain */
		memcpy(t->e[i].key, k, 17);
		t->e[i].hnext = NIL;
		*s = i;
	}
	t->e[i].name = dup;
	t->e[i].until_ns = now_ns + (ttl > KS_DNSNAMES_FLOOR_NS ? ttl : KS_DNSNAMES_FLOOR_NS);
	t->e[i].used = true;
	lru_front(t, i);
	t->st.added++;
	return 0;
}

const char *ks_dnsnames_get(struct ks_dnsnames *t, int af, const void *addr, uint64_t at_ns)
{
	uint8_t k[17];
	uint32_t *s;

	if (!t || !t->n || !make_key(k, af, addr))
		return NULL;
	s = slot_of(t, k);
	if (*s == NIL)
		return NULL;
	lru_unlink(t, *s);
	lru_front(t, *s);
	return at_ns <= t->e[*s].until_ns ? t->e[*s].name : NULL;
}

void ks_dnsnames_stats(const struct ks_dnsnames *t, struct ks_dnsnames_stats *s)
{
	*s = t->st;
	s->entries = t->n;
}

struct ks_dnsnames *ks_dnsnames_agent(void)
{
	return agent_table;
}

struct ks_dnsnames *ks_dnsnames_agent_make(size_t cap)
{
	if (!agent_table)
		agent_table = ks_dnsnames_new(cap);
	return agent_table;
}

void ks_dnsnames_agent_free(void)
{
	ks_dnsnames_free(agent_table);
	agent_table = NULL;
}
