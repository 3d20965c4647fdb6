// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu: symbolized stacks as text (records and folded lines): which frames to show (not
 * the tracer's own, not the task an interrupt found running) and in which order.
 */
#include <stdio.h>
#include <string.h>

#include "modules/offcpu_int.h"

void offcpu_text_add(struct offcpu_text *t, const char *frame)
{
	int n = snprintf(t->s + t->len, sizeof(t->s) - t->len, "%s%s", t->len ? ";" : "", frame);

	if (n > 0)
		t->len = t->len + n < sizeof(t->s) ? t->len + n : sizeof(t->s) - 1;
}

void offcpu_frame_text(const struct ks_frame *f, bool mark_kernel, char *buf, size_t len)
{
	const char *k = mark_kernel ? "_[k]" : "";

	if (f->name)
		snprintf(buf, len, "%s%s", f->name, k);
	else if (f->module)
		snprintf(buf, len, "[%s]%s", f->module, k);
	else
		snprintf(buf, len, "[unknown]%s", k);
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n' || *c == ' ')
			*c = ':';
}

void offcpu_comm_text(const char *comm, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", TASK_COMM_LEN, comm);
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == ' ' || *c == '\n')
			*c = '_';
	if (!buf[0])
		snprintf(buf, len, "?");
}

static bool tracer_frame(const struct ks_frame *f)
{
	static const char *const pre[] = { "bpf_prog_", "bpf_trace_run", "__traceiter_",
					   "__bpf_trace_", "bpf_trampoline" };

	if (!f->name)
		return false;
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (!strncmp(f->name, pre[i], strlen(pre[i])))
			return true;
	return false;
}

static bool irq_entry(const struct ks_frame *f)
{
	return f->name && (!strncmp(f->name, "asm_sysvec_", 11) ||
			   !strcmp(f->name, "asm_common_interrupt"));
}

int offcpu_frames_keep(const struct ks_frame *f, int n, bool kernel, bool *irq, int *first)
{
	int skip = 0;

	if (kernel)
		while (skip < n && tracer_frame(&f[skip]))
			skip++;
	if (skip == n)		/* nothing else: show what there is */
		skip = 0;
	*first = skip;
	if (irq)
		for (int i = skip; i < n; i++)
			if (irq_entry(&f[i])) {
				*irq = true;
				return i + 1 - skip;
			}
	return n - skip;
}

void offcpu_frames_text(const struct ks_frame *f, int n, bool leaf_first, bool mark_kernel,
			struct offcpu_text *out)
{
	for (int j = 0; j < n; j++) {
		char buf[OFFCPU_FRAME_LEN];

		offcpu_frame_text(&f[leaf_first ? j : n - 1 - j], mark_kernel, buf, sizeof(buf));
		offcpu_text_add(out, buf);
	}
}
