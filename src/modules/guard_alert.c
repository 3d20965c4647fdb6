// SPDX-License-Identifier: GPL-2.0
/* guard's alerts (guard_alert.h): a matched rule as a record, counted per rule and severity. */
#include <stdio.h>
#include <string.h>

#include "core/ident.h"
#include "core/module.h"
#include "core/path.h"
#include "guard.h"
#include "guard_lsm.h"
#include "modules/guard_alert.h"
#include "modules/guard_deny.h"
#include "modules/guard_net.h"
#include "modules/guard_rules.h"
#include "modules/uring_tp.h"

/* A kernel path, cleaned (a relative name joined in the kernel keeps "." and ".."). */
void guard_clean_path(const char *p, size_t n, char *out, size_t len)
{
	n = strnlen(p, n);
	if (!n) {
		out[0] = 0;
		return;
	}
	if (p[0] != '/') {	/* "memfd:NAME" */
		snprintf(out, len, "%.*s", (int)n, p);
		return;
	}
	ks_path_join(NULL, 0, false, p, n, out, len, NULL);
}

void guard_alert(struct ks_ctx *ctx, struct ks_metric *m_alerts, int uring_cov,
		 const struct guard_rule *r, const struct guard_view *v, const struct guard_event *e)
{
	const char *lbl[3] = { r->name, guard_sev_name(r->sev),
			       ks_ident__service(ks_ctx_ident(ctx), &e->hdr) };
	size_t lens[3] = { strlen(lbl[0]), strlen(lbl[1]), strlen(lbl[2]) };
	char msg[1024], sees[1024], blind[1024];
	const struct ks_hdr *h = &e->hdr;
	struct ks_rec rec;
	size_t n;

	ks_counter_add(ks_metric_getn(m_alerts, lbl, lens), 1);
	if (!ks_ctx_streaming(ctx))
		return;
	n = 0;
	if (e->flags & GUARD_F_DENIED)	/* --enforce: a BPF LSM hook refused it */
		n = snprintf(msg, sizeof(msg), "blocked (%s): ", guard_hook_name(e->sys));
	n += guard_message(r, v, h->pid, msg + n, sizeof(msg) - n);
	guard_coverage(1U << v->kind, uring_cov, sees, sizeof(sees), blind, sizeof(blind));
	ks_rec_init(&rec, "alert", h);
	ks_rec_str(&rec, "severity", "SEVERITY", -8, lbl[1], lens[1]);
	ks_rec_str(&rec, "rule", "RULE", -22, r->name, lens[0]);
	ks_rec_uint(&rec, NULL, "PID", 7, h->pid);
	ks_rec_kstr(&rec, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_uint(&rec, "uid", "UID", 6, h->uid);
	ks_rec_str(&rec, "event", NULL, 0, guard_kind_name(v->kind), strlen(guard_kind_name(v->kind)));
	ks_rec_kstr(&rec, "message", "MESSAGE", 0, msg, n, false);
	ks_rec_kstr(&rec, "path", NULL, 0, v->path, strlen(v->path), e->flags & GUARD_F_CUT);
	if (*v->path2)
		ks_rec_kstr(&rec, "path2", NULL, 0, v->path2, strlen(v->path2), false);
	if (e->kind == GUARD_K_XATTR && v->how)	/* the attribute's name */
		ks_rec_kstr(&rec, "xattr", NULL, 0, v->how, strlen(v->how), false);
	ks_rec_int(&rec, "ret", NULL, 0, e->ret);
	ks_rec_uint(&rec, "euid", NULL, 0, e->euid);
	ks_rec_uint(&rec, "ppid", NULL, 0, e->ppid);
	ks_rec_kstr(&rec, "parent", NULL, 0, e->pcomm, sizeof(e->pcomm), false);
	ks_rec_kstr(&rec, "exe", NULL, 0, v->exe, strlen(v->exe), false);
	for (size_t i = 0; i < 3; i++)
		ks_rec_uint(&rec, i == 0 ? "arg0" : i == 1 ? "arg1" : "arg2", NULL, 0, e->arg[i]);
	ks_rec_add(&rec, "memfd", NULL, 0, KS_V_BOOL)->u = !!(e->flags & GUARD_F_MEMFD);
	ks_rec_add(&rec, "setuid", NULL, 0, KS_V_BOOL)->u = !!(e->flags & GUARD_F_SETUID);
	if (v->peer && *v->peer)
		ks_rec_str(&rec, "peer", NULL, 0, v->peer, strlen(v->peer));
	if (e->kind == GUARD_K_EXEC || e->kind == GUARD_K_DUP)
		ks_rec_uint(&rec, "sockfds", NULL, 0, e->sockfds & 7);
	if (v->target)
		ks_rec_uint(&rec, "target", NULL, 0, v->target);
	if ((e->kind == GUARD_K_AUTH || e->kind == GUARD_K_SESSION) && v->pam) {
		const struct guard_pam_text *t = v->pam;

		/* unknown: null (a KSTR without bytes) */
		ks_rec_kstr(&rec, "user", NULL, 0, t->user, t->user ? strlen(t->user) : 0,
			    t->user_cut);
		ks_rec_kstr(&rec, "rhost", NULL, 0, t->rhost, t->rhost ? strlen(t->rhost) : 0,
			    t->rhost_cut);
		ks_rec_kstr(&rec, "pam_service", NULL, 0, t->service,
			    t->service ? strlen(t->service) : 0, false);
		ks_rec_kstr(&rec, "ruser", NULL, 0, t->ruser, t->ruser ? strlen(t->ruser) : 0,
			    t->ruser_cut);
		if (t->user_cut || t->rhost_cut || t->ruser_cut)	/* filled their fields: maybe cut */
			ks_rec_add(&rec, "names_cut", NULL, 0, KS_V_BOOL)->u = 1;
	}
	/* how it was seen: a syscall, or an io_uring request (its opcode); denied at an
	 * LSM hook */
	if (e->flags & GUARD_F_DENIED) {
		ks_rec_str(&rec, "via", NULL, 0, "lsm", 3);
		ks_rec_add(&rec, "blocked", NULL, 0, KS_V_BOOL)->u = 1;
		ks_rec_str(&rec, "hook", NULL, 0, guard_hook_name(e->sys),
			   strlen(guard_hook_name(e->sys)));
	} else if (e->flags & GUARD_F_URING) {
		const char *op = ks_uring_op_short(e->sys);
		char num[16];

		if (!op)
			snprintf(num, sizeof(num), "op%u", e->sys), op = num;
		ks_rec_str(&rec, "via", NULL, 0, "io_uring", 8);
		ks_rec_str(&rec, "opcode", NULL, 0, op, strlen(op));
		ks_rec_add(&rec, "result_known", NULL, 0, KS_V_BOOL)->u =
			!(e->flags & GUARD_F_NORES);
	} else if (e->kind < GUARD_K_AUTH || e->kind >= GUARD_K_LINK) {
		ks_rec_str(&rec, "via", NULL, 0, "syscall", 7);
	}
	ks_rec_str(&rec, "sees", NULL, 0, sees, strlen(sees));
	ks_rec_str(&rec, "blind", NULL, 0, blind, strlen(blind));
	ks_emit(ctx, &rec);
}
