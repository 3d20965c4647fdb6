// SPDX-License-Identifier: GPL-2.0
/* tcplife's start-up scan of the connections already open (bpf/tcp_seed.bpf.h says what
 * it records): the iterator is run once, by reading it to its end. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include "modules/tcp_int.h"

int tcp_seed_run(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[256];
	ssize_t n = 0;
	int fd, err = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		err = -errno;
	/* the program writes only to the table: reading to the end runs it over every file */
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (fd >= 0 && n < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	return err;
}
