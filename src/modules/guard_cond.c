// SPDX-License-Identifier: GPL-2.0
/* guard's rule files: the conditions of a rule (path, comm, exe, parent, uid, flags, the
 * login's names and remote host) and its events, each checked with the line and column of
 * the value at fault. */
#include <arpa/inet.h>
#include <ctype.h>
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

/* Address @s (no prefix) into @n: 4 or 16 bytes. Returns 0, or -1. */
static int parse_addr(const char *s, struct guard_net *n)
{
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->addr) == 1) {
		n->bits = 128;
		n->v6 = 1;
		return 0;
	}
	return -1;
}

/* A CIDR ("10.0.0.0/8", "2001:db8::/32") into @n. Returns 0 or -1 with the error. */
static int parse_cidr(struct guard_parse *p, yaml_node_t *node, const char *s,
		      struct guard_net *n)
{
	const char *slash = strrchr(s, '/');
	char addr[INET6_ADDRSTRLEN + 1], *end;
	size_t alen = slash - s;
	unsigned long bits;
	int max;

	if (alen >= sizeof(addr))
		return guard_perr(p, node, "bad CIDR '%s' in 'rhost': no IPv4 or IPv6 address "
				  "before '/'", s);
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (parse_addr(addr, n))
		return guard_perr(p, node, "bad CIDR '%s' in 'rhost': '%s' is no IPv4 or IPv6 "
				  "address", s, addr);
	max = n->v6 ? 128 : 32;
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end || errno || bits > (unsigned long)max)
		return guard_perr(p, node, "bad CIDR '%s' in 'rhost': the prefix length is 0 to "
				  "%d", s, max);
	n->bits = bits;
	for (int i = bits; i < max; i++)
		if (n->addr[i / 8] & (0x80 >> (i % 8)))
			return guard_perr(p, node, "bad CIDR '%s' in 'rhost': address bits set "
					  "after the /%lu prefix", s, bits);
	return 0;
}

/* An IPv4-mapped IPv6 network of 96 bits or more as the IPv4 one (the remote host's
 * address is compared so too). */
static void unmap(struct guard_net *n)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!n->v6 || n->bits < 96 || memcmp(n->addr, mapped, sizeof(mapped)))
		return;
	memmove(n->addr, n->addr + 12, 4);
	memset(n->addr + 4, 0, 12);
	n->bits -= 96;
	n->v6 = 0;
}

/* rhost: an address, a CIDR, or a hostname glob. */
static int one_rhost(struct guard_parse *p, yaml_node_t *n, void *arg)
{
	struct guard_cond *c = arg;
	const char *s = guard_scalar(n), *q;
	bool addr_like = *s != 0, glob = false;
	struct guard_net net;

	if (c->rhost_nets.n + c->rhost.n >= GUARD_PATS_MAX)
		return guard_perr(p, n, "more than %d values in 'rhost'", GUARD_PATS_MAX);
	if (strchr(s, '/')) {
		if (parse_cidr(p, n, s, &net))
			return -1;
		unmap(&net);
		c->rhost_nets.v[c->rhost_nets.n++] = net;
		return 0;
	}
	if (!parse_addr(s, &net)) {
		unmap(&net);
		c->rhost_nets.v[c->rhost_nets.n++] = net;
		return 0;
	}
	for (q = s; *q; q++) {
		if (strchr("*?[]\\", *q))
			glob = true;
		else if (!isalnum((unsigned char)*q) && !strchr(".-_:!^", *q))
			return guard_perr(p, n, "bad host name pattern '%s' in 'rhost': '%c' is in no "
					  "host name or address", s, *q);
		/* digits and dots, or hex digits and colons: meant as an address */
		if (!isdigit((unsigned char)*q) && *q != '.' &&
		    !(strchr(s, ':') && (isxdigit((unsigned char)*q) || *q == ':')))
			addr_like = false;
	}
	if (addr_like && !glob)
		return guard_perr(p, n, "bad address '%s' in 'rhost'", s);
	if (check_glob(p, n, "rhost", s))
		return -1;
	c->rhost.v[c->rhost.n++] = strdup(s);
	return 0;
}

int guard_parse_cond(struct guard_parse *p, const char *key, yaml_node_t *v,
		     struct guard_cond *c)
{
	struct guard_pats *pats = !strcmp(key, "path")	 ? &c->path :
				  !strcmp(key, "comm")	 ? &c->comm :
				  !strcmp(key, "exe")	 ? &c->exe :
				  !strcmp(key, "parent") ? &c->parent :
				  !strcmp(key, "user")	 ? &c->user :
				  !strcmp(key, "ruser")	 ? &c->ruser :
				  !strcmp(key, "pam_service") ? &c->pam_service : NULL;

	if (pats)
		return parse_pats(p, v, key, pats);
	if (!strcmp(key, "uid"))
		return each(p, v, key, one_uid, c);
	if (!strcmp(key, "flags"))
		return each(p, v, key, one_flag, &c->flags);
	if (!strcmp(key, "rhost"))
		return each(p, v, key, one_rhost, c);
	return 1;
}

const char *const guard_conds = "path, comm, exe, parent, uid, flags, user, ruser, "
				"pam_service, rhost";

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
