// SPDX-License-Identifier: GPL-2.0
/*
 * guard's rule files (YAML through libyaml's document API, which keeps every node's line
 * and column): parsed and checked whole into a copy, which replaces the rule set only when
 * the file had no error, so a session never starts half-configured.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "modules/guard_parse.h"

static int want_scalar(struct guard_parse *p, const yaml_node_t *n, const char *key,
		       const char **out)
{
	*out = guard_scalar(n);
	if (!*out)
		return guard_perr(p, n, "'%s' takes one value", key);
	return 0;
}

static int choose(struct guard_parse *p, yaml_node_t *n, const char *key,
		  const char *const *names, int *out)
{
	const char *s;

	if (want_scalar(p, n, key, &s))
		return -1;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return guard_perr(p, n, "bad %s '%s'", key, s);
}

static const char *const sevs[] = { "low", "medium", "high", "critical", NULL };
static const char *const results[] = { "any", "ok", "failed", NULL };
static const char *const actions[] = { "alert", "deny", NULL };

static int parse_rule(struct guard_parse *p, yaml_node_t *n, struct guard_rule *r,
		      bool *only_off)
{
	yaml_node_pair_t *pr;
	int fields = 0;
	char where[512];

	if (n->type != YAML_MAPPING_NODE)
		return guard_perr(p, n, "a rule is a mapping (name, event, path, ...)");
	r->enabled = true;
	r->sev = GUARD_SEV_MEDIUM;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = guard_node(p, pr->key), *v = guard_node(p, pr->value);
		const char *key = guard_scalar(k), *s;
		int rc;

		if (!key)
			return guard_perr(p, k, "a key must be a string");
		if (strcmp(key, "name") && strcmp(key, "enabled"))
			fields++;
		if (!strcmp(key, "name") || !strcmp(key, "message") ||
		    !strcmp(key, "description")) {
			if (want_scalar(p, v, key, &s))
				return -1;
			if (!*s)
				return guard_perr(p, v, "'%s' is empty", key);
			if (!strcmp(key, "name"))
				r->name = strdup(s);
			else if (!strcmp(key, "message"))
				r->message = strdup(s);
			if (!strcmp(key, "message") && guard_message_check(s, where, sizeof(where)))
				return guard_perr(p, v, "%s", where);
		} else if (!strcmp(key, "enabled")) {
			if (want_scalar(p, v, key, &s))
				return -1;
			if (!strcmp(s, "true") || !strcmp(s, "yes"))
				r->enabled = true;
			else if (!strcmp(s, "false") || !strcmp(s, "no"))
				r->enabled = false;
			else
				return guard_perr(p, v, "'enabled' is true or false, not '%s'", s);
		} else if (!strcmp(key, "event")) {
			if (guard_parse_kinds(p, v, &r->kinds))
				return -1;
		} else if (!strcmp(key, "severity")) {
			if (choose(p, v, key, sevs, &r->sev))
				return -1;
		} else if (!strcmp(key, "result")) {
			if (choose(p, v, key, results, &r->result))
				return -1;
		} else if (!strcmp(key, "action")) {
			if (choose(p, v, key, actions, &r->action))
				return -1;
		} else if (!strcmp(key, "not")) {
			r->has_not = true;
			if (guard_parse_not(p, v, &r->not))
				return -1;
		} else {
			rc = guard_parse_cond(p, key, v, &r->when);
			if (rc > 0)
				return guard_perr(p, k, "unknown field '%s' (name, event, %s, result, "
					    "not, severity, message, description, enabled)", key,
					    guard_conds);
			if (rc)
				return -1;
		}
	}
	if (!r->name)
		return guard_perr(p, n, "a rule needs a name");
	*only_off = !fields && !r->enabled;
	if (r->action == GUARD_A_DENY && guard_deny_check(p, n, r))
		return -1;
	if (!r->message)
		r->message = strdup("{event} {path} by {comm} ({pid})");
	snprintf(where, sizeof(where), "%s:%zu", p->file, n->start_mark.line + 1);
	r->origin = strdup(where);
	return 0;
}

static void pats_free(struct guard_pats *ps)
{
	for (int i = 0; i < ps->n; i++)
		free(ps->v[i]);
}

static void rule_free(struct guard_rule *r)
{
	struct guard_cond *cs[2] = { &r->when, &r->not };

	free(r->name);
	free(r->message);
	free(r->origin);
	for (int i = 0; i < 2; i++) {
		pats_free(&cs[i]->path);
		pats_free(&cs[i]->comm);
		pats_free(&cs[i]->exe);
		pats_free(&cs[i]->parent);
		pats_free(&cs[i]->user);
		pats_free(&cs[i]->pam_service);
		pats_free(&cs[i]->ruser);
		pats_free(&cs[i]->rhost);
	}
	memset(r, 0, sizeof(*r));
}

static struct guard_rule *find(struct guard_rules *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].name, name))
			return &rs->r[i];
	return NULL;
}

static int add(struct guard_rules *rs, struct guard_rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct guard_rule *nr = realloc(rs->r, cap * sizeof(*nr));

		if (!nr)
			return -1;
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

/* Parse every rule of @root into @out (a fresh set), checking names against @rs. */
static int parse_all(struct guard_parse *p, yaml_node_t *root, struct guard_rules *rs,
		     struct guard_rules *out, char (*off)[128], size_t *noff)
{
	yaml_node_t *list = root;
	yaml_node_item_t *it;

	if (root->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *pr = root->data.mapping.pairs.start;

		for (list = NULL; pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = guard_node(p, pr->key);

			if (!guard_scalar(k) || strcmp(guard_scalar(k), "rules"))
				return guard_perr(p, k, "unknown field '%s' (a rule file has 'rules')",
					    guard_scalar(k) ? guard_scalar(k) : "?");
			list = guard_node(p, pr->value);
		}
		if (!list)
			return 0;
	}
	if (list->type != YAML_SEQUENCE_NODE)
		return guard_perr(p, list, "'rules' is a list of rules");
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = guard_node(p, *it);
		struct guard_rule r = { 0 };
		bool only_off = false;

		if (parse_rule(p, n, &r, &only_off)) {
			rule_free(&r);
			return -1;
		}
		if (find(out, r.name)) {
			guard_perr(p, n, "rule '%s' is defined twice", r.name);
			rule_free(&r);
			return -1;
		}
		if (only_off) {
			if (!find(rs, r.name)) {
				guard_perr(p, n, "no rule named '%s' to disable", r.name);
				rule_free(&r);
				return -1;
			}
			if (*noff < 64)
				snprintf(off[(*noff)++], 128, "%s", r.name);
			rule_free(&r);
			continue;
		}
		if (add(out, &r)) {
			rule_free(&r);
			return guard_perr(p, n, "out of memory");
		}
	}
	return 0;
}

int guard_rules_load(struct guard_rules *rs, const char *text, size_t len, const char *file,
		     char *err, size_t errlen)
{
	struct guard_parse p = { .file = file, .err = err, .errlen = errlen };
	struct guard_rules fresh = { 0 };
	char off[64][128];
	size_t noff = 0;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.context ? &parser.context_mark : &parser.problem_mark;

		if (parser.problem)
			m = &parser.problem_mark;
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", file, m->line + 1, m->column + 1,
			 parser.problem ? parser.problem : "bad YAML",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && parse_all(&p, root, rs, &fresh, off, &noff))
		goto cleanup;
	for (size_t i = 0; i < noff; i++)
		find(rs, off[i])->enabled = false;
	for (size_t i = 0; i < fresh.n; i++) {
		struct guard_rule *old = find(rs, fresh.r[i].name);

		if (old) {
			rule_free(old);
			*old = fresh.r[i];
		} else if (add(rs, &fresh.r[i])) {
			rule_free(&fresh.r[i]);
		}
	}
	fresh.n = 0;
	rc = 0;
cleanup:
	guard_rules_free(&fresh);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int guard_rules_load_file(struct guard_rules *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[4096];
		size_t k;

		if (!m) {
			fclose(f);
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, k, m);
		fclose(m);
	}
	fclose(f);
	rc = guard_rules_load(rs, buf, len, path, err, errlen);
	free(buf);
	return rc;
}

void guard_rules_free(struct guard_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->r[i]);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}
