/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard's rule index: which rules an event must be checked against, found by hash lookups
 * instead of a walk over every rule, so the cost per event does not grow with the rule
 * count (docs/guard.md "How rules are matched"). Each enabled rule is filed under one
 * condition every match needs: its path globs (per glob, a literal key: the whole path, the
 * last component, the directory head or a component between two '/'), else its exe globs
 * (the same), else its literal comms; a rule with none of these (no path/exe/comm, a glob
 * with no literal key such as '*.log') stays in a list per event kind, walked for every
 * event of its kind. The candidates are
 * then checked in rule order with guard_rule_match(): the same rules, in the same order,
 * as a walk over all of them. No BPF here: the unit tests use it as it is.
 */
#ifndef KSIGHT_GUARD_INDEX_H
#define KSIGHT_GUARD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "modules/guard_rules.h"

struct guard_index;

/* How the rules were filed (guard_index_counts()). */
enum guard_ix_how { GUARD_IX_PATH, GUARD_IX_EXE, GUARD_IX_COMM, GUARD_IX_LINEAR,
		    GUARD_IX_N };

/* The index of the enabled rules of @rs (which must not change while it is used).
 * NULL when out of memory. */
struct guard_index *guard_index_new(const struct guard_rules *rs);
void guard_index_free(struct guard_index *ix);

/* The indices into @rs->r of the rules matching @v, in rule order, into @out (room for
 * @rs->n). Returns how many. @checked (may be NULL) gets how many rules were tried. */
size_t guard_index_match(struct guard_index *ix, const struct guard_view *v, uint32_t *out,
			 size_t *checked);

/* The same by walking every rule: the reference the index must equal. */
size_t guard_rules_match_all(const struct guard_rules *rs, const struct guard_view *v,
			     uint32_t *out);

/* How many rules were filed each way (enum guard_ix_how). */
void guard_index_counts(const struct guard_index *ix, size_t counts[GUARD_IX_N]);

#endif
