/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hook selection: for each slot, the first alternative whose programs the running kernel
 * accepts, within what --hooks allows. Pure logic over a probe callback, so it is tested
 * with fake kernels; probe.c answers for the real one.
 */
#ifndef KSIGHT_HOOKS_H
#define KSIGHT_HOOKS_H

#include "core/module.h"

/* Answer whether @family can attach @target here: 0, or -errno (reason in @why). */
typedef int (*ks_probe_fn)(void *probe, enum ks_family family, const char *target, char *why,
			   size_t len);

struct ks_alt_status {
	int err;		/* 0 usable, -errno refused, 1 not considered (--hooks) */
	char why[96];
};

struct ks_choice {
	int alt;		/* index of the chosen alternative, -1: none usable */
	enum ks_family family;	/* effective family (the dispatcher's for KS_FAM_SYSCALL) */
	struct ks_alt_status st[KS_SLOT_ALTS];
};

const char *ks_family_name(enum ks_family f);
/* The family --hooks=@choice forces, or KS_FAM_N for auto. */
enum ks_family ks_hooks_family(int choice);

/*
 * Choose the dispatcher's family (KS_FAM_TP_BTF/RAW_TP/TP): @forced if it is one of those,
 * else the cheapest that attaches to sys_exit. Returns the family, or -errno with @st set.
 */
int ks_select_dispatcher(ks_probe_fn probe, void *p, enum ks_family forced,
			 struct ks_alt_status st[3]);

/*
 * Choose an alternative for @slot. @forced is KS_FAM_N (auto) or a family: alternatives
 * of that family are the only candidates when the slot has one (a KS_FAM_SYSCALL
 * alternative counts as tp_btf/raw_tp/tp); a slot without one keeps its default order.
 * @dispatcher is the dispatcher's family, or -errno when it cannot run.
 * Returns 0 with @out filled, or -errno of the last refusal when nothing is usable.
 */
int ks_select_slot(const struct ks_slot *slot, ks_probe_fn probe, void *p, enum ks_family forced,
		   int dispatcher, struct ks_choice *out);

/* Number of alternatives of @slot. */
int ks_slot_nalts(const struct ks_slot *slot);

#endif
