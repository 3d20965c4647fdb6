// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup v2 programs (skb, sock, sock_addr, sockops, ...), by BPF links (5.7+): several
 * programs run side by side on a cgroup (links attach in multi mode), and the kernel
 * detaches ksight's when its fd closes.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/cgroup.h"
#include "core/session_int.h"

int ks_attach_cgroup(struct ks_ctx *c, struct bpf_program *prog, const char *cgroup)
{
	struct ks_inst *in = ks_ctx_prog_owner(c, prog);
	struct ks_att a = { .kind = KS_ATT_LINK };
	char path[PATH_MAX], why[PATH_MAX + 64];
	int fd, err;

	if (!in)
		return -EINVAL;
	if ((err = ks_cgroup2_path(cgroup, path, sizeof(path), why, sizeof(why))))
		return ks_att_fail(in, err, "cgroup program %s: %s", bpf_program__name(prog), why);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ks_att_fail(in, -errno, "cgroup %s: %s", path, strerror(errno));
	a.link = bpf_program__attach_cgroup(prog, fd);
	err = a.link ? 0 : -errno;
	/* the link holds the cgroup */
	close(fd);
	if (err)
		return ks_att_fail(in, err, "cgroup program %s on %s: %s", bpf_program__name(prog),
				   path, strerror(-err));
	return ks_attset_add(&in->dyn, &a);
}
