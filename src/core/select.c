// SPDX-License-Identifier: GPL-2.0
/* Hook selection for a session, and `ksight status`'s account of it. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "core/session_int.h"

/* The core's own jobs: the process lifecycle that feeds the identity cache. */
const struct ks_slot ks_core_slots[] = {
	{
		.name = "process exec",
		.alts = {
			{ KS_FAM_TP_BTF, { { "core__exec_btf", "sched_process_exec" } } },
			{ KS_FAM_RAW_TP, { { "core__exec_raw", "sched_process_exec" } } },
			{ KS_FAM_TP, { { "core__exec_tp", "sched/sched_process_exec" } } },
		},
	},
	{
		.name = "process exit",
		.alts = {
			{ KS_FAM_TP_BTF, { { "core__exit_btf", "sched_process_exit" } } },
			{ KS_FAM_RAW_TP, { { "core__exit_raw", "sched_process_exit" } } },
			{ KS_FAM_TP, { { "core__exit_tp", "sched/sched_process_exit" } } },
		},
	},
	{ 0 },
};

const char *ks_dispatcher_prog(int family, bool enter)
{
	static const char *const progs[][2] = {
		[KS_FAM_TP_BTF] = { "core__sys_exit_btf", "core__sys_enter_btf" },
		[KS_FAM_RAW_TP] = { "core__sys_exit_raw", "core__sys_enter_raw" },
		[KS_FAM_TP] = { "core__sys_exit_tp", "core__sys_enter_tp" },
	};

	return progs[family][enter];
}

const struct ks_alt *ks_inst_alt(const struct ks_inst *in, int s)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;

	if (!in->wanted[s] || in->choice[s].alt < 0)
		return NULL;
	return &slots[s].alts[in->choice[s].alt];
}

bool ks_inst_dispatched(const struct ks_inst *in)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;

	for (int s = 0; s < KS_MAX_SLOTS && slots[s].name; s++) {
		const struct ks_alt *a = ks_inst_alt(in, s);

		if (a && a->family == KS_FAM_SYSCALL)
			return true;
	}
	return false;
}

/* Each syscall number routed to @in through the dispatcher, by @fn(in, nr, arg); stops
 * at the first nonzero return and returns it. */
static int each_routed(const struct ks_inst *in, int (*fn)(const struct ks_inst *, int, void *),
		       void *arg)
{
	for (int s = 0; s < KS_MAX_SLOTS && in->m->slots[s].name; s++) {
		const struct ks_alt *a = ks_inst_alt(in, s);

		if (!a || a->family != KS_FAM_SYSCALL)
			continue;
		for (const int *p = a->syscalls; p && *p != -1; p++) {
			bool all = *p == KS_SYS_ALL;

			for (int nr = all ? 0 : *p; nr < (all ? KS_SYS_MAX : *p + 1); nr++) {
				int r = nr >= 0 && nr < KS_SYS_MAX ? fn(in, nr, arg) : 0;

				if (r)
					return r;
			}
		}
	}
	return 0;
}

static unsigned int inline_of(const struct ks_inst *in, int nr)
{
	return in->m->sys_inline ? in->m->sys_inline(in->state, nr) & KS_SYS_INLINE_OP : 0;
}

/* The KS_SYS_IO_* kind bits of a KS_SYS_INLINE_READ/WRITE call. */
static __u16 io_kind_flags(const struct ks_inst *in, int nr)
{
	unsigned int f = in->m->sys_inline(in->state, nr);

	return (f & KS_SYS_INLINE_KINDS ? KS_SYS_IO_KINDS : 0) |
	       (f & KS_SYS_INLINE_ON_SOCK ? KS_SYS_IO_ON_SOCK : 0) |
	       (f & KS_SYS_INLINE_ON_FILE ? KS_SYS_IO_ON_FILE : 0);
}

static int needs_handler(const struct ks_inst *in, int nr, void *arg)
{
	return !inline_of(in, nr);
}

bool ks_inst_all_inline(const struct ks_inst *in)
{
	return in->m && in->m->sys_inline && !each_routed(in, needs_handler, NULL);
}

/* Where the fd of a KS_SYS_INLINE_WRITE[_ARGn] call is, for the dispatcher. */
static const __u16 io_fd_arg[] = { 0, KS_SYS_IO_FD_ARG1, KS_SYS_IO_FD_ARG2 };

struct route_args {
	struct ks_sys_route *route;
	bool tp, timed;
};

static int add_route(const struct ks_inst *in, int nr, void *arg)
{
	const struct route_args *ra = arg;
	struct ks_sys_route *r = &ra->route[nr];

	switch (inline_of(in, nr)) {
	case KS_SYS_INLINE_COUNT:
		r->count = ra->timed ? KS_SYS_COUNT_TIMED : KS_SYS_COUNT;
		r->enter |= ra->timed;
		break;
	case KS_SYS_INLINE_READ:
		r->io = KS_SYS_IO_READ | io_kind_flags(in, nr);
		r->enter |= ra->tp;	/* the fd: no registers at a classic tracepoint's exit */
		break;
	case KS_SYS_INLINE_WRITE:
	case KS_SYS_INLINE_WRITE_ARG1:
	case KS_SYS_INLINE_WRITE_ARG2:
		r->io = KS_SYS_IO_WRITE | io_fd_arg[inline_of(in, nr) - KS_SYS_INLINE_WRITE] |
			io_kind_flags(in, nr);
		r->enter |= ra->tp;	/* the fd: no registers at a classic tracepoint's exit */
		break;
	default:
		r->exit_mask |= 1ULL << in->m->id;
		/* classic tracepoints have no registers at exit: keep the arguments */
		r->enter |= ra->tp || ra->timed;
	}
	return 0;
}

void ks_inst_routes(const struct ks_ctx *c, const struct ks_inst *in, struct ks_sys_route *route)
{
	struct route_args ra = { .route = route, .tp = c->dispatcher == KS_FAM_TP,
				 .timed = in->m->want_enter && in->m->want_enter(in->state) };

	each_routed(in, add_route, &ra);
}

static bool slot_uses_syscalls(const struct ks_slot *s)
{
	for (int i = 0; i < ks_slot_nalts(s); i++)
		if (s->alts[i].family == KS_FAM_SYSCALL)
			return true;
	return false;
}

static bool slot_has_family(const struct ks_slot *s, enum ks_family f)
{
	for (int i = 0; i < ks_slot_nalts(s); i++)
		if (s->alts[i].family == f ||
		    (s->alts[i].family == KS_FAM_SYSCALL && f >= KS_FAM_TP_BTF && f <= KS_FAM_TP))
			return true;
	return false;
}

static int select_inst(struct ks_ctx *c, struct ks_inst *in, enum ks_family forced)
{
	const struct ks_slot *slots = in->m ? in->m->slots : ks_core_slots;
	const char *name = in->m ? in->m->name : "core";
	bool forced_used = false;

	for (int i = 0; i < KS_MAX_SLOTS && slots[i].name; i++) {
		int err;

		if (!in->wanted[i])
			continue;
		err = ks_select_slot(&slots[i], ks_probe, c->probe, forced, c->dispatcher,
				     &in->choice[i]);
		if (err && slots[i].absent) {
			/* optional: the module runs without it, and says so once */
			if (c->mode != KS_MODE_STATUS)
				ks_ctx_say(c, slots[i].absent, NULL);
			continue;
		}
		if (err) {
			const struct ks_choice *ch = &in->choice[i];
			const char *why = "no usable hook";

			/* the reason of the preferred alternative that was tried */
			for (int k = 0; k < ks_slot_nalts(&slots[i]); k++)
				if (ch->st[k].err < 0) {
					why = ch->st[k].why;
					break;
				}
			snprintf(in->err, sizeof(in->err), "%s: cannot %s: %s", name,
				 slots[i].name, why);
			return err;
		}
		forced_used |= slot_has_family(&slots[i], forced);
	}
	/* a tool asked for a family it does not have; the agent keeps such modules' defaults */
	if (in->m && forced != KS_FAM_N && !forced_used && c->mode == KS_MODE_TOOL) {
		snprintf(in->err, sizeof(in->err), "%s: has no %s programs (--hooks=%s)", name,
			 ks_family_name(forced), ks_family_name(forced));
		return -EOPNOTSUPP;
	}
	return 0;
}

int ks_ctx_select(struct ks_ctx *c)
{
	enum ks_family forced = ks_hooks_family(c->common.hooks);
	int ok = 0, err = 0;

	c->need_dispatcher = false;
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];

		for (int s = 0; s < KS_MAX_SLOTS && in->m->slots[s].name; s++) {
			in->wanted[s] = !in->m->want_slot || in->m->want_slot(in->state,
									      &in->m->slots[s]);
			if (in->wanted[s] && slot_uses_syscalls(&in->m->slots[s]))
				c->need_dispatcher = true;
		}
	}
	c->dispatcher = -ENOENT;
	if (c->need_dispatcher)
		c->dispatcher = ks_select_dispatcher(ks_probe, c->probe, forced, c->disp_st);

	/* the lifecycle feeds identities to streaming modules and ends threads' syscall
	 * entries; aggregating modules alone (biolat) need neither */
	bool lifecycle = c->need_dispatcher && c->dispatcher == KS_FAM_TP;

	for (int i = 0; i < c->ninst; i++) {
		const struct ks_module *m = c->inst[i].m;

		lifecycle |= m->event || (m->want_enter && m->want_enter(c->inst[i].state));
	}
	for (int s = 0; ks_core_slots[s].name; s++)
		c->core.wanted[s] = lifecycle;
	err = select_inst(c, &c->core, forced);
	if (err) {
		ks_ctx_say(c, c->core.err, NULL);
		return err;
	}
	for (int i = 0; i < c->ninst; i++) {
		struct ks_inst *in = &c->inst[i];
		int e = select_inst(c, in, forced);

		if (!e) {
			ok++;
			continue;
		}
		err = e;
		in->failed = true;
		if (c->mode != KS_MODE_STATUS)
			ks_ctx_say(c, in->err,
				   c->mode == KS_MODE_AGENT ? " (module skipped)" : NULL);
	}
	if (c->mode == KS_MODE_TOOL && err)
		return err;
	if (c->mode == KS_MODE_AGENT && !ok)
		return err ? err : -ENOENT;
	return 0;
}

static void print_slot(FILE *f, const struct ks_slot *slot, const struct ks_choice *ch,
		       int dispatcher)
{
	fprintf(f, "  %-22s ", slot->name);
	if (ch->alt < 0 && slot->absent) {
		fprintf(f, "absent-optional (%s)\n", slot->absent);
	} else if (ch->alt < 0) {
		fprintf(f, "unavailable\n");
	} else if (slot->alts[ch->alt].family == KS_FAM_SYSCALL) {
		fprintf(f, "syscalls (%s)\n", ks_family_name(dispatcher));
	} else {
		fprintf(f, "%s\n", ks_family_name(ch->family));
	}
	for (int k = 0; k < ks_slot_nalts(slot); k++) {
		const struct ks_alt_status *st = &ch->st[k];

		if (k == ch->alt)
			continue;
		fprintf(f, "  %-22s   %-8s %s\n", "", ks_family_name(slot->alts[k].family),
			st->err < 0 ? st->why : st->err > 0 ? "not selected by --hooks" :
							      "usable (a cheaper one was chosen)");
	}
}

/* What loading said of @in's object, when status had it verified. */
static const char *verdict(const struct ks_ctx *c, const struct ks_inst *in, char *buf,
			   size_t len)
{
	if (!c->verified)
		return "";
	snprintf(buf, len, "  (verified: %d program%s, %.0f ms)", in->o.nprogs,
		 in->o.nprogs == 1 ? "" : "s", in->o.load_ms);
	return buf;
}

void ks_ctx__print_hooks(struct ks_ctx *c, FILE *f)
{
	static const enum ks_family df[3] = { KS_FAM_TP_BTF, KS_FAM_RAW_TP, KS_FAM_TP };
	struct utsname u;
	char buf[80];

	uname(&u);
	fprintf(f, "kernel   %s %s\n", u.release, u.machine);
	fprintf(f, "btf      %s\n", ks_probe__btf(c->probe) ? "/sys/kernel/btf/vmlinux" :
								  "missing (CO-RE needs CONFIG_DEBUG_INFO_BTF)");
	fprintf(f, "syscalls dispatcher: ");
	if (c->dispatcher >= 0)
		fprintf(f, "%s\n", ks_family_name(c->dispatcher));
	else
		fprintf(f, "unavailable\n");
	for (int k = 0; k < 3 && c->need_dispatcher; k++)
		if (c->disp_st[k].err)
			fprintf(f, "  %-22s   %-8s %s\n", "", ks_family_name(df[k]),
				c->disp_st[k].err > 0 ? "not selected by --hooks" : c->disp_st[k].why);
	fprintf(f, "\ncore%s\n", verdict(c, &c->core, buf, sizeof(buf)));
	for (int s = 0; ks_core_slots[s].name; s++)
		print_slot(f, &ks_core_slots[s], &c->core.choice[s], c->dispatcher);
	for (int i = 0; i < c->ninst; i++) {
		const struct ks_inst *in = &c->inst[i];

		fprintf(f, "\n%s%s\n", in->m->name,
			in->failed ? "  (cannot run here)" : verdict(c, in, buf, sizeof(buf)));
		if (in->failed && in->err[0])
			fprintf(f, "  %s\n", in->err);
		for (int s = 0; s < KS_MAX_SLOTS && in->m->slots[s].name; s++)
			if (in->wanted[s])
				print_slot(f, &in->m->slots[s], &in->choice[s], c->dispatcher);
		if (in->m->status) {
			char note[256] = "";

			in->m->status(c, note, sizeof(note));
			if (note[0])
				fprintf(f, "  note: %s\n", note);
		}
	}
}
