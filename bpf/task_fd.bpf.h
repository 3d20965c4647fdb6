/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A task's open file by its fd, for any program type: the files module and path walks
 * (path.bpf.h) name files by it, the tcp module finds the socket accept() returned, rw
 * (rw_fd.bpf.h) and the dispatcher's fd kinds (syscalls.bpf.h) read what the fd is, req
 * finds its TCP socket. One walk, five dependent loads.
 */
#ifndef KSIGHT_TASK_FD_BPF_H
#define KSIGHT_TASK_FD_BPF_H

#include "common.bpf.h"

/* The struct file open on @fd in @task, or NULL. */
static __always_inline struct file *ks_fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

#endif
