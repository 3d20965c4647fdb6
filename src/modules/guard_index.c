// SPDX-License-Identifier: GPL-2.0
/* guard's rule index (guard_index.h): one open-addressing hash table of literal keys
 * (field x form), a list per event kind of the rules no key can find. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "modules/guard_index.h"

/* the fields a key is on, and its forms */
enum { F_PATH, F_EXE, F_COMM, F_N };
enum { K_EXACT, K_LEAF, K_HEAD, K_N };
#define TYPE(f, k) ((f) * K_N + (k))
#define WILD "*?[]\\"

struct slot {
	uint64_t h;		/* FNV-1a of the key */
	const char *s;		/* the key (points into a rule's glob); NULL: empty slot */
	uint32_t len, type;
	uint32_t *ids, n, cap;	/* the rules filed under it, in rule order */
};

struct guard_index {
	const struct guard_rules *rs;
	struct slot *tab;
	size_t mask, used;
	uint32_t present;	/* 1 << TYPE(): the key types some rule has */
	uint32_t *lin[GUARD_K_N];	/* the rules of each kind no key finds, in order */
	size_t nlin[GUARD_K_N];
	uint32_t *cand, *seen, epoch;
	size_t counts[GUARD_IX_N];
};

static uint64_t fnv(const char *s, size_t n)
{
	return guard_fnv(GUARD_FNV_PATH, s, n);
}

static size_t slot_of(const struct guard_index *ix, uint64_t h, uint32_t type)
{
	h ^= (type + 1) * 0x9e3779b97f4a7c15ULL;
	h *= 0xff51afd7ed558ccdULL;
	return (size_t)(h ^ (h >> 29)) & ix->mask;
}

static struct slot *find(struct guard_index *ix, uint64_t h, uint32_t type, const char *s,
			 size_t len)
{
	for (size_t i = slot_of(ix, h, type);; i = (i + 1) & ix->mask) {
		struct slot *e = &ix->tab[i];

		if (!e->s || (e->h == h && e->type == type && e->len == len &&
			      !memcmp(e->s, s, len)))
			return e;
	}
}

static int grow(struct guard_index *ix)
{
	struct slot *old = ix->tab;
	size_t n = ix->tab ? ix->mask + 1 : 0, cap = n ? n * 2 : 64;

	ix->tab = calloc(cap, sizeof(*ix->tab));
	if (!ix->tab) {
		ix->tab = old;
		return -1;
	}
	ix->mask = cap - 1;
	for (size_t i = 0; i < n; i++)
		if (old[i].s)
			*find(ix, old[i].h, old[i].type, old[i].s, old[i].len) = old[i];
	free(old);
	return 0;
}

static int add_key(struct guard_index *ix, uint32_t type, const char *s, size_t len,
		   uint32_t id)
{
	uint64_t h = fnv(s, len);
	struct slot *e;

	if ((ix->used + 1) * 2 > ix->mask + 1 && grow(ix))
		return -1;
	e = find(ix, h, type, s, len);
	if (!e->s) {
		*e = (struct slot){ .h = h, .s = s, .len = len, .type = type };
		ix->used++;
	}
	if (e->n && e->ids[e->n - 1] == id)	/* the same key twice in one rule */
		return 0;
	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 2, *ids = realloc(e->ids, cap * sizeof(*ids));

		if (!ids)
			return -1;
		e->ids = ids;
		e->cap = cap;
	}
	e->ids[e->n++] = id;
	ix->present |= 1U << type;
	return 0;
}

/* The key of glob @g that every string it matches has (fnmatch without flags: '*' also
 * matches '/'): the whole string when @g has no wildcard; else the last component when
 * that is literal (the string ends in "/LEAF"); else the literal directory before the
 * first wildcard (the string starts with "HEAD/"). Returns the form, or -1: none. */
static int glob_key(const char *g, const char **key, size_t *len)
{
	size_t n = strlen(g), wild = strcspn(g, "*?[\\");
	const char *leaf = strrchr(g, '/');

	if (wild == n) {
		*key = g, *len = n;
		return K_EXACT;
	}
	/* no ']' either: a '/' inside brackets is no component boundary */
	if (leaf && leaf[1] && !leaf[1 + strcspn(leaf + 1, WILD)]) {
		*key = leaf + 1, *len = strlen(leaf + 1);
		return K_LEAF;
	}
	while (wild > 0 && g[wild - 1] != '/')
		wild--;
	if (wild <= 1)
		return -1;
	*key = g, *len = wild - 1;
	return K_HEAD;
}

static bool keyed(const struct guard_pats *ps, bool literal)
{
	const char *k;
	size_t len;

	for (int i = 0; i < ps->n; i++) {
		int form = glob_key(ps->v[i], &k, &len);

		if (form < 0 || (literal && form != K_EXACT))
			return false;
	}
	return ps->n > 0;
}

static int file(struct guard_index *ix, const struct guard_pats *ps, int field, uint32_t id)
{
	const char *k;
	size_t len;

	for (int i = 0; i < ps->n; i++) {
		int form = glob_key(ps->v[i], &k, &len);

		if (add_key(ix, TYPE(field, form), k, len, id))
			return -1;
	}
	return 0;
}

static int file_rule(struct guard_index *ix, const struct guard_rule *r, uint32_t id)
{
	const struct guard_cond *w = &r->when;
	uint32_t kinds = r->kinds ? r->kinds : (1U << GUARD_K_N) - 1;

	/* comm is matched whole: a literal comm only (a kworker's has a '/') */
	if (keyed(&w->path, false)) {
		ix->counts[GUARD_IX_PATH]++;
		return file(ix, &w->path, F_PATH, id);
	}
	if (keyed(&w->exe, false)) {
		ix->counts[GUARD_IX_EXE]++;
		return file(ix, &w->exe, F_EXE, id);
	}
	if (keyed(&w->comm, true)) {
		ix->counts[GUARD_IX_COMM]++;
		return file(ix, &w->comm, F_COMM, id);
	}
	ix->counts[GUARD_IX_LINEAR]++;
	for (uint32_t k = 0; k < GUARD_K_N; k++) {
		uint32_t *l;

		if (!(kinds & (1U << k)))
			continue;
		l = realloc(ix->lin[k], (ix->nlin[k] + 1) * sizeof(*l));
		if (!l)
			return -1;
		ix->lin[k] = l;
		l[ix->nlin[k]++] = id;
	}
	return 0;
}

struct guard_index *guard_index_new(const struct guard_rules *rs)
{
	struct guard_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	ix->rs = rs;
	ix->cand = calloc(rs->n + 1, sizeof(*ix->cand));
	ix->seen = calloc(rs->n + 1, sizeof(*ix->seen));
	if (!ix->cand || !ix->seen || grow(ix))
		goto fail;
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].enabled && file_rule(ix, &rs->r[i], i))
			goto fail;
	return ix;
fail:
	guard_index_free(ix);
	return NULL;
}

void guard_index_free(struct guard_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; ix->tab && i <= ix->mask; i++)
		free(ix->tab[i].ids);
	for (int k = 0; k < GUARD_K_N; k++)
		free(ix->lin[k]);
	free(ix->tab);
	free(ix->cand);
	free(ix->seen);
	free(ix);
}

struct look {
	struct guard_index *ix;
	uint32_t bit;		/* the event's kind */
	size_t n;		/* candidates */
	bool hit;		/* some came from the table: sort */
};

static void probe(struct look *l, uint32_t type, uint64_t h, const char *s, size_t len)
{
	struct guard_index *ix = l->ix;
	const struct slot *e = find(ix, h, type, s, len);

	for (uint32_t i = 0; e->s && i < e->n; i++) {
		uint32_t id = e->ids[i], kinds = ix->rs->r[id].kinds;

		if (ix->seen[id] == ix->epoch || (kinds && !(kinds & l->bit)))
			continue;
		ix->seen[id] = ix->epoch;
		ix->cand[l->n++] = id;
		l->hit = true;
	}
}

/* Every key of @field string @s could be filed under: each directory head, the whole
 * string, its last component; one pass for the heads and the whole. */
static void probe_str(struct look *l, int field, const char *s)
{
	uint32_t p = l->ix->present >> TYPE(field, 0);
	uint64_t h = GUARD_FNV_PATH;
	size_t i, last = 0;
	bool slash = false;

	if (!(p & 7) || !s || !*s)
		return;
	for (i = 0; s[i]; i++) {
		if (s[i] == '/') {
			if ((p & (1U << K_HEAD)) && i > 0)
				probe(l, TYPE(field, K_HEAD), h, s, i);
			last = i, slash = true;
		}
		h = (h ^ (uint8_t)s[i]) * GUARD_FNV_PRIME;
	}
	if (p & (1U << K_EXACT))
		probe(l, TYPE(field, K_EXACT), h, s, i);
	if ((p & (1U << K_LEAF)) && slash && s[last + 1])
		probe(l, TYPE(field, K_LEAF), fnv(s + last + 1, i - last - 1), s + last + 1,
		      i - last - 1);
}

static void sort_ids(uint32_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t x = a[i];
		size_t j = i;

		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t guard_index_match(struct guard_index *ix, const struct guard_view *v, uint32_t *out,
			 size_t *checked)
{
	struct look l = { .ix = ix, .bit = 1U << v->kind };
	size_t m = 0;

	if (v->kind >= GUARD_K_N)
		return 0;
	if (++ix->epoch == 0) {	/* wrapped: forget every stamp */
		memset(ix->seen, 0, (ix->rs->n + 1) * sizeof(*ix->seen));
		ix->epoch = 1;
	}
	memcpy(ix->cand, ix->lin[v->kind], ix->nlin[v->kind] * sizeof(*ix->cand));
	l.n = ix->nlin[v->kind];
	probe_str(&l, F_PATH, v->path);
	probe_str(&l, F_PATH, v->path2);
	probe_str(&l, F_EXE, v->exe);
	probe_str(&l, F_COMM, v->comm);
	if (l.hit) {
		if (l.n <= 32)
			sort_ids(ix->cand, l.n);
		else
			qsort(ix->cand, l.n, sizeof(*ix->cand), cmp_id);
	}
	for (size_t i = 0; i < l.n; i++)
		if (guard_rule_match(&ix->rs->r[ix->cand[i]], v))
			out[m++] = ix->cand[i];
	if (checked)
		*checked = l.n;
	return m;
}

size_t guard_rules_match_all(const struct guard_rules *rs, const struct guard_view *v,
			     uint32_t *out)
{
	size_t m = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (guard_rule_match(&rs->r[i], v))
			out[m++] = i;
	return m;
}

void guard_index_counts(const struct guard_index *ix, size_t counts[GUARD_IX_N])
{
	memcpy(counts, ix->counts, sizeof(ix->counts));
}
