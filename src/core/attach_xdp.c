// SPDX-License-Identifier: GPL-2.0
/* XDP programs, by BPF links (5.9+): the kernel detaches them when ksight's fd closes. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "core/attachments.h"
#include "core/session_int.h"

int ks_attach_xdp(struct ks_ctx *c, struct bpf_program *prog, const char *ifname)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };
	int ifindex = if_nametoindex(ifname);

	if (!in)
		return -EINVAL;
	if (!ifindex)
		return ks_att_fail(in, -ENODEV, "xdp on %s: no such interface", ifname);
	a.link = bpf_program__attach_xdp(prog, ifindex);
	if (!a.link)
		return ks_att_fail(in, -errno, "xdp on %s: %s%s", ifname, strerror(errno),
				   errno == EBUSY ? " (another XDP program is attached without a link)"
						  : "");
	return ks_attset_add(&in->dyn, &a);
}
