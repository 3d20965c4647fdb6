/* SPDX-License-Identifier: GPL-2.0 */
/* guard's rule files, inside: the parse state and the condition parsers (guard_cond.c). */
#ifndef KSIGHT_GUARD_PARSE_H
#define KSIGHT_GUARD_PARSE_H

#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "modules/guard_rules.h"

struct guard_parse {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static inline int guard_perr(struct guard_parse *p, const yaml_node_t *n, const char *fmt,
			     ...)
{
	size_t k = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->file, n->start_mark.line + 1,
			    n->start_mark.column + 1);
	va_list ap;

	if (k < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + k, p->errlen - k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static inline const char *guard_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static inline yaml_node_t *guard_node(struct guard_parse *p, yaml_node_item_t i)
{
	return yaml_document_get_node(p->doc, i);
}

/* The condition keys, for messages. */
extern const char *const guard_conds;

/* A condition key of a rule or of its `not` (path, comm, exe, parent, uid, flags) into
 * @c. Returns 0, -1 with the error written, or 1 when @key is no condition. */
int guard_parse_cond(struct guard_parse *p, const char *key, yaml_node_t *v,
		     struct guard_cond *c);
/* A rule's `not:` mapping into @c. Returns 0 or -1 with the error written. */
int guard_parse_not(struct guard_parse *p, yaml_node_t *n, struct guard_cond *c);
/* A rule's `event:` (one or a list) into the mask @kinds. Returns 0 or -1. */
int guard_parse_kinds(struct guard_parse *p, yaml_node_t *n, uint32_t *kinds);

/* A rule with `action: deny` (@n its mapping): only what the kernel judges exactly at the
 * LSM hooks (guard_deny.c). Returns 0 or -1 with the error written. */
int guard_deny_check(struct guard_parse *p, yaml_node_t *n, const struct guard_rule *r);

#endif
