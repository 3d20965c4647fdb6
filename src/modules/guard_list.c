// SPDX-License-Identifier: GPL-2.0
/* guard --list-rules (guard_rules.h): the rules in force, what each sees and not. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>

#include "guard.h"
#include "modules/guard_net.h"
#include "modules/guard_rules.h"
#include "modules/uring_tp.h"

static void kinds_text(uint32_t kinds, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	if (!kinds) {
		snprintf(buf, len, "any");
		return;
	}
	for (uint32_t k = 0; k < GUARD_K_N && o < len; k++)
		if (kinds & (1U << k))
			o += snprintf(buf + o, len - o, "%s%s", o ? "," : "", guard_kind_name(k));
}

/* --list-rules: before anything is loaded, root not needed. */
void guard_list_rules(const struct guard_rules *rules, bool json)
{
	char kinds[256], sees[1024], blind[1024];
	/* nothing is loaded: what the io_uring slot would see, from the kernel's BTF */
	struct btf *btf = btf__load_vmlinux_btf();
	struct ks_uring_shape sh = ks_uring_detect(libbpf_get_error(btf) ? NULL : btf);
	int uring = !sh.any ? GUARD_URING_NONE : sh.noreq ? GUARD_URING_510 : GUARD_URING_FULL;

	if (!libbpf_get_error(btf))
		btf__free(btf);
	if (!json)
		printf("%-24s %-8s %-3s %-40s %s\n", "RULE", "SEVERITY", "ON", "EVENTS", "FROM");
	for (size_t i = 0; i < rules->n; i++) {
		const struct guard_rule *r = &rules->r[i];

		kinds_text(r->kinds, kinds, sizeof(kinds));
		guard_coverage(r->kinds, uring, sees, sizeof(sees), blind, sizeof(blind));
		if (json) {
			/* names, events and origins are ours or the rule file's, plain text but
			 * for the origin's file name: written as JSON only when printable */
			printf("{\"type\":\"rule\",\"rule\":\"%s\",\"severity\":\"%s\","
			       "\"enabled\":%s,\"action\":\"%s\",\"events\":\"%s\",\"sees\":\"%s\","
			       "\"blind\":\"%s\"}\n",
			       r->name, guard_sev_name(r->sev), r->enabled ? "true" : "false",
			       r->action == GUARD_A_DENY ? "deny" : "alert", kinds, sees, blind);
			continue;
		}
		printf("%-24s %-8s %-3s %-40s %s\n", r->name, guard_sev_name(r->sev),
		       r->enabled ? "yes" : "no", kinds, r->origin);
		if (r->action == GUARD_A_DENY)
			printf("    action: deny (with --enforce: BPF LSM)\n");
		printf("    sees: %s\n    not seen: %s\n", sees, blind);
	}
	fflush(stdout);
}
