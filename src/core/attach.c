// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching the loaded programs, and taking everything off again. Every attachment is a
 * link owned by the object that made it, or by the module's set of run-time attachments
 * (attset.h: what its attach callback made), so nothing outlives the process but the
 * legacy objects legacy.h accounts for. Modules go first; a module that cannot attach is
 * dropped (agent) and its syscall routes with it; the core's lifecycle and the dispatcher
 * go last, once every handler they reach is in.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/legacy.h"
#include "core/objects.h"
#include "core/session_int.h"


static int keep_link(struct ks_bpfobj *o, struct bpf_link *l)
{
	if (o->nlinks == o->caplinks) {
		int cap = o->caplinks ? o->caplinks * 2 : 8;
		struct bpf_link **n = realloc(o->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		o->links = n;
		o->caplinks = cap;
	}
	o->links[o->nlinks++] = l;
	return 0;
}

static void unlink_all(struct ks_bpfobj *o)
{
	for (int i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]);
	o->nlinks = 0;
}

/* Everything @in attached: its static programs' links and its run-time attachments. */
static void unlink_inst(struct ks_inst *in)
{
	ks_attset_clear(&in->dyn);
	unlink_all(&in->o);
}

static int attach_prog(struct ks_ctx *c, struct ks_inst *in, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(in->o.obj, name);
	struct bpf_link *l = p ? bpf_program__attach(p) : NULL;
	int err;

	if (!l) {
		err = p ? -errno : -ENOENT;
		snprintf(in->err, sizeof(in->err), "%s: cannot attach %s: %s",
			 in->m ? in->m->name : "core", name, strerror(-err));
		return err;
	}
	return keep_link(&in->o, l);
}

/* Attach the programs of @in's chosen alternatives (not the tail-called handlers). */
static int attach_inst(struct ks_ctx *c, struct ks_inst *in)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;
	int err;

	for (int s = 0; s < KS_MAX_SLOTS && slots[s].name; s++) {
		const struct ks_alt *a = ks_inst_alt(in, s);

		if (!a || a->family == KS_FAM_SYSCALL || ks_family_dynamic(a->family))
			continue;
		/* without the kprobe PMU libbpf makes tracefs events (libbpf_<pid>_...) that
		 * would outlive a killed ksight: recorded first (legacy.h) */
		if (a->family == KS_FAM_KPROBE &&
		    access("/sys/bus/event_source/devices/kprobe/type", F_OK) &&
		    (err = ks_legacy_note_libbpf("kprobe_events"))) {
			snprintf(in->err, sizeof(in->err), "%s: cannot record its kprobes in "
				 KS_LEGACY_DIR ": %s", in->m ? in->m->name : "core", strerror(-err));
			return err;
		}
		for (int k = 0; k < KS_ALT_PROGS && a->p[k].prog; k++)
			if ((err = attach_prog(c, in, a->p[k].prog)))
				return err;
	}
	/* then what only the module knows how to attach (core/attachments.h) */
	if (in->m && in->m->attach && (err = in->m->attach(c, in->state, in->o.skel))) {
		if (!in->err[0])
			snprintf(in->err, sizeof(in->err), "%s: cannot attach: %s", in->m->name,
				 strerror(-err));
		return err;
	}
	return 0;
}

int ks_ctx_attach(struct ks_ctx *c)
{
	int err, ok = 0;

	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		if (in->failed)
			continue;
		if (!(err = attach_inst(c, in))) {
			ok++;
			continue;
		}
		unlink_inst(in);
		ks_ctx_say(c, in->err, c->mode == KS_MODE_AGENT ? " (module skipped)" : NULL);
		if (c->mode != KS_MODE_AGENT)
			return err;
		in->failed = true;
	}
	if (!ok && c->ninst)
		return -ENOENT;
	if (c->need_dispatcher && (err = ks_ctx_route(c))) {
		fprintf(stderr, "ksight %s: cannot route syscalls to the modules: %s\n", c->label,
			strerror(-err));
		return err;
	}
	err = attach_inst(c, &c->core);
	if (!err && c->need_dispatcher && c->dispatcher >= 0) {
		err = attach_prog(c, &c->core, ks_dispatcher_prog(c->dispatcher, false));
		if (!err && c->need_enter)
			err = attach_prog(c, &c->core, ks_dispatcher_prog(c->dispatcher, true));
	}
	if (err)
		ks_ctx_say(c, c->core.err, NULL);
	c->nlinks = c->core.o.nlinks;
	for (int i = 0; i < c->ninst; i++)
		c->nlinks += c->inst[i].o.nlinks + c->inst[i].dyn.n;
	return err;
}

void ks_ctx_detach(struct ks_ctx *c)
{
	/* the dispatcher first: no call reaches a handler whose module is going */
	unlink_all(&c->core.o);
	for (int i = 0; i < c->ninst; i++)
		unlink_inst(&c->inst[i]);
	c->nlinks = 0;
	ks_legacy_release();
}
