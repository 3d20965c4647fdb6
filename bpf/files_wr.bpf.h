/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files: content changes. The first successful write of a process to a regular file
 * through an fd is streamed with the file's path; later writes only add to a per-(process,
 * fd) count in the kernel, streamed once when the fd stops pointing at the file: close,
 * dup2/dup3 over it, close_range, close-on-exec, process exit, or (found at the next
 * write) any other way.
 */
#ifndef KSIGHT_FILES_WR_BPF_H
#define KSIGHT_FILES_WR_BPF_H

#include "path.bpf.h"
#include "files.h"

#define FILES_S_IFMT 0170000
#define FILES_S_IFREG 0100000
#define FILES_S_IFSOCK 0140000
#define FILES_EBADF 9
#define FILES_CLOSE_RANGE_CLOEXEC (1U << 2)

/* One decoded call (files_decode.bpf.h, files_emit() in files.sys.bpf.h). */
struct files_req {
	__u64 arg, arg2;	/* user pointers to the paths, 0: none */
	__u64 size;
	__s32 fd, fd2;
	__u32 op, mode, uid, gid, flags;
	__u32 fd_based;		/* the object is the file open on fd */
	__u32 target;		/* arg is a symlink's target: kept as it is, never resolved */
	__u32 follow;		/* the call follows a symlink as arg's last component */
	__u32 off, need, need2;	/* files_emit()'s progress */
};

/*
 * Room per CPU to decode one call and build its record (or a files_top_val). The decoded
 * call lives here rather than on the stack on purpose: the verifier does not track what a
 * map value holds, so every syscall's path reaches the record building in the same state
 * and is verified once, not once per syscall. The record room is twice the largest
 * record: string offsets are kept under a literal mask, so every copy visibly fits.
 */
struct files_rec_buf {
	struct files_req req;
	__u8 buf[KS_SCRATCH_SIZE * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct files_rec_buf);
} files_rec SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILES_WR_ENTRIES);
	__type(key, struct files_wr_key);
	__type(value, struct files_wr_val);
} files_wr SEC(".maps");

/* Per process with entries in files_wr: the exec and exit sweeps look only here. */
struct files_proc {
	__s64 n;		/* entries in files_wr */
	__u32 maxfd;		/* highest fd it was given (racing threads may lower it) */
	__u32 range_lo;		/* fds of its last close_range(), for the reason given */
	__u32 range_hi;
	__u32 ranged;		/* range_lo/hi are set */
};

/* Why the count of @fd of a process stopped: @why, unless close_range() took the fd. */
static __always_inline __u32 files_gone_why(const struct files_proc *p, __u32 fd, __u32 why)
{
	if (p && p->ranged && fd >= p->range_lo && fd <= p->range_hi)
		return FILES_CLOSED_RANGE;
	return why;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILES_WR_ENTRIES);
	__type(key, __u32);
	__type(value, struct files_proc);
} files_procs SEC(".maps");

static __always_inline struct files_rec_buf *files_rec_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&files_rec, &zero);
}

static __always_inline void files_emit_close(const struct files_wr_key *k,
					     const struct files_wr_val *v, __u32 why,
					     __u64 pid_tgid)
{
	struct files_close *e = ks_reserve(FILES_EV_CLOSE, sizeof(*e), pid_tgid);

	if (!e)
		return;
	e->file = v->file;
	e->bytes = v->bytes;
	e->writes = v->writes;
	e->first_ts = v->first_ts;
	e->fd = k->fd;
	e->why = why;
	ks_submit(e);
}

/* Report and forget the count of @k (its value @v); whoever deletes it reports it. */
static __always_inline void files_untrack(const struct files_wr_key *k,
					  const struct files_wr_val *v, __u32 why, __u64 pid_tgid)
{
	struct files_wr_val copy = *v;
	struct files_proc *p;

	if (bpf_map_delete_elem(&files_wr, k))
		return;		/* another thread took it first */
	files_emit_close(k, &copy, why, pid_tgid);
	p = bpf_map_lookup_elem(&files_procs, &k->tgid);
	if (p)
		__sync_fetch_and_add(&p->n, -1);
}

static __always_inline __u32 files_inode_mode(struct file *f)
{
	return BPF_CORE_READ(f, f_inode, i_mode);
}

/*
 * Copy the path of (@d, @vm), walked in the kernel, into @dst: at most @max bytes, its
 * leaf side when longer. @dst needs KS_PATH_ROOM bytes of room. Returns the bytes copied,
 * NUL included, with KS_PATH_CUT set if cut; 0 if there is no path.
 */
static __always_inline __u32 files_copy_walk(char *dst, __u32 max, struct dentry *d,
					     struct vfsmount *vm)
{
	if (!d || ks_path_walk(d, vm))
		return 0;
	return ks_path_copy(dst, max);
}

static __always_inline __u32 files_copy_path(char *dst, __u32 max, struct file *f)
{
	return files_copy_walk(dst, max, BPF_CORE_READ(f, f_path.dentry),
			       BPF_CORE_READ(f, f_path.mnt));
}

/* First write through (tgid, fd) to the regular file @f: stream it with its path. */
static __always_inline void files_first_write(int fd, struct file *f, long ret, __u64 pid_tgid)
{
	struct files_rec_buf *rb = files_rec_get();
	struct files_event *e;
	__u32 n;

	if (!rb)
		return;
	e = (struct files_event *)rb->buf;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = FILES_EV_CHANGE;
	e->op = FILES_OP_WRITE;
	e->ret = ret;
	e->size = ret;
	e->file = (__u64)f;
	e->fd = fd;
	e->fd2 = -1;
	n = files_copy_path(e->data, FILES_BASE_MAX, f);
	e->len[FILES_S_BASE] = n & ~KS_PATH_CUT;
	if (n & KS_PATH_CUT)
		e->cut |= FILES_CUT(FILES_S_BASE);
	ks_output_from(&e->hdr, sizeof(*e) + (n & (FILES_BASE_MAX * 2 - 1)), pid_tgid);
}

static __always_inline void files_write(int fd, long ret, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_wr_key k = { .tgid = pid_tgid >> 32, .fd = fd };
	struct files_wr_val *v, nv = {};
	struct files_proc *p, zero = {};
	struct file *f;

	if (ret <= 0)
		return;
	f = ks_fd_file(task, fd);
	if (!f)
		return;
	v = bpf_map_lookup_elem(&files_wr, &k);
	if (v) {
		if (v->file == (__u64)f) {
			__sync_fetch_and_add(&v->bytes, ret);
			__sync_fetch_and_add(&v->writes, 1);
			return;
		}
		files_untrack(&k, v, files_gone_why(bpf_map_lookup_elem(&files_procs, &k.tgid), fd,
						    FILES_CLOSED_REUSED), pid_tgid);
	}
	if ((files_inode_mode(f) & FILES_S_IFMT) != FILES_S_IFREG)
		return;
	nv.file = (__u64)f;
	nv.bytes = ret;
	nv.writes = 1;
	nv.first_ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&files_wr, &k, &nv, BPF_NOEXIST)) {
		/* another thread's first write won, or the table is full */
		v = bpf_map_lookup_elem(&files_wr, &k);
		if (v && v->file == (__u64)f) {
			__sync_fetch_and_add(&v->bytes, ret);
			__sync_fetch_and_add(&v->writes, 1);
			return;
		}
		ks_lost(FILES_EV_TRACK);
	} else {
		p = bpf_map_lookup_elem(&files_procs, &k.tgid);
		if (!p) {
			bpf_map_update_elem(&files_procs, &k.tgid, &zero, BPF_NOEXIST);
			p = bpf_map_lookup_elem(&files_procs, &k.tgid);
		}
		if (p) {
			__sync_fetch_and_add(&p->n, 1);
			if ((__u32)fd > p->maxfd)
				p->maxfd = fd;
		} else {
			ks_lost(FILES_EV_TRACK);	/* its close at exit will not be seen */
		}
	}
	files_first_write(fd, f, ret, pid_tgid);
}

/* close(fd), and dup2/dup3 onto fd: the file the fd held is closed there. */
static __always_inline void files_fd_closed(int fd, __u32 why, __u64 pid_tgid)
{
	struct files_wr_key k = { .tgid = pid_tgid >> 32, .fd = fd };
	struct files_wr_val *v = bpf_map_lookup_elem(&files_wr, &k);

	if (v)
		files_untrack(&k, v, why, pid_tgid);
}

/*
 * close_range(): the counts on those fds are reported by the next sweep (exec, exit) or
 * write on the fd. A loop over the range here would need bpf_loop() in the dispatcher,
 * which every module shares and which must load on kernels without it.
 */
static __always_inline void files_closed_range(__u32 lo, __u32 hi, __u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32;
	struct files_proc *p = bpf_map_lookup_elem(&files_procs, &tgid);

	if (!p || p->n <= 0)
		return;
	p->range_lo = lo;
	p->range_hi = hi;
	p->ranged = 1;
}

#endif
