// SPDX-License-Identifier: GPL-2.0
/* guard's rule index (guard_index.h): one open-addressing hash table of literal keys
 * (field x form), a list per event kind of the rules no key can find. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "modules/guard_index.h"

/* the fields a key is on, and its forms */
enum { F_PATH, F_EXE, F_COMM, F_N };
enum { K_EXACT, K_LEAF, K_HEAD, K_COMP, K_N };
#define TYPE(f, k) ((f) * K_N + (k))
#define KEYS_MAX 16		/* candidate keys of one glob looked at */

struct slot {
	uint64_t h;		/* FNV-1a of the key */
	const char *s;		/* the key (points into a rule's glob); NULL: empty slot */
	uint32_t len, type;
	uint32_t *ids, n, cap;	/* the rules filed under it, in rule order (a tally: n) */
};

struct table {
	struct slot *tab;
	size_t mask, used;
};

struct guard_index {
	const struct guard_rules *rs;
	struct table t;
	uint32_t present;	/* 1 << TYPE(): the key types some rule has */
	uint32_t *lin[GUARD_K_N];	/* the rules of each kind no key finds, in order */
	size_t nlin[GUARD_K_N];
	uint32_t *cand, *seen, epoch;
	size_t counts[GUARD_IX_N];
};

struct key {
	int form;
	const char *s;
	size_t len;
};

static uint64_t fnv(const char *s, size_t n)
{
	return guard_fnv(GUARD_FNV_PATH, s, n);
}

static struct slot *find(const struct table *t, uint64_t h, uint32_t type, const char *s,
			 size_t len)
{
	uint64_t x = (h ^ ((type + 1) * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;

	for (size_t i = (size_t)(x ^ (x >> 29)) & t->mask;; i = (i + 1) & t->mask) {
		struct slot *e = &t->tab[i];

		if (!e->s || (e->h == h && e->type == type && e->len == len &&
			      !memcmp(e->s, s, len)))
			return e;
	}
}

static int grow(struct table *t)
{
	struct slot *old = t->tab;
	size_t n = t->tab ? t->mask + 1 : 0, cap = n ? n * 2 : 64;

	t->tab = calloc(cap, sizeof(*t->tab));
	if (!t->tab) {
		t->tab = old;
		return -1;
	}
	t->mask = cap - 1;
	for (size_t i = 0; i < n; i++)
		if (old[i].s)
			*find(t, old[i].h, old[i].type, old[i].s, old[i].len) = old[i];
	free(old);
	return 0;
}

/* The slot of key @k of @type in @t, made when new; NULL: out of memory. */
static struct slot *slot(struct table *t, uint32_t type, const struct key *k)
{
	uint64_t h = fnv(k->s, k->len);
	struct slot *e;

	if ((t->used + 1) * 2 > t->mask + 1 && grow(t))
		return NULL;
	e = find(t, h, type, k->s, k->len);
	if (!e->s) {
		*e = (struct slot){ .h = h, .s = k->s, .len = k->len, .type = type };
		t->used++;
	}
	return e;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; t->tab && i <= t->mask; i++)
		free(t->tab[i].ids);
	free(t->tab);
}

static int add_id(struct slot *e, uint32_t id)
{
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
	return 0;
}

/*
 * The keys every string glob @g matches has (fnmatch without flags: '*' and '?' also
 * match '/', so only literal text outside brackets counts): the whole string when @g has
 * no wildcard (then that alone); its last component when @g's is literal (the string ends
 * in "/LEAF"); the literal directory before the first wildcard (it starts with "HEAD/");
 * each literal component between two literal '/' (it contains "/COMP/"). Returns how many.
 */
static int glob_keys(const char *g, struct key *k)
{
	size_t n = strlen(g), wild = n, head = 0, seg = 0;
	bool in_seg = false, seg_wild = false;
	int nk = 0;

	for (size_t i = 0; i < n; i++) {
		const char *e;

		switch (g[i]) {
		case '/':
			if (wild == n)
				head = i;
			if (in_seg && !seg_wild && i > seg && nk < KEYS_MAX - 2)
				k[nk++] = (struct key){ K_COMP, g + seg, i - seg };
			in_seg = true, seg_wild = false, seg = i + 1;
			continue;
		case '[':	/* to its ']' as check_glob() reads it: a '/' inside is no boundary */
			e = g + i + 1;
			e += *e == '!' || *e == '^';
			e += *e == ']';
			e = strchr(e, ']');
			if (e)
				i = e - g;
			break;
		case '\\':
			i += i + 1 < n;
			break;
		case '*':
		case '?':
			break;
		default:
			continue;
		}
		if (wild == n)
			wild = i;
		seg_wild = true;
	}
	if (wild == n) {
		k[0] = (struct key){ K_EXACT, g, n };
		return 1;
	}
	if (in_seg && !seg_wild && seg < n)
		k[nk++] = (struct key){ K_LEAF, g + seg, n - seg };
	if (head >= 1)
		k[nk++] = (struct key){ K_HEAD, g, head };
	return nk;
}

static bool keyed(const struct guard_pats *ps, bool literal)
{
	struct key k[KEYS_MAX];

	for (int i = 0; i < ps->n; i++) {
		int nk = glob_keys(ps->v[i], k);

		if (!nk || (literal && k[0].form != K_EXACT))
			return false;
	}
	return ps->n > 0;
}

/* Which of the rules' fields is keyed: path, else exe, else a literal comm; -1: none. */
static int field_of(const struct guard_rule *r)
{
	if (keyed(&r->when.path, false))
		return F_PATH;
	if (keyed(&r->when.exe, false))
		return F_EXE;
	if (keyed(&r->when.comm, true))
		return F_COMM;
	return -1;
}

static const struct guard_pats *pats(const struct guard_rule *r, int field)
{
	return field == F_PATH ? &r->when.path : field == F_EXE ? &r->when.exe : &r->when.comm;
}

/* Each glob of @r's @field filed under the one of its keys the fewest globs share
 * (@tally: how many have each as a candidate), so a common head ("/home") or component
 * ("etc") is not picked when a rarer key is there; of equals, the longest. */
static int file_keyed(struct guard_index *ix, struct table *tally, const struct guard_rule *r,
		      int field, uint32_t id)
{
	const struct guard_pats *ps = pats(r, field);
	struct key k[KEYS_MAX];

	for (int i = 0; i < ps->n; i++) {
		int nk = glob_keys(ps->v[i], k), best = 0;
		uint32_t low = UINT32_MAX;
		struct slot *e;

		for (int j = 0; j < nk; j++) {
			uint32_t c = find(tally, fnv(k[j].s, k[j].len), TYPE(field, k[j].form),
					  k[j].s, k[j].len)->n;

			if (c < low || (c == low && k[j].len > k[best].len))
				low = c, best = j;
		}
		e = slot(&ix->t, TYPE(field, k[best].form), &k[best]);
		if (!e || add_id(e, id))
			return -1;
		ix->present |= 1U << TYPE(field, k[best].form);
	}
	return 0;
}

static int file_linear(struct guard_index *ix, const struct guard_rule *r, uint32_t id)
{
	uint32_t kinds = r->kinds ? r->kinds : (1U << GUARD_K_N) - 1;

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

/* How many globs have each key as a candidate. */
static int count_keys(const struct guard_rules *rs, struct table *tally)
{
	struct key k[KEYS_MAX];

	if (grow(tally))
		return -1;
	for (size_t i = 0; i < rs->n; i++) {
		int field = rs->r[i].enabled ? field_of(&rs->r[i]) : -1;
		const struct guard_pats *ps = field < 0 ? NULL : pats(&rs->r[i], field);

		for (int p = 0; ps && p < ps->n; p++) {
			int nk = glob_keys(ps->v[p], k);

			for (int j = 0; j < nk; j++) {
				struct slot *e = slot(tally, TYPE(field, k[j].form), &k[j]);

				if (!e)
					return -1;
				e->n++;
			}
		}
	}
	return 0;
}

struct guard_index *guard_index_new(const struct guard_rules *rs)
{
	struct guard_index *ix = calloc(1, sizeof(*ix));
	struct table tally = { 0 };
	static const int how[] = { GUARD_IX_PATH, GUARD_IX_EXE, GUARD_IX_COMM };

	if (!ix)
		return NULL;
	ix->rs = rs;
	ix->cand = calloc(rs->n + 1, sizeof(*ix->cand));
	ix->seen = calloc(rs->n + 1, sizeof(*ix->seen));
	if (!ix->cand || !ix->seen || grow(&ix->t) || count_keys(rs, &tally))
		goto fail;
	for (size_t i = 0; i < rs->n; i++) {
		int field;

		if (!rs->r[i].enabled)
			continue;
		field = field_of(&rs->r[i]);
		ix->counts[field < 0 ? GUARD_IX_LINEAR : how[field]]++;
		if (field < 0 ? file_linear(ix, &rs->r[i], i) :
				file_keyed(ix, &tally, &rs->r[i], field, i))
			goto fail;
	}
	table_free(&tally);
	return ix;
fail:
	table_free(&tally);
	guard_index_free(ix);
	return NULL;
}

void guard_index_free(struct guard_index *ix)
{
	if (!ix)
		return;
	table_free(&ix->t);
	for (int k = 0; k < GUARD_K_N; k++)
		free(ix->lin[k]);
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
	const struct slot *e = find(&ix->t, h, type, s, len);

	for (uint32_t i = 0; e->s && i < e->n; i++) {
		uint32_t id = e->ids[i], kinds = ix->rs->r[id].kinds;

		if (ix->seen[id] == ix->epoch || (kinds && !(kinds & l->bit)))
			continue;
		ix->seen[id] = ix->epoch;
		ix->cand[l->n++] = id;
		l->hit = true;
	}
}

/* Every key of @field string @s could be filed under, in one pass: each directory head
 * and each component between two '/' as they end, then the whole and the last component. */
static void probe_str(struct look *l, int field, const char *s)
{
	uint32_t p = l->ix->present >> TYPE(field, 0);
	uint64_t h = GUARD_FNV_PATH, c = GUARD_FNV_PATH;
	size_t i, last = 0;
	bool slash = false;

	if (!(p & ((1U << K_N) - 1)) || !s || !*s)
		return;
	for (i = 0; s[i]; i++) {
		if (s[i] == '/') {
			if ((p & (1U << K_HEAD)) && i > 0)
				probe(l, TYPE(field, K_HEAD), h, s, i);
			if ((p & (1U << K_COMP)) && slash && i > last + 1)
				probe(l, TYPE(field, K_COMP), c, s + last + 1, i - last - 1);
			last = i, slash = true, c = GUARD_FNV_PATH;
		} else {
			c = (c ^ (uint8_t)s[i]) * GUARD_FNV_PRIME;
		}
		h = (h ^ (uint8_t)s[i]) * GUARD_FNV_PRIME;
	}
	if (p & (1U << K_EXACT))
		probe(l, TYPE(field, K_EXACT), h, s, i);
	if ((p & (1U << K_LEAF)) && slash && s[last + 1])
		probe(l, TYPE(field, K_LEAF), c, s + last + 1, i - last - 1);
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
