// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel functions named at run time (ksight trace kfunc:NAME): an fentry program whose
 * target was set before load (bpf_program__set_attach_target), or a kprobe program. Both
 * are BPF links of the process; kprobes made through tracefs (no kprobe PMU) are recorded
 * first, so that ksight cleanup removes them after a kill (legacy.h). Or one kprobe.multi
 * link on many functions (ksight funccount k:GLOB), or links a module made itself.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/legacy.h"
#include "core/session_int.h"

int ks_attach_kfunc(struct ks_ctx *c, struct bpf_program *prog, const char *func, bool fentry)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };
	int err;

	if (!in)
		return -EINVAL;
	if (fentry) {
		a.link = bpf_program__attach_trace(prog);
	} else {
		if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) &&
		    (err = ks_legacy_note_libbpf("kprobe_events")))
			return ks_att_fail(in, err, "kprobe %s: cannot record it in " KS_LEGACY_DIR
					   ": %s", func, strerror(-err));
		a.link = bpf_program__attach_kprobe(prog, false, func);
	}
	if (!a.link)
		return ks_att_fail(in, -errno, "%s %s: %s", fentry ? "fentry" : "kprobe", func,
				   strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_kprobe_multi(struct ks_ctx *c, struct bpf_program *prog, const char **funcs,
			   size_t n)
{
	LIBBPF_OPTS(bpf_kprobe_multi_opts, o, .syms = funcs, .cnt = n);
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };

	if (!in)
		return -EINVAL;
	a.link = bpf_program__attach_kprobe_multi_opts(prog, NULL, &o);
	if (!a.link)
		return ks_att_fail(in, -errno, "kprobe.multi on %zu functions (%s...): %s", n,
				   n ? funcs[0] : "", strerror(errno));
	return ks_attset_add(&in->dyn, &a);
}

int ks_attach_keep_fd(struct ks_ctx *c, const struct bpf_program *owner, int fd)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, owner);
	struct ks_att a = { .kind = KS_ATT_FD, .fd = fd };

	if (!in) {
		close(fd);
		return -EINVAL;
	}
	return ks_attset_add(&in->dyn, &a);
}
