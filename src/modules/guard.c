// SPDX-License-Identifier: GPL-2.0
/*
 * guard: security monitoring. The kernel side sends up the security-relevant calls its
 * cheap filters let through (watched paths, wanted kinds); each is matched here against
 * the rules (built in, --rules files) and every match is an alert. Observes by default;
 * with --enforce, rules with `action: deny` also deny through BPF LSM (guard_deny.c).
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ident.h"
#include "core/module.h"
#include "core/path.h"
#include "guard.skel.h"
#include "guard.h"
#include "guard_lsm.h"
#include "modules/guard_agent.h"
#include "modules/guard_alert.h"
#include "modules/guard_net.h"
#include "modules/guard_index.h"
#include "modules/guard_deny.h"
#include "modules/guard_rules.h"
#include "modules/guard_slots.h"
#include "modules/uring_tp.h"

extern const struct ks_module guard_module;

/* guard_uring_procs' key (bpf/guard_uring.bpf.h) */
struct uring_img {
	uint32_t tgid;
	uint32_t pad;
	uint64_t mm;
};

struct guard_state {
	struct ks_strs files;		/* --rules FILE... */
	bool list;			/* --list-rules */
	struct guard_rules rules;
	struct guard_filter *filter;
	struct guard_index *index;	/* which rules an event must be checked against */
	uint32_t *hits;			/* the rules an event matched (room for all) */
	struct ks_metric *m_alerts;	/* per rule and severity */
	struct ks_series *s_events;	/* records matched against the rules */
	struct ks_series *s_lost, *s_rescued;	/* ksight_guard_records_{lost,rescued}_total */
	int listeners_fd;		/* guard_listeners, forgotten at a process's exit */
	uint64_t reserve_size;		/* --reserve-size: guard_rb's bytes */
	struct ks_ctx *ctx;
	int rb_lost_fd;			/* guard_rb_lost: records even the reserve lost */
	uint64_t rescued, rescued_said;	/* records that came through the reserve */
	uint64_t lost, lost_checked_ns;	/* what guard_rb_lost said last, and when */
	int reserve_fd;
	int uring_procs_fd;		/* guard_uring_procs, forgotten at a process's exit */
	struct uring_img *imgs;		/* its keys: each process's last io_uring image */
	size_t nimgs, capimgs;
	struct ks_uring_shape uring;	/* the io_uring tracepoints this kernel has */
	int uring_cov;			/* enum guard_uring_cov: what is attached */
	bool enforce;			/* --enforce: deny rules deny (BPF LSM) */
	uint32_t deny_kinds;		/* 1 << enum guard_dk some deny rule names */
};

static const struct ks_metric_desc alerts_desc = {
	.name = "ksight_guard_alerts_total",
	.help = "Alerts raised, per rule and severity",
	.type = KS_METRIC_COUNTER,
	.labels = { "rule", "severity", "service" },
	.budget = 1024,
};

static const struct ks_metric_desc events_desc = {
	.name = "ksight_guard_events_total",
	.help = "Events the kernel sent up and the rules were matched against",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_opt guard_opts[] = {
	{ "rules", 'r', KS_OPT_STRS, offsetof(struct guard_state, files), "FILE",
	  "add rules from a YAML file (same name: replaces; `enabled: false`: off); repeatable",
	  0, 4096 },
	{ "list-rules", 0, KS_OPT_FLAG, offsetof(struct guard_state, list), NULL,
	  "print the rules in force (with --rules: after them), what each sees and not, exit" },
	{ "reserve-size", 0, KS_OPT_SIZE, offsetof(struct guard_state, reserve_size), "BYTES",
	  "guard's own ring for the records the shared ring cannot take (power of two, "
	  "default 256K)", 4096, 1ULL << 30 },
	{ "enforce", 0, KS_OPT_FLAG, offsetof(struct guard_state, enforce), NULL,
	  "deny (EPERM) what rules with `action: deny` match, through BPF LSM; off by default: "
	  "without it such rules only alert" },
	{ 0 },
};

#define PAM_KINDS ((1U << GUARD_K_AUTH) | (1U << GUARD_K_SESSION))
#define FD_KINDS ((1U << GUARD_K_DUP) | (1U << GUARD_K_MEMWRITE))
/* the kinds io_uring requests can be */
#define URING_KINDS ((1U << GUARD_K_URING) | (1U << GUARD_K_WRITE) | (1U << GUARD_K_READ) | \
		     (1U << GUARD_K_RENAME) | (1U << GUARD_K_UNLINK) | (1U << GUARD_K_TRUNCATE) | \
		     (1U << GUARD_K_LINK) | (1U << GUARD_K_SYMLINK) | (1U << GUARD_K_MKDIR))
/* the kinds of the links slot */
#define LINK_KINDS ((1U << GUARD_K_LINK) | (1U << GUARD_K_SYMLINK) | (1U << GUARD_K_MKDIR) | \
		    (1U << GUARD_K_XATTR))

static bool guard_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct guard_state *st = state;

	if (slot == &guard_slots[SL_URING_NEW] || slot == &guard_slots[SL_URING_OLD]) {
		if (st->uring.old != (slot == &guard_slots[SL_URING_OLD]))
			return false;
		/* also for io_uring's LISTEN, which makes a network service */
		return !st->filter || (st->filter->kinds & URING_KINDS) ||
		       (st->filter->xflags & GUARD_F_NETPARENT);
	}
	/* --enforce only; not in `ksight status` (its attach families say whether BPF LSM
	 * runs here) */
	if (slot == &guard_slots[SL_LSM])
		return st->enforce;
	if (!st->filter)	/* `ksight status`: everything */
		return true;
	if (slot == &guard_slots[SL_PAM])
		return st->filter->kinds & PAM_KINDS;
	if (slot == &guard_slots[SL_LINKS])
		return st->filter->kinds & LINK_KINDS;
	if (slot == &guard_slots[SL_FDS])
		return (st->filter->kinds & FD_KINDS) || (st->filter->xflags & GUARD_F_NETPARENT);
	return true;
}

static const struct ks_evtype guard_types[] = {
	{ GUARD_EV_EVENT, "guard" },
	{ 0 },
};

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* `ksight run --modules ...,guard --guard-rules FILE` */
static const struct ks_opt guard_agent_opts[] = {
	{ "guard-rules", 0, KS_OPT_STRS, offsetof(struct guard_state, files), "FILE",
	  "guard (--modules ...,guard): add rules from a YAML file; repeatable", 0, 4096 },
	{ "guard-reserve-size", 0, KS_OPT_SIZE, offsetof(struct guard_state, reserve_size),
	  "BYTES", "guard: its own ring for the records the shared ring cannot take (power of "
	  "two, default 256K)", 4096, 1ULL << 30 },
	{ 0 },
};

static void guard_summary(struct ks_ctx *ctx, void *state, double secs)
{
	guard_agent_summary(ctx, ((struct guard_state *)state)->m_alerts, secs);
}

static int guard_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct guard_state *st = state;

	if (guard_rules_defaults(&st->rules, err, len))
		return -1;
	for (int i = 0; i < st->files.n; i++)
		if (guard_rules_load_file(&st->rules, st->files.v[i], err, len))
			return -1;
	for (size_t i = 0; i < st->rules.n; i++) {
		if (!printable(st->rules.r[i].name)) {
			snprintf(err, len, "%s: a rule name must be printable ASCII without quotes",
				 st->rules.r[i].origin);
			return -1;
		}
	}
	st->filter = calloc(1, sizeof(*st->filter));
	if (!st->filter) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (guard_rules_filter(&st->rules, st->filter, err, len))
		return -1;
	st->index = guard_index_new(&st->rules);
	st->hits = calloc(st->rules.n + 1, sizeof(*st->hits));
	if (!st->index || !st->hits) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (st->enforce) {
		if (!guard_has_deny(&st->rules)) {
			snprintf(err, len, "--enforce: no enabled rule has 'action: deny'");
			return -1;
		}
		if (common->hooks != KS_HOOKS_AUTO) {
			snprintf(err, len, "--enforce cannot be combined with --hooks (its BPF LSM "
				 "programs have no other family)");
			return -1;
		}
		if (guard_deny_keys(&st->rules, st->filter, &st->deny_kinds, err, len))
			return -1;
	}
	if (st->list) {
		guard_list_rules(&st->rules, common->json);
		exit(0);
	}
	if (st->reserve_size & (st->reserve_size - 1)) {
		snprintf(err, len, "--%sreserve-size: %llu is not a power of two",
			 common->agent ? "guard-" : "", (unsigned long long)st->reserve_size);
		return -1;
	}
	return 0;
}

static int guard_init(struct ks_ctx *ctx, void *state)
{
	struct guard_state *st = state;
	struct ks_metric *events = ks_ctx_metric(ctx, &events_desc);

	st->m_alerts = ks_ctx_metric(ctx, &alerts_desc);
	if (!st->m_alerts || !events)
		return -errno;
	st->s_events = ks_metric_get(events, NULL);
	if (guard_agent_init(ctx, &st->s_lost, &st->s_rescued))
		return -errno;
	st->uring = ks_uring_detect(ks_ctx_btf(ctx));
	return 0;
}

static int guard_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct guard_bpf *skel = vskel;
	struct guard_state *st = state;
	char msg[KS_ERR_LEN];
	int err = 0;

	/* `ksight status` loads every module's object without configuring it: the defaults */
	if (!st->filter) {
		st->filter = calloc(1, sizeof(*st->filter));
		if (!st->filter)
			return -ENOMEM;
		if (guard_rules_defaults(&st->rules, msg, sizeof(msg)) ||
		    guard_rules_filter(&st->rules, st->filter, msg, sizeof(msg)))
			return -EINVAL;
	}
	skel->rodata->guard_kinds = st->filter->kinds;
	skel->rodata->guard_all = st->filter->all;
	skel->rodata->guard_xflags = st->filter->xflags;
	skel->rodata->guard_deny_kinds = st->enforce ? st->deny_kinds : 0;
	/* the files decoder's header brings the files module's write tracking: unused here */
	err = err ?: bpf_map__set_max_entries(skel->maps.files_wr, 1);
	err = err ?: bpf_map__set_max_entries(skel->maps.files_procs, 1);
	skel->rodata->guard_uring_cqe_arg = st->uring.cqe_arg;
	skel->rodata->guard_uring_noreq = st->uring.noreq;
	if (!(st->filter->kinds & (1U << GUARD_K_URING)))
		err = err ?: bpf_map__set_max_entries(skel->maps.guard_uring_procs, 1);
	if (st->reserve_size)
		err = err ?: bpf_map__set_max_entries(skel->maps.guard_rb, st->reserve_size);
	return err;
}

/* The watched keys, before the dispatcher (attached last) sends anything. */
static int guard_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct guard_bpf *skel = vskel;
	struct guard_state *st = state;

	for (size_t i = 0; i < st->filter->nkeys; i++) {
		int err = bpf_map__update_elem(skel->maps.guard_keys, &st->filter->keys[i],
					       sizeof(uint64_t), &st->filter->classes[i],
					       sizeof(uint32_t), BPF_ANY);
		if (err)
			return err;
	}
	/* the core says an absent optional slot and runs on: --enforce must not */
	if (st->enforce && ks_ctx_slot_family(ctx, &guard_module,
					       guard_slots[SL_LSM].name) < 0) {
		fprintf(stderr, "ksight guard: --enforce: the BPF LSM programs are not attached\n");
		return -EOPNOTSUPP;
	}
	st->listeners_fd = bpf_map__fd(skel->maps.guard_listeners);
	st->rb_lost_fd = bpf_map__fd(skel->maps.guard_rb_lost);
	st->reserve_fd = bpf_map__fd(skel->maps.guard_rb);
	st->uring_procs_fd = bpf_map__fd(skel->maps.guard_uring_procs);
	if (ks_ctx_slot_family(ctx, &guard_module, guard_slots[SL_URING_NEW].name) >= 0 ||
	    ks_ctx_slot_family(ctx, &guard_module, guard_slots[SL_URING_OLD].name) >= 0)
		st->uring_cov = st->uring.noreq ? GUARD_URING_510 : GUARD_URING_FULL;
	if ((st->filter->kinds & PAM_KINDS) &&
	    ks_ctx_slot_family(ctx, &guard_module, guard_slots[SL_PAM].name) >= 0)
		return guard_pam_attach(ctx, &(struct guard_pam_progs){
			.auth_ret = skel->progs.guard__pam_auth_ret,
			.session_ret = skel->progs.guard__pam_session_ret,
			.call = skel->progs.guard__pam_call,
			.start = skel->progs.guard__pam_start,
			.start_cd = skel->progs.guard__pam_start_cd,
			.start_ret = skel->progs.guard__pam_start_ret,
			.set_item = skel->progs.guard__pam_set_item,
			.end = skel->progs.guard__pam_end,
		});
	return 0;
}

/* A symlink's relative target (as written) joined with the link's directory (@link, the new
 * name, cleaned) and its ".." taken lexically (the kernel resolves them from that
 * directory): the file the link names, into @out. */
static void symlink_target(const struct guard_event *e, const char *link, char *out,
			   size_t len)
{
	char buf[GUARD_PATH_MAX * 2 + 8], clean[GUARD_PATH_MAX * 2 + 8];
	const char *slash = strrchr(link, '/');
	size_t o = 0;
	int n;

	n = snprintf(buf, sizeof(buf), "%.*s/%.*s", slash ? (int)(slash - link) : 0, link,
		     (int)strnlen(e->data, e->len), e->data);
	guard_clean_path(buf, n > 0 ? (size_t)n : 0, clean, sizeof(clean));
	for (char *p = clean, *c; *p; p = c) {
		size_t k;

		while (*p == '/')
			p++;
		c = p + strcspn(p, "/");
		k = c - p;
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			o = o > 0 ? o - 1 : 0;	/* "/.." is "/" */
		} else if (k && o + k + 2 < len) {
			out[o++] = '/';
			memcpy(out + o, p, k);
			o += k;
		}
	}
	if (!o && len > 1)
		out[o++] = '/';
	out[o < len ? o : len - 1] = 0;
}

static void guard_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size);

/* Records even the reserve could not take: an alert of their own at once (checked at
 * most every 100 ms, and at the end), and a non-zero status at the end. */
static void check_lost(struct guard_state *st, bool now)
{
	uint64_t t = ks_clock_mono_now(), lost = 0;
	uint32_t zero = 0;

	if (!now && t - st->lost_checked_ns < 100000000ULL)
		return;
	st->lost_checked_ns = t;
	if (bpf_map_lookup_elem(st->rb_lost_fd, &zero, &lost) || lost <= st->lost)
		return;
	fprintf(stderr, "ksight guard: %llu security records lost (the shared ring and guard's "
		"reserve were full): alerts may be missing\n", (unsigned long long)(lost - st->lost));
	ks_ctx_fail_at_end(st->ctx);
	if (ks_ctx_streaming(st->ctx)) {
		struct ks_hdr h = { .type = GUARD_EV_EVENT, .flags = KS_HDR_F_NOTASK,
				    .ts = t };
		char msg[160];
		struct ks_rec rec;
		int n = snprintf(msg, sizeof(msg), "%llu security records lost: the shared ring "
				 "and guard's reserve were full (--reserve-size)",
				 (unsigned long long)(lost - st->lost));

		ks_rec_init(&rec, "alert", &h);
		ks_rec_str(&rec, "severity", "SEVERITY", -8, "critical", 8);
		ks_rec_str(&rec, "rule", "RULE", -22, "guard-records-lost", 18);
		ks_rec_uint(&rec, NULL, "PID", 7, 0);
		ks_rec_str(&rec, NULL, "COMM", -16, "-", 1);
		ks_rec_uint(&rec, "uid", "UID", 6, 0);
		ks_rec_str(&rec, "event", NULL, 0, "lost", 4);
		ks_rec_str(&rec, "message", "MESSAGE", 0, msg, n);
		ks_rec_uint(&rec, "lost", NULL, 0, lost - st->lost);
		ks_emit(st->ctx, &rec);
	}
	ks_counter_add(ks_metric_getn(st->m_alerts, (const char *[]){ "guard-records-lost",
				      "critical", "-" }, (size_t[]){ 18, 8, 1 }), 1);
	ks_counter_set(st->s_lost, lost);
	st->lost = lost;
}

/* A record of guard's reserve: decoded as any other, counted apart. */
static int on_reserve(void *arg, void *data, size_t size)
{
	struct guard_state *st = arg;

	if (size < sizeof(struct ks_hdr))
		return 0;
	st->rescued++;
	ks_counter_add(st->s_rescued, 1);
	guard_event(st->ctx, st, data, size);
	return 0;
}

/* The services listening before the start, as their listen() would have marked them;
 * the reserve read beside the shared ring. */
static void guard_started(struct ks_ctx *ctx, void *state)
{
	struct guard_state *st = state;

	st->ctx = ctx;
	if (st->filter->xflags & GUARD_F_NETPARENT)
		guard_seed_listeners(st->listeners_fd);
	if (ks_ctx_add_ring(ctx, st->reserve_fd, on_reserve, st))
		fprintf(stderr, "ksight guard: cannot read its reserve ring: records the shared "
			"ring loses are lost\n");
}

/* Each interval and at the end: what came through the reserve, what was lost. */
static void guard_report(struct ks_ctx *ctx, void *state, void *skel)
{
	struct guard_state *st = state;

	if (st->rescued > st->rescued_said) {
		fprintf(stderr, "ksight guard: %llu security records came through guard's reserve "
			"(the shared ring was full)\n", (unsigned long long)st->rescued);
		st->rescued_said = st->rescued;
	}
	check_lost(st, true);
}

/*
 * The kernel's key of process @tgid's io_uring image, deleted (its exit, or the next
 * image's record @mm: kept then). The table holds the processes that used io_uring: few.
 */
static void uring_forget(struct guard_state *st, uint32_t tgid, uint64_t mm)
{
	for (size_t i = 0; i < st->nimgs; i++) {
		if (st->imgs[i].tgid != tgid)
			continue;
		if (st->imgs[i].mm != mm && st->uring_procs_fd > 0)
			bpf_map_delete_elem(st->uring_procs_fd, &st->imgs[i]);
		if (mm) {
			st->imgs[i].mm = mm;
		} else {
			st->imgs[i] = st->imgs[--st->nimgs];
		}
		return;
	}
	if (!mm)
		return;
	if (st->nimgs == st->capimgs) {
		size_t cap = st->capimgs ? st->capimgs * 2 : 64;
		struct uring_img *n = realloc(st->imgs, cap * sizeof(*n));

		if (!n)
			return;	/* the LRU map forgets it in time */
		st->imgs = n;
		st->capimgs = cap;
	}
	st->imgs[st->nimgs++] = (struct uring_img){ .tgid = tgid, .mm = mm };
}

/* A process gone is no listener any more (its pid may come back as another). */
static void guard_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct guard_state *st = state;
	uint32_t tgid = h->pid;

	if (h->type == KS_EV_PROC_EXIT && st->listeners_fd > 0)
		bpf_map_delete_elem(st->listeners_fd, &tgid);
	if (h->type == KS_EV_PROC_EXIT)
		uring_forget(st, tgid, 0);
	if (st->ctx)
		check_lost(st, false);
}

static void guard_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	const struct guard_event *e = (const void *)h;
	struct guard_state *st = state;
	char path[GUARD_PATH_MAX + 8], path2[GUARD_PATH_MAX + 8], comm[TASK_COMM_LEN + 1];
	char parent[TASK_COMM_LEN + 1], peer[64], how[GUARD_PATH_MAX + 32];
	const struct ks_proc *p;
	struct guard_pam_text pam;
	struct guard_view v;
	size_t n;

	if (size < sizeof(*e) || e->len > GUARD_PATH_MAX || e->len2 > GUARD_PATH_MAX ||
	    sizeof(*e) + (e->len2 ? GUARD_PATH_MAX + e->len2 : e->len) > size ||
	    e->kind >= GUARD_K_N)
		return;
	ks_counter_add(st->s_events, 1);
	if (st->ctx)
		check_lost(st, false);
	if (e->kind == GUARD_K_URING && e->arg[1])
		uring_forget(st, h->pid, e->arg[1]);
	guard_clean_path(e->data + GUARD_PATH_MAX, e->len2, path2, sizeof(path2));
	if (e->kind == GUARD_K_AUTH || e->kind == GUARD_K_SESSION)
		path[0] = 0;	/* data: the login's names (guard_pam_names) */
	else if (e->kind == GUARD_K_SYMLINK && e->len && e->data[0] != '/' && *path2)
		symlink_target(e, path2, path, sizeof(path));
	else
		guard_clean_path(e->data, e->len, path, sizeof(path));
	snprintf(comm, sizeof(comm), "%.*s", TASK_COMM_LEN, h->comm);
	snprintf(parent, sizeof(parent), "%.*s", TASK_COMM_LEN, e->pcomm);
	p = ks_ident__lookup(ks_ctx_ident(ctx), h);
	v = (struct guard_view){
		/* a set*id call has changed the uid: rules see the one of the process's exec
		 * (what the core's exec record said; for a process older than the session
		 * what /proc said when first seen, 0 when unknown) */
		.kind = e->kind, .uid = e->kind == GUARD_K_SETID && p ? p->uid : h->uid,
		.flags = e->flags, .ret = e->ret,
		/* an xattr's second name is the attribute's (`how`), not a path */
		.path = path, .path2 = e->len2 && e->kind != GUARD_K_XATTR ? path2 : "",
		.comm = comm, .parent = parent,
		/* an exec's executable is the event's path; else what /proc said, if yet */
		.exe = e->kind == GUARD_K_EXEC || e->kind == GUARD_K_URING ? path :
		       p && p->exe ? p->exe : "",
		.peer = peer,
		.target = e->kind == GUARD_K_MEMWRITE ? (uint32_t)e->arg[0] :
			  e->kind == GUARD_K_EXEC ? e->listener : 0,
		.how = how,
		.pam = &pam,
	};
	guard_pam_text(e, &pam);
	guard_peer_text(e, peer, sizeof(peer));
	how[0] = 0;
	if (e->kind == GUARD_K_XATTR)	/* the attribute's name, by syscall or io_uring */
		snprintf(how, sizeof(how), "%.*s", (int)strnlen(e->data + GUARD_PATH_MAX, e->len2),
			 e->data + GUARD_PATH_MAX);
	else if (e->flags & GUARD_F_URING)
		snprintf(how, sizeof(how), "io_uring %s",
			 ks_uring_op_short(e->sys) ? ks_uring_op_short(e->sys) : "request");
	else if (e->kind == GUARD_K_MEMWRITE)
		snprintf(how, sizeof(how), "%s%s",
			 e->arg[1] == GUARD_MW_VM ? "process_vm_writev" :
			 e->arg[1] == GUARD_MW_PWRITE ? "pwrite " : "open for writing ",
			 e->arg[1] == GUARD_MW_VM ? "" : path);
	n = guard_index_match(st->index, &v, st->hits, NULL);
	for (size_t i = 0; i < n; i++) {
		const struct guard_rule *r = &st->rules.r[st->hits[i]];

		/* enforced, a deny rule alerts once per attempt, from its LSM hook (blocked);
		 * the LSM's records are only for deny rules */
		if ((e->flags & GUARD_F_DENIED) ? r->action != GUARD_A_DENY :
		    st->enforce && r->action == GUARD_A_DENY)
			continue;
		guard_alert(ctx, st->m_alerts, st->uring_cov, r, &v, e);
	}
}

static int guard_kernel_check(void *state, char *err, size_t len)
{
	const struct guard_state *st = state;

	return st->enforce ? guard_lsm_probe(err, len) : 0;
}

static void guard_fini(void *state)
{
	struct guard_state *st = state;

	guard_index_free(st->index);
	st->index = NULL;
	free(st->hits);
	st->hits = NULL;
	guard_rules_free(&st->rules);
	free(st->imgs);
	st->imgs = NULL;
	free(st->filter);
	st->filter = NULL;
}

KS_BPF_OBJECT(guard);

const struct ks_module guard_module = {
	.name = "guard",
	.id = KS_MOD_guard,
	.bpf = &guard_bpf_obj,
	.agent_optin = true,	/* costs every exec, open of a watched file... (docs/guard.md) */
	.agent_opts = guard_agent_opts,
	.agent_configure = guard_configure,
	.collect = guard_report,	/* the reserve's and the losses' lines, the lost counter */
	.summary = guard_summary,
	.brief = "security monitoring: alerts on critical file changes, risky execs, reverse "
		 "shells, privilege, memory and kernel changes, logins (observes; denies with --enforce)",
	.usage = "  ksight guard                    # every default rule, alerts as a table\n"
		 "  ksight guard --json             # alerts as JSON lines\n"
		 "  ksight guard --list-rules       # the rules, what each sees and does not\n"
		 "  ksight guard -r my.yaml         # add, replace or switch off rules\n"
		 "  ksight guard -r my.yaml --list-rules   # check a rule file, then list\n"
		 "  ksight guard --reserve-size 4M  # a bigger ring of guard's own for floods\n"
		 "  ksight guard -r deny.yaml --enforce   # deny what `action: deny` rules match "
		 "(BPF LSM)\n",
	.opts = guard_opts,
	.state_size = sizeof(struct guard_state),
	.slots = guard_slots,
	.types = guard_types,
	.configure = guard_configure,
	.kernel_check = guard_kernel_check,
	.init = guard_init,
	.setup = guard_setup,
	.attach = guard_attach,
	.started = guard_started,
	.report = guard_report,
	.proc = guard_proc,
	.want_slot = guard_want_slot,
	.event = guard_event,
	.fini = guard_fini,
};
