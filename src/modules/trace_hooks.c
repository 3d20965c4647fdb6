// SPDX-License-Identifier: GPL-2.0
/*
 * Which of trace's programs runs a probe, shared by ksight trace (trace.c) and the
 * instances of ksight run --metrics (metrics_run.c): a kernel function's family (fentry,
 * else a kprobe) and a raw tracepoint's (tp_btf, else raw_tp), chosen by trial loads,
 * never by the kernel's version, then the program of that kind and family with its target
 * set before load.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/probe.h"
#include "modules/trace_int.h"
#include "trace.skel.h"

static int no_probe(const char *text, char *err, size_t len)
{
	snprintf(err, len, "%s: cannot probe the kernel: %s", text, strerror(errno));
	return -1;
}

int trace_kfunc_choose(struct trace_probe *p, const char *text, char *err, size_t len)
{
	char wf[200] = "not tried (kprobe: asks for a kprobe)", wk[200] = "";
	struct ks_probe *pr = ks_probe__new();
	int rc = -1;

	if (!pr)
		return no_probe(text, err, len);
	p->fentry = false;
	if (!p->kprobe_only && !ks_probe(pr, KS_FAM_FENTRY, p->func, wf, sizeof(wf))) {
		p->fentry = true;
		rc = 0;
	} else if (!ks_probe(pr, KS_FAM_KPROBE, p->func, wk, sizeof(wk))) {
		rc = 0;
	} else {
		snprintf(err, len, "%s: kernel functions cannot be traced on this kernel: fentry: "
			 "%s; kprobes: %s", text, wf, wk);
	}
	ks_probe__free(pr);
	return rc;
}

int trace_raw_choose(struct trace_probe *p, const char *text, char *err, size_t len)
{
	char wb[200] = "not tried (--hooks raw_tp)", wr[200] = "not tried (--hooks tp_btf)";
	struct ks_probe *pr = ks_probe__new();
	int rc = -1;

	if (!pr)
		return no_probe(text, err, len);
	p->fentry = false;
	if (p->hooks != KS_HOOKS_RAW_TP && !ks_probe(pr, KS_FAM_TP_BTF, p->name, wb, sizeof(wb))) {
		p->fentry = true;
		rc = 0;
	} else if (p->hooks != KS_HOOKS_TP_BTF &&
		   !ks_probe(pr, KS_FAM_RAW_TP, p->name, wr, sizeof(wr))) {
		rc = 0;
	} else {
		snprintf(err, len, "%s: raw tracepoints cannot be traced on this kernel: tp_btf: "
			 "%s; raw_tp: %s", text, wb, wr);
	}
	ks_probe__free(pr);
	return rc;
}

struct bpf_program *trace_prog(struct trace_bpf *s, const struct trace_probe *p)
{
	switch (p->kind) {
	case TRACE_P_TP:
		return s->progs.trace__tp;
	case TRACE_P_USDT:
		return s->progs.trace__usdt;
	case TRACE_P_KFUNC:
		return p->fentry ? s->progs.trace__fentry : s->progs.trace__kprobe;
	case TRACE_P_RAW:
		return p->fentry ? s->progs.trace__tpbtf : s->progs.trace__rawtp;
	default:
		return s->progs.trace__uprobe;
	}
}

int trace_prog_ready(struct trace_bpf *s, const struct trace_probe *p)
{
	struct bpf_program *prog = trace_prog(s, p);
	int err = 0;

	/* fentry and tp_btf are verified against their target's BTF */
	if (p->fentry && p->kind == TRACE_P_KFUNC)
		err = bpf_program__set_attach_target(prog, 0, p->func);
	else if (p->fentry && p->kind == TRACE_P_RAW)
		err = bpf_program__set_attach_target(prog, 0, p->name);
	if (!err)
		err = bpf_program__set_autoload(prog, true);
	return err;
}
