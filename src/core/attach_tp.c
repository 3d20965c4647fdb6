// SPDX-License-Identifier: GPL-2.0
/*
 * Classic tracepoints named at run time (ksight trace): the program is attached through a
 * perf event of the tracepoint, by a BPF link or the event's fd, which the kernel drops
 * when ksight's fd closes. A tracepoint's raw arguments: a tp_btf or raw_tp link.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "core/attachments.h"
#include "core/session_int.h"

int ks_attach_tracepoint(struct ks_ctx *c, struct bpf_program *prog, const char *category,
			 const char *name)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };

	if (!in)
		return -EINVAL;
	a.link = bpf_program__attach_tracepoint(prog, category, name);
	if (!a.link)
		return ks_att_fail(in, -errno, "tracepoint %s:%s: %s", category, name,
				   strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_raw_tp(struct ks_ctx *c, struct bpf_program *prog, const char *name, bool btf)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };

	if (!in)
		return -EINVAL;
	a.link = btf ? bpf_program__attach_trace(prog) :
		       bpf_program__attach_raw_tracepoint(prog, name);
	if (!a.link)
		return ks_att_fail(in, -errno, "%s %s: %s", btf ? "tp_btf" : "raw_tp", name,
				   strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}
