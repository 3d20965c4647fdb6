// SPDX-License-Identifier: GPL-2.0
/*
 * TC programs on an interface's clsact hook: a tcx link (6.6+), owned by its fd; else a
 * legacy filter, which nothing owns, so it is tagged (priority KS_TC_PRIO, the owner's pid
 * in the handle's low 22 bits), recorded in the journal before it is made (legacy.h), and
 * removed at exit. The clsact qdisc is made only when missing, and then removed again with
 * the last filter ksight put on it, if nobody else's filter is there.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "core/attach_int.h"
#include "core/attachments.h"
#include "core/legacy.h"
#include "core/session_int.h"
#include "core/tcx.h"

#define KS_TC_PRIO 0x4b53	/* "KS" */
#define KS_TC_PID_BITS 22	/* pid_max is at most 2^22 */

#ifndef TC_H_CLSACT
#define TC_H_CLSACT TC_H_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS 0xFFF3U
#endif

/* The clsact qdiscs this process put filters on, and whether it made them. */
struct qdisc_ref {
	uint64_t netns;
	int ifindex;
	int created;
	int refs;
};

static struct qdisc_ref qrefs[64];
static int nqrefs;

static struct qdisc_ref *qref_find(uint64_t netns, int ifindex)
{
	for (int i = 0; i < nqrefs; i++)
		if (qrefs[i].netns == netns && qrefs[i].ifindex == ifindex)
			return &qrefs[i];
	return NULL;
}

static const char *dir_name(enum ks_tc_dir dir)
{
	return dir == KS_TC_EGRESS ? "egress" : "ingress";
}

/* Take a reference on @ifindex's clsact qdisc, making (and recording) it if missing. */
static int qdisc_get(struct ks_inst *in, uint64_t netns, int ifindex, const char *ifname)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	struct qdisc_ref *q = qref_find(netns, ifindex);
	int err;

	if (q) {
		q->refs++;
		return 0;
	}
	if (nqrefs == (int)(sizeof(qrefs) / sizeof(qrefs[0])))
		return ks_att_fail(in, -ENOSPC, "tc on %s: too many interfaces", ifname);
	if ((err = ks_legacy_note_qdisc(netns, ifindex, "intent")))
		goto journal;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return ks_att_fail(in, err, "tc on %s: cannot create a clsact qdisc: %s", ifname,
				   strerror(-err));
	q = &qrefs[nqrefs++];
	*q = (struct qdisc_ref){ netns, ifindex, !err, 1 };
	if (q->created)
		ks_legacy_made();
	if ((err = ks_legacy_note_qdisc(netns, ifindex, q->created ? "created" : "existed")))
		goto journal;
	return 0;
journal:
	return ks_att_fail(in, err, "tc on %s: cannot record it in " KS_LEGACY_DIR ": %s",
			   ifname, strerror(-err));
}

static void qdisc_put(uint64_t netns, int ifindex)
{
	struct qdisc_ref *q = qref_find(netns, ifindex);

	if (!q || --q->refs > 0)
		return;
	if (q->created) {
		if (ks_tc_qdisc_release(ifindex, false, 0) >= 0)
			ks_legacy_removed();
	}
	*q = qrefs[--nqrefs];
}

static int attach_legacy(struct ks_inst *in, int prog_fd, int ifindex, const char *ifname,
			 enum ks_tc_dir dir)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = dir == KS_TC_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	struct ks_att a = { .kind = KS_ATT_TC_LEGACY };
	int err;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &ilen))
		return ks_att_fail(in, -errno, "tc on %s: %s", ifname, strerror(errno));
	a.tc = (struct ks_tc_filter){
		.netns = ks_netns_self(),
		.ifindex = ifindex,
		.parent = TC_H_MAKE(TC_H_CLSACT,
				    dir == KS_TC_EGRESS ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS),
		.prio = KS_TC_PRIO,
		.prog_id = info.id,
	};
	if ((err = qdisc_get(in, a.tc.netns, ifindex, ifname)))
		return err;
	/* a free handle: the pid, then the pid with a count in the high bits */
	for (uint32_t n = 0; n < 1024; n++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .priority = KS_TC_PRIO);

		a.tc.handle = (uint32_t)getpid() | n << KS_TC_PID_BITS;
		opts.handle = a.tc.handle;
		if ((err = ks_legacy_note_filter(&a.tc))) {
			ks_att_fail(in, err, "tc on %s: cannot record it in " KS_LEGACY_DIR ": %s",
				    ifname, strerror(-err));
			break;
		}
		err = bpf_tc_attach(&hook, &opts);
		if (err == -EEXIST)
			continue;
		if (err)
			ks_att_fail(in, err, "tc on %s %s: cannot add a filter: %s", ifname,
				    dir_name(dir), strerror(-err));
		break;
	}
	if (err) {
		qdisc_put(a.tc.netns, ifindex);
		return err;
	}
	ks_legacy_made();
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_tc(struct ks_ctx *c, struct bpf_program *prog, const char *ifname,
		 enum ks_tc_dir dir, enum ks_tc_mode mode)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	int ifindex = if_nametoindex(ifname), prog_fd = bpf_program__fd(prog), fd;
	struct ks_att a = { .kind = KS_ATT_FD };
	char why[96];
	bool tcx;

	if (!in)
		return -EINVAL;
	if (!ifindex)
		return ks_att_fail(in, -ENODEV, "tc on %s: no such interface", ifname);
	if (prog_fd < 0)
		return ks_att_fail(in, -EINVAL, "tc on %s: program %s is not loaded", ifname,
				   bpf_program__name(prog));
	tcx = mode != KS_TC_LEGACY && !ks_probe(c->probe, KS_FAM_TC, "tcx", why, sizeof(why));
	if (mode == KS_TC_TCX && !tcx)
		return ks_att_fail(in, -EOPNOTSUPP, "tc on %s: %s", ifname, why);
	if (!tcx)
		return attach_legacy(in, prog_fd, ifindex, ifname, dir);
	fd = bpf_link_create(prog_fd, ifindex,
			     dir == KS_TC_EGRESS ? KS_BPF_TCX_EGRESS : KS_BPF_TCX_INGRESS, NULL);
	if (fd < 0)
		return ks_att_fail(in, -errno, "tc on %s %s: cannot create a tcx link: %s", ifname,
				   dir_name(dir), strerror(errno));
	a.fd = fd;
	return ks_attset_add(&in->dyn, &a);
}

void ks_tc_legacy_detach(const struct ks_tc_filter *f)
{
	int err = ks_tc_filter_remove(f, false);

	if (err < 0)
		fprintf(stderr, "ksight: cannot remove its tc filter (ifindex %d, handle 0x%x): %s\n",
			f->ifindex, f->handle, strerror(-err));
	else
		ks_legacy_removed();
	qdisc_put(f->netns, f->ifindex);
}

int ks_tc_filter_remove(const struct ks_tc_filter *f, bool dry)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex,
			    .attach_point = BPF_TC_CUSTOM, .parent = f->parent);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = f->handle, .priority = f->prio);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, del, .handle = f->handle, .priority = f->prio);
	int err = bpf_tc_query(&hook, &q);

	/* gone with its interface or its qdisc, or never made */
	if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
		return 0;
	if (err)
		return err;
	if (q.prog_id != f->prog_id)	/* someone else's now */
		return 0;
	if (dry)
		return 1;
	err = bpf_tc_detach(&hook, &del);
	return err == -ENOENT ? 0 : err ? err : 1;
}

int ks_tc_qdisc_release(int ifindex, bool dry, int going)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int in = ks_tc_count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	int eg = ks_tc_count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	int err;

	if (in == -ENODEV || eg == -ENODEV)
		return 0;
	if (in < 0 || eg < 0)
		return in < 0 ? in : eg;
	if (in + eg > (dry ? going : 0))	/* somebody else's filters: the qdisc stays */
		return 0;
	if (dry)
		return 1;
	err = bpf_tc_hook_destroy(&hook);
	/* absent, or not a clsact qdisc (libbpf names the kind it deletes) */
	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 0;
	return err ? err : 1;
}
