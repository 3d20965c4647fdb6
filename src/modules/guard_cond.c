// SPDX-License-Identifier: GPL-2.0
/* guard's rule files: the conditions of a rule (path, comm, exe, parent, uid, flags) and
 * its events, each checked with the line and column of the value at fault. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/guard_parse.h"

/* A glob's brackets close; a pattern is not empty. */
static int check_glob(struct guard_parse *p, const yaml_node_t *n, const char *key,
		      const char *g)
{
	const char *s;

	if (!*g)
		return guard_perr(p, n, "empty pattern in '%s'", key);
	for (s = g; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '[') {
			const char *e = s + 1;

			if (*e == '!' || *e == '^')
				e++;
			if (*e == ']')
				e++;
			e = strchr(e, ']');
			if (!e)
				return guard_perr(p, n, "bad glob '%s' in '%s': '[' is not closed", g,
					    key);
			s = e;
		}
	}
	if (!strcmp(key, "path") && g[0] != '/' && g[0] != '*')
		return guard_perr(p, n, "bad glob '%s' in 'path': paths are absolute", g);
	return 0;
}

/* One string or a list of them, as globs. */
static int parse_pats(struct guard_parse *p, yaml_node_t *n, const char *key,
		      struct guard_pats *out)
{
	yaml_node_item_t *it;
	const char *s = guard_scalar(n);

	if (s) {
		if (check_glob(p, n, key, s))
			return -1;
		out->v[out->n++] = strdup(s);
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return guard_perr(p, n, "'%s' takes a string or a list of strings", key);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = guard_node(p, *it);

		s = guard_scalar(e);
		if (!s)
			return guard_perr(p, e, "'%s' takes a string or a list of strings", key);
		if (out->n >= GUARD_PATS_MAX)
			return guard_perr(p, e, "more than %d patterns in '%s'", GUARD_PATS_MAX, key);
		if (check_glob(p, e, key, s))
			return -1;
		out->v[out->n++] = strdup(s);
	}
	return 0;
}

/* Each item of a string or list @n through @one. */
static int each(struct guard_parse *p, yaml_node_t *n, const char *key,
		int (*one)(struct guard_parse *, yaml_node_t *, void *), void *arg)
{
	yaml_node_item_t *it;

	if (n->type == YAML_SCALAR_NODE)
		return one(p, n, arg);
	if (n->type != YAML_SEQUENCE_NODE)
		return guard_perr(p, n, "'%s' takes a value or a list of values", key);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = guard_node(p, *it);

		if (e->type != YAML_SCALAR_NODE)
			return guard_perr(p, e, "'%s' takes a value or a list of values", key);
		if (one(p, e, arg))
			return -1;
	}
	return 0;
}

static int one_kind(struct guard_parse *p, yaml_node_t *n, void *arg)
{
	const char *s = guard_scalar(n);

	for (uint32_t k = 0; k < GUARD_K_N; k++) {
		if (!strcmp(s, guard_kind_name(k))) {
			*(uint32_t *)arg |= 1U << k;
			return 0;
		}
	}
	return guard_perr(p, n, "unknown event '%s'", s);
}

static int one_uid(struct guard_parse *p, yaml_node_t *n, void *arg)
{
	struct guard_cond *c = arg;
	const char *s = guard_scalar(n);
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
		return guard_perr(p, n, "bad uid '%s'", s);
	if (c->nuid >= GUARD_UIDS_MAX)
		return guard_perr(p, n, "more than %d uids", GUARD_UIDS_MAX);
	c->uids[c->nuid++] = v;
	return 0;
}

static int one_flag(struct guard_parse *p, yaml_node_t *n, void *arg)
{
	static const struct { const char *name; uint32_t f; } fl[] = {
		{ "memfd", GUARD_F_MEMFD }, { "nolink", GUARD_F_NOLINK },
		{ "setuid", GUARD_F_SETUID }, { "setgid", GUARD_F_SETGID },
		{ "sockio", GUARD_F_SOCKIO }, { "unixio", GUARD_F_UNIXIO },
		{ "netparent", GUARD_F_NETPARENT }, { "uring", GUARD_F_URING },
	};
	const char *s = guard_scalar(n);

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if (!strcmp(s, fl[i].name)) {
			*(uint32_t *)arg |= fl[i].f;
			return 0;
		}
	}
	return guard_perr(p, n, "unknown flag '%s' (memfd, nolink, setuid, setgid, sockio, "
			  "unixio, netparent, uring)", s);
}

int guard_parse_cond(struct guard_parse *p, const char *key, yaml_node_t *v,
		     struct guard_cond *c)
{
	struct guard_pats *pats = !strcmp(key, "path")	 ? &c->path :
				  !strcmp(key, "comm")	 ? &c->comm :
				  !strcmp(key, "exe")	 ? &c->exe :
				  !strcmp(key, "parent") ? &c->parent :
				  !strcmp(key, "user")	 ? &c->user :
				  !strcmp(key, "pam_service") ? &c->pam_service : NULL;

	if (pats)
		return parse_pats(p, v, key, pats);
	if (!strcmp(key, "uid"))
		return each(p, v, key, one_uid, c);
	if (!strcmp(key, "flags"))
		return each(p, v, key, one_flag, &c->flags);
	return 1;
}

const char *const guard_conds = "path, comm, exe, parent, uid, flags, user, pam_service";

int guard_parse_not(struct guard_parse *p, yaml_node_t *n, struct guard_cond *c)
{
	yaml_node_pair_t *pr;

	if (n->type != YAML_MAPPING_NODE)
		return guard_perr(p, n, "'not' takes a mapping of conditions (%s)", guard_conds);
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = guard_node(p, pr->key), *v = guard_node(p, pr->value);
		const char *key = guard_scalar(k);
		int rc;

		if (!key)
			return guard_perr(p, k, "a key must be a string");
		rc = guard_parse_cond(p, key, v, c);
		if (rc > 0)
			return guard_perr(p, k, "unknown field '%s' in 'not' (%s)", key, guard_conds);
		if (rc)
			return -1;
	}
	return 0;
}


int guard_parse_kinds(struct guard_parse *p, yaml_node_t *n, uint32_t *kinds)
{
	return each(p, n, "event", one_kind, kinds);
}
