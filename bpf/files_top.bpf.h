/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files --summary: reads and writes counted per process and file in the kernel (filetop);
 * nothing is streamed. User space reports each interval's growth of the counters.
 */
#ifndef KSIGHT_FILES_TOP_BPF_H
#define KSIGHT_FILES_TOP_BPF_H

#include "files_wr.bpf.h"

const volatile bool files_all = false;	/* --summary -a: not only regular files */

/* --summary makes it BPF_F_NO_PREALLOC before load (see files_top.c) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILES_TOP_ENTRIES);
	__type(key, struct files_top_key);
	__type(value, struct files_top_val);
} files_top SEC(".maps");

/* --summary: count a read or write of @ret bytes on @fd. */
static __always_inline void files_top_io(int fd, long ret, bool write, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_top_key k = { .tgid = pid_tgid >> 32 };
	struct files_top_val *v;
	struct inode *inode;
	struct file *f;
	__u32 mode, type, n;

	if (ret < 0)
		return;
	f = ks_fd_file(task, fd);
	if (!f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & FILES_S_IFMT;
	type = mode == FILES_S_IFREG ? FILES_T_REG : mode == FILES_S_IFSOCK ? FILES_T_SOCK :
									    FILES_T_OTHER;
	if (type != FILES_T_REG && !files_all)
		return;
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.rdev = BPF_CORE_READ(inode, i_rdev);
	v = bpf_map_lookup_elem(&files_top, &k);
	if (!v) {
		struct files_rec_buf *rb = files_rec_get();
		struct files_top_val *nv;

		if (!rb)
			return;
		nv = (struct files_top_val *)rb->buf;
		__builtin_memset(nv, 0, sizeof(*nv));
		bpf_get_current_comm(nv->comm, sizeof(nv->comm));
		nv->type = type;
		n = files_copy_path(nv->path, FILES_TOP_PATH, f);
		nv->cut = !!(n & KS_PATH_CUT);
		if (bpf_map_update_elem(&files_top, &k, nv, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&files_top, &k)) {
			ks_lost(FILES_EV_TOP);
			return;
		}
		v = bpf_map_lookup_elem(&files_top, &k);
		if (!v)
			return;
	}
	if (write) {
		__sync_fetch_and_add(&v->writes, 1);
		__sync_fetch_and_add(&v->wbytes, ret);
	} else {
		__sync_fetch_and_add(&v->reads, 1);
		__sync_fetch_and_add(&v->rbytes, ret);
	}
}

#endif
