// SPDX-License-Identifier: GPL-2.0
#include "core/hooks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const family_names[KS_FAM_N] = {
	[KS_FAM_FENTRY] = "fentry",	[KS_FAM_KPROBE] = "kprobe", [KS_FAM_TP_BTF] = "tp_btf",
	[KS_FAM_RAW_TP] = "raw_tp",	[KS_FAM_TP] = "tp",	    [KS_FAM_SYSCALL] = "syscalls",
	[KS_FAM_LSM] = "lsm",		[KS_FAM_PERF] = "perf",	    [KS_FAM_UPROBE] = "uprobe",
	[KS_FAM_USDT] = "usdt",		[KS_FAM_TC] = "tc",	    [KS_FAM_XDP] = "xdp",
	[KS_FAM_CGROUP] = "cgroup",
};

const char *ks_family_name(enum ks_family f)
{
	return f < KS_FAM_N ? family_names[f] : "none";
}

enum ks_family ks_hooks_family(int choice)
{
	switch (choice) {
	case KS_HOOKS_FENTRY:
		return KS_FAM_FENTRY;
	case KS_HOOKS_KPROBE:
		return KS_FAM_KPROBE;
	case KS_HOOKS_TP_BTF:
		return KS_FAM_TP_BTF;
	case KS_HOOKS_RAW_TP:
		return KS_FAM_RAW_TP;
	case KS_HOOKS_TP:
		return KS_FAM_TP;
	default:
		return KS_FAM_N;
	}
}

static bool dispatcher_family(enum ks_family f)
{
	return f == KS_FAM_TP_BTF || f == KS_FAM_RAW_TP || f == KS_FAM_TP;
}

int ks_select_dispatcher(ks_probe_fn probe, void *p, enum ks_family forced,
			 struct ks_alt_status st[3])
{
	static const enum ks_family order[3] = { KS_FAM_TP_BTF, KS_FAM_RAW_TP, KS_FAM_TP };
	static const char *const target[3] = { "sys_exit", "sys_exit", "raw_syscalls/sys_exit" };
	int chosen = -ENOENT;

	for (int i = 0; i < 3; i++) {
		st[i].why[0] = 0;
		if (dispatcher_family(forced) && order[i] != forced) {
			st[i].err = 1;
			snprintf(st[i].why, sizeof(st[i].why), "not selected by --hooks");
			continue;
		}
		st[i].err = probe(p, order[i], target[i], st[i].why, sizeof(st[i].why));
		if (!st[i].err && chosen < 0)
			chosen = order[i];
		else if (st[i].err && chosen < 0)
			chosen = st[i].err;
	}
	return chosen;
}

int ks_slot_nalts(const struct ks_slot *slot)
{
	int n = 0;

	while (n < KS_SLOT_ALTS && slot->alts[n].p[0].prog)
		n++;
	return n;
}

static bool alt_matches(const struct ks_alt *a, enum ks_family forced)
{
	if (a->family == forced)
		return true;
	return a->family == KS_FAM_SYSCALL && dispatcher_family(forced);
}

int ks_select_slot(const struct ks_slot *slot, ks_probe_fn probe, void *p, enum ks_family forced,
		   int dispatcher, struct ks_choice *out)
{
	int n = ks_slot_nalts(slot), last_err = -ENOENT;
	bool has_forced = false;

	memset(out, 0, sizeof(*out));
	out->alt = -1;
	out->family = KS_FAM_N;
	if (forced != KS_FAM_N)
		for (int i = 0; i < n; i++)
			has_forced |= alt_matches(&slot->alts[i], forced);

	for (int i = 0; i < n; i++) {
		const struct ks_alt *a = &slot->alts[i];
		struct ks_alt_status *st = &out->st[i];

		if (has_forced && !alt_matches(a, forced)) {
			st->err = 1;
			snprintf(st->why, sizeof(st->why), "not selected by --hooks");
			continue;
		}
		if (a->family == KS_FAM_SYSCALL) {
			st->err = dispatcher < 0 ? dispatcher : 0;
			if (dispatcher < 0)
				snprintf(st->why, sizeof(st->why), "syscall dispatcher unavailable");
		} else {
			for (int k = 0; k < KS_ALT_PROGS && a->p[k].prog; k++) {
				st->err = probe(p, a->family, a->p[k].target, st->why, sizeof(st->why));
				if (st->err)
					break;
			}
		}
		if (st->err) {
			last_err = st->err;
			continue;
		}
		if (out->alt < 0) {
			out->alt = i;
			out->family = a->family == KS_FAM_SYSCALL ? (enum ks_family)dispatcher
								  : a->family;
		}
	}
	return out->alt < 0 ? last_err : 0;
}
