// SPDX-License-Identifier: GPL-2.0
/* Iterators run to their end (core/iter.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include "core/iter.h"

int ks_iter_read(struct bpf_link *link)
{
	int fd = bpf_iter_create(bpf_link__fd(link));
	char buf[256];
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* each read runs the program over the next objects until its output fills buf */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

int ks_iter_once(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	int err;

	if (!link)
		return -errno;
	err = ks_iter_read(link);
	bpf_link__destroy(link);
	return err;
}
