// SPDX-License-Identifier: GPL-2.0
/* The journal's lines (core/legacy.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/legacy.h"

static const char *const qstates[] = { "intent", "created", "existed" };

int ks_journal_parse(const char *line, struct ks_jent *e)
{
	char word[16], state[16];
	unsigned long long a, b;
	unsigned int parent, handle, prio, prog;
	int ifindex, n = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%15s%n", word, &n) != 1)
		return -1;
	line += n;
	if (!strcmp(word, "owner")) {
		e->kind = KS_J_OWNER;
		if (sscanf(line, " %llu %llu%n", &a, &b, &n) != 2 || line[n])
			return -1;
		e->pid = a;
		e->start = b;
		return 0;
	}
	if (!strcmp(word, "tc-qdisc")) {
		e->kind = KS_J_QDISC;
		if (sscanf(line, " %llu %d %15s%n", &a, &ifindex, state, &n) != 3 || line[n] ||
		    ifindex <= 0)
			return -1;
		e->tc.netns = a;
		e->tc.ifindex = ifindex;
		for (int i = 0; i < 3; i++)
			if (!strcmp(state, qstates[i])) {
				e->qstate = i;
				return 0;
			}
		return -1;
	}
	if (!strcmp(word, "tc-filter")) {
		e->kind = KS_J_FILTER;
		if (sscanf(line, " %llu %d %x %x %u %u%n", &a, &ifindex, &parent, &handle, &prio,
			   &prog, &n) != 6 || line[n] || ifindex <= 0 || !handle || !prio || !prog)
			return -1;
		e->tc = (struct ks_tc_filter){ a, ifindex, parent, handle, prio, prog, 0 };
		return 0;
	}
	if (!strcmp(word, "tracefs") || !strcmp(word, "libbpf")) {
		e->kind = word[0] == 't' ? KS_J_TRACEFS : KS_J_LIBBPF;
		if (sscanf(line, " %31s %127s%n", e->file, e->name, &n) != 2 || line[n])
			return -1;
		/* only the two probe files, and names that cannot reach outside them */
		if ((strcmp(e->file, "uprobe_events") && strcmp(e->file, "kprobe_events")) ||
		    strpbrk(e->name, " \t:"))
			return -1;
		return 0;
	}
	return -1;
}

int ks_journal_format(const struct ks_jent *e, char *buf, size_t len)
{
	int n;

	switch (e->kind) {
	case KS_J_OWNER:
		n = snprintf(buf, len, "owner %" PRIu64 " %" PRIu64 "\n", e->pid, e->start);
		break;
	case KS_J_QDISC:
		n = snprintf(buf, len, "tc-qdisc %" PRIu64 " %d %s\n", e->tc.netns, e->tc.ifindex,
			     qstates[e->qstate]);
		break;
	case KS_J_FILTER:
		n = snprintf(buf, len, "tc-filter %" PRIu64 " %d %x %x %u %u\n", e->tc.netns,
			     e->tc.ifindex, e->tc.parent, e->tc.handle, e->tc.prio, e->tc.prog_id);
		break;
	case KS_J_TRACEFS:
	case KS_J_LIBBPF:
		n = snprintf(buf, len, "%s %s %s\n", e->kind == KS_J_TRACEFS ? "tracefs" : "libbpf",
			     e->file, e->name);
		break;
	default:
		return -1;
	}
	return n < 0 || (size_t)n >= len ? -1 : n;
}
