// SPDX-License-Identifier: GPL-2.0
#include "core/families.h"

#include <string.h>

static const struct {
	const char *name;
	enum ks_family family;
	const char *target;	/* a representative target the probe tries */
} families[] = {
	{ "fentry", KS_FAM_FENTRY, "vfs_read" },
	{ "kprobe", KS_FAM_KPROBE, "vfs_read" },
	{ "tp_btf", KS_FAM_TP_BTF, "sched_switch" },
	{ "raw_tp", KS_FAM_RAW_TP, "sched_switch" },
	{ "tp", KS_FAM_TP, "sched/sched_switch" },
	{ "lsm", KS_FAM_LSM, "file_open" },
	{ "perf_software", KS_FAM_PERF, "software" },
	{ "perf_hardware", KS_FAM_PERF, "hardware" },
	{ "uprobe", KS_FAM_UPROBE, "uprobe" },
	{ "uretprobe", KS_FAM_UPROBE, "uretprobe" },
	{ "usdt", KS_FAM_USDT, "" },
	{ "tc", KS_FAM_TC, "" },
	{ "xdp", KS_FAM_XDP, "" },
	{ "cgroup_skb", KS_FAM_CGROUP, "skb" },
	{ "cgroup_sock", KS_FAM_CGROUP, "sock" },
	{ "cgroup_sock_addr", KS_FAM_CGROUP, "sock_addr" },
	{ "sockops", KS_FAM_CGROUP, "sockops" },
};

void ks_families_print(struct ks_probe *p, FILE *f)
{
	struct ks_probe *own = p ? NULL : ks_probe__new();

	if (!p && !(p = own))
		return;
	fprintf(f, "\nattach families\n");
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char why[160];
		int err = ks_probe(p, families[i].family, families[i].target, why, sizeof(why));

		if (err)
			fprintf(f, "  %-18s missing: %s\n", families[i].name, why);
		else if (why[0])
			fprintf(f, "  %-18s usable (%s)\n", families[i].name, why);
		else
			fprintf(f, "  %-18s usable\n", families[i].name);
	}
	ks_probe__free(own);
}
