// SPDX-License-Identifier: GPL-2.0
/* The ring buffer's consumer: account, keep identities fresh, hand records to modules. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "core/fdtab.h"
#include "core/session_int.h"
#include "core.skel.h"

/* Slack between a start time from /proc (clock ticks) and one from an exec record. */
#define START_SLACK_NS 50000000ULL

/* The service @e's task had before its exec, into c->exec_from: its own cached image's in
 * its cgroup (an exec in place, or a fork's child some record made known), else its
 * parent's in the parent's cgroup now (the child of a fork nothing saw is its parent's copy
 * until it execs; it may have moved to another cgroup since), else the parent's cgroup's
 * service when that names one. Only the cache is read: nothing waits for /proc. */
static void exec_from(struct ks_ctx *c, const struct ks_proc_exec *e)
{
	const struct ks_proc *p = ks_ident__find(c->ident, e->hdr.pid);
	struct ks_hdr h = e->hdr;
	const char *svc;
	uint64_t d;

	c->exec_from[0] = 0;
	c->exec_from_cg = 0;
	if (!c->pipe.needs_service && c->mode != KS_MODE_AGENT)
		return;	/* no one to name it for: the store's records, the agent's spawns */
	d = p && p->start_ns ? (p->start_ns > e->start_ns ? p->start_ns - e->start_ns :
				e->start_ns - p->start_ns) : 0;
	if (!p || p->exited || d > START_SLACK_NS) {	/* not known, or a reused pid's */
		p = e->ppid ? ks_ident__find(c->ident, e->ppid) : NULL;
		h.cgroup = e->parent_cgroup;
		if (!p || p->exited) {
			svc = h.cgroup ? ks_ident__cgroup_service(c->ident, h.cgroup) : NULL;
			if (svc) {
				snprintf(c->exec_from, sizeof(c->exec_from), "%s", svc);
				c->exec_from_cg = h.cgroup;
			}
			return;
		}
	}
	h.pid = p->pid;
	h.tid = p->pid;
	memcpy(h.comm, p->comm, sizeof(h.comm));
	snprintf(c->exec_from, sizeof(c->exec_from), "%s", ks_ident__service(c->ident, &h));
	c->exec_from_cg = h.cgroup;
}

static void ident_exec(struct ks_ctx *c, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exec *e = (const void *)h;
	size_t flen, alen;

	if (size < sizeof(*e))
		return;
	flen = e->filename_len;
	alen = e->args_len;
	if (sizeof(*e) + flen > size || sizeof(*e) + flen + alen > size || !flen)
		return;
	exec_from(c, e);
	ks_ident__exec(c->ident, h, e->ppid, e->uid, e->start_ns, (const char *)e->data,
		       (const char *)e->data + flen, alen, e->args_total > e->args_len);
}

static void ident_exit(struct ks_ctx *c, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exit *e = (const void *)h;

	if (size >= sizeof(*e))
		ks_ident__exit(c->ident, h, e->ppid, e->uid, e->start_ns);
}

int ks_ctx_on_record(void *ctx, void *data, size_t size)
{
	struct ks_ctx *c = ctx;
	const struct ks_hdr *h = data;
	struct ks_inst *in;
	unsigned int type;

	if (size < sizeof(*h) || h->size > size || h->size < sizeof(*h) ||
	    h->version != KS_HDR_VERSION) {
		c->malformed++;
		return 0;
	}
	type = h->type & (KS_EV_MAX - 1);
	ks_loss_record(&c->loss, h->cpu, h->level, h->seq, type);
	ks_worker__drain(c->worker);	/* publish what /proc said meanwhile: one atomic load */
	if (type == KS_EV_PROC_EXEC)
		ident_exec(c, h, h->size);
	for (int k = 0; k < KS_TYPE_MODS && (in = c->by_type[type][k]); k++)
		if (!in->failed && in->m->event)
			in->m->event(c, in->state, h, h->size);
	if (type == KS_EV_PROC_EXEC || type == KS_EV_PROC_EXIT) {
		for (int i = 0; i < c->ninst; i++)
			if (!c->inst[i].failed && c->inst[i].m->proc)
				c->inst[i].m->proc(c, c->inst[i].state, h, h->size);
		ks_ctx_tables_proc(c, h);
	}
	if (type == KS_EV_PROC_EXIT)
		ident_exit(c, h, h->size);
	return 0;
}

/* The runs of @obj's loaded programs the kernel skipped as recursive. */
static uint64_t missed_runs(struct bpf_object *obj)
{
	struct bpf_program *prog;
	uint64_t n = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			n += info.recursion_misses;
	}
	return n;
}

void ks_ctx_read_kernel_counters(struct ks_ctx *c)
{
	size_t n = c->ncpu;
	struct ks_cpu_stats *st = calloc(n, sizeof(*st));
	uint64_t *seq = calloc(n * KS_LEVELS, sizeof(*seq)), *unleveled = calloc(n, sizeof(*seq));
	uint64_t *lost = calloc(n * KS_EV_MAX, sizeof(*lost));
	__u32 key = 0;

	if (!st || !seq || !unleveled || !lost || !c->skel)
		goto cleanup;
	if (bpf_map__lookup_elem(c->skel->maps.ks_stats, &key, sizeof(key), st, n * sizeof(*st), 0))
		goto cleanup;
	c->loss.backup_runs = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(&seq[i * KS_LEVELS], st[i].seq, sizeof(st[i].seq));
		unleveled[i] = st[i].unleveled;
		c->loss.backup_runs += st[i].backup_runs;
		memcpy(&lost[i * KS_EV_MAX], st[i].lost, sizeof(st[i].lost));
	}
	ks_loss_kernel(&c->loss, seq, unleveled, lost);
	c->loss.missed_runs = c->core.o.obj ? missed_runs(c->core.o.obj) : 0;
	for (int i = 0; i < c->ninst; i++)
		if (!c->inst[i].failed && c->inst[i].o.obj)
			c->loss.missed_runs += missed_runs(c->inst[i].o.obj);
cleanup:
	free(st);
	free(seq);
	free(unleveled);
	free(lost);
}
