/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard: paths in the kernel. Walks and joins (through path.bpf.h, into this CPU's
 * files_rec buffer, where every guard record is built) and the watched-path test against
 * guard_keys. The walk, the join and the test are global functions: each is verified once,
 * not at each of the handler's many callers (inlined, 6.1's verifier gave up on the
 * handler at one million instructions).
 */
#ifndef KSIGHT_GUARD_PATH_BPF_H
#define KSIGHT_GUARD_PATH_BPF_H

#include "files_decode.bpf.h"
#include "guard.h"

const volatile __u32 guard_all = 0;	/* GUARD_C_* with a rule that names no path */

/* Watched keys (FNV-1a of a path, a directory prefix or a last component) -> GUARD_C_*. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_KEYS_MAX);
	__type(key, __u64);
	__type(value, __u32);
} guard_keys SEC(".maps");

#define GUARD_AT_FDCWD (-100)

static __always_inline bool guard_key(__u64 h, __u32 class)
{
	__u32 *v = bpf_map_lookup_elem(&guard_keys, &h);

	return v && (*v & class);
}

/*
 * Whether the path at byte @off of this CPU's buffer (files_rec) is watched for @class:
 * its whole, a directory prefix of it or its last component is a key. A path longer than
 * GUARD_MATCH_LEN always is (user space decides). One pass, a lookup per component: the
 * cost does not grow with the number of rules. A global function, so the verifier checks
 * its loop once, not at each of its callers.
 */
__noinline int guard_match_at(__u32 off, __u32 class)
{
	struct files_rec_buf *rb = files_rec_get();
	__u64 h = GUARD_FNV_PATH, leaf = GUARD_FNV_LEAF;
	__u32 i;

	if (!rb || (guard_all & class))
		return 1;
	for (i = 0; i < GUARD_MATCH_LEN; i++) {
		__u8 ch = rb->buf[(off + i) & (sizeof(rb->buf) - 1)];

		__u64 next = (leaf ^ ch) * GUARD_FNV_PRIME;
		__u64 sep = (((__u64)(ch ^ '/')) - 1) >> 63;	/* 1 for '/', without a branch */

		if (ch == '/' || ch == 0) {
			if (i > 0 && guard_key(h, class))
				return 1;
			if (ch == 0)
				return guard_key(leaf, class);
		}
		/* the same state whichever way the step went: a branch that left a constant
		 * in leaf on one side only doubled the verifier's paths at every byte (6.1) */
		leaf = next ^ ((next ^ GUARD_FNV_LEAF) & -sep);
		h = (h ^ ch) * GUARD_FNV_PRIME;
	}
	return 1;
}

/* guard_match_at() of @p, which points into this CPU's files_rec buffer. */
static __always_inline bool guard_match(const char *p, __u32 class)
{
	struct files_rec_buf *rb = files_rec_get();

	if (!rb)
		return true;
	return guard_match_at((__u32)(p - (const char *)rb->buf), class);
}

/*
 * Whether the last component of @f's name is a key of @class (read-only opens). A file
 * that is the root of its mount (a file bind-mounted over /etc/shadow) is named by its
 * mountpoint, as the path walk will name it.
 */
static __always_inline bool guard_leaf_watched(struct file *f, __u32 class)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	const unsigned char *name;
	__u64 leaf = GUARD_FNV_LEAF;
	char nb[64];
	__u32 i;

	if (guard_all & class)
		return true;
	if (d == BPF_CORE_READ(vm, mnt_root))
		d = BPF_CORE_READ(ks_real_mount(vm), mnt_mountpoint);
	name = BPF_CORE_READ(d, d_name.name);
	if (bpf_probe_read_kernel_str(nb, sizeof(nb), name) <= 0)
		return false;
	for (i = 0; i < sizeof(nb); i++) {
		__u8 ch = nb[i];

		if (!ch)
			break;
		leaf = (leaf ^ ch) * GUARD_FNV_PRIME;
	}
	return guard_key(leaf, class);
}

/* @p's offset in this CPU's buffer (files_rec), which every record is built in. */
static __always_inline __u32 guard_off(const char *p)
{
	struct files_rec_buf *rb = files_rec_get();

	return rb ? (__u32)(p - (const char *)rb->buf) : 0;
}

/*
 * Walk (@d, @vm) in the kernel and copy the path to byte @off of this CPU's buffer, at most
 * @max bytes (<= GUARD_PATH_MAX). Returns ks_path_copy()'s value (bytes with KS_PATH_CUT),
 * 0 when there is nothing. Global: verified once, not at each of its many callers.
 */
__noinline int guard_copy_walk(__u32 off, __u32 max, __u64 d, __u64 vm)
{
	struct files_rec_buf *rb = files_rec_get();

	if (!rb || !d || ks_path_walk((struct dentry *)d, (struct vfsmount *)vm))
		return 0;
	/* constant bounds for the copy's loops (an unknown one splits them at every step) */
	if (max <= GUARD_PATH_MAX / 2)
		return ks_path_copy((char *)rb->buf + (off & 8191), GUARD_PATH_MAX / 2);
	return ks_path_copy((char *)rb->buf + (off & 8191), GUARD_PATH_MAX);
}

static __always_inline __u32 guard_copy_file(char *dst, __u32 max, struct file *f)
{
	return guard_copy_walk(guard_off(dst), max, (__u64)BPF_CORE_READ(f, f_path.dentry),
			       (__u64)BPF_CORE_READ(f, f_path.mnt));
}

/* The path of @f walked into @dst (KS_PATH_ROOM of room). Returns its bytes, NUL included. */
static __always_inline __u32 guard_file_path(char *dst, struct file *f, __u32 *flags)
{
	__u32 n = guard_copy_file(dst, GUARD_PATH_MAX, f);

	if (n & KS_PATH_CUT)
		*flags |= GUARD_F_CUT;
	return n & (GUARD_PATH_MAX * 2 - 1);
}

/* @n bytes (a string: guard_read_str) at @src, user memory or with @kern the kernel's */
static __always_inline long guard_read(void *dst, __u32 n, __u64 src, int kern)
{
	return kern ? bpf_probe_read_kernel(dst, n, (const void *)src) :
		      bpf_probe_read_user(dst, n, (const void *)src);
}

static __always_inline long guard_read_str(void *dst, __u32 n, __u64 src, int kern)
{
	return kern ? bpf_probe_read_kernel_str(dst, n, (const void *)src) :
		      bpf_probe_read_user_str(dst, n, (const void *)src);
}

#define GUARD_UP_CUT (1 << 16)	/* guard_user_path_at(): the walked base lost its head */
#define GUARD_UP_REL (1 << 17)	/* ... the path was joined from a relative name */

/*
 * The path a call named with (@fd, string @arg: the user's, or with @kern a kernel copy,
 * an io_uring request's struct filename), into byte @doff of this CPU's buffer: as passed
 * when absolute; else the cwd or @fd's file walked in the kernel, "/" and the name (a
 * leading "./" dropped; other "." and ".." kept, user space cleans it). Returns its bytes,
 * NUL included (0: none), with GUARD_UP_CUT and GUARD_UP_REL. Global: verified once.
 */
__noinline int guard_user_path_at(__u32 doff, __u64 arg, int fd, int kern)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_rec_buf *rb = files_rec_get();
	char first[2] = {};
	__u32 n, off, ret = 0;
	struct file *f;
	char *dst;
	long m;

	if (!arg || !rb)
		return 0;
	dst = (char *)rb->buf + (doff & 8191);
	guard_read(first, sizeof(first), arg, kern);
	if (first[0] == '/') {
		m = guard_read_str(dst, GUARD_PATH_MAX, arg, kern);
		return m > 0 ? m : 0;
	}
	if (fd == GUARD_AT_FDCWD) {
		n = guard_copy_walk(doff, GUARD_PATH_MAX / 2,
				    (__u64)BPF_CORE_READ(task, fs, pwd.dentry),
				    (__u64)BPF_CORE_READ(task, fs, pwd.mnt));
	} else {
		f = ks_fd_file(task, fd);
		if (!f)
			return 0;
		n = guard_copy_walk(doff, GUARD_PATH_MAX / 2,
				    (__u64)BPF_CORE_READ(f, f_path.dentry),
				    (__u64)BPF_CORE_READ(f, f_path.mnt));
	}
	if (n & KS_PATH_CUT)
		ret |= GUARD_UP_CUT;
	n &= GUARD_PATH_MAX - 1;
	if (!n || !first[0])	/* "" with AT_EMPTY_PATH: the file on fd itself */
		return n | ret;
	ret |= GUARD_UP_REL;
	if (first[0] == '.' && first[1] == '/')
		arg += 2;
	off = n <= 2 ? 0 : n - 1;	/* the base's NUL, or after "/" */
	dst[ks_mask(off, GUARD_PATH_MAX / 2 - 1)] = '/';
	m = guard_read_str(dst + ks_mask(off + 1, GUARD_PATH_MAX / 2 - 1), GUARD_PATH_MAX / 2,
			   arg, kern);
	if (m <= 0) {
		dst[ks_mask(off + 1, GUARD_PATH_MAX / 2 - 1)] = 0;
		m = 1;
	}
	return (off + 1 + (m & (GUARD_PATH_MAX / 2 - 1))) | ret;
}

/* guard_user_path_at() into @dst, its flags as GUARD_F_CUT and @relflag in *@flags. */
static __always_inline __u32 guard_any_path(char *dst, __u64 arg, int fd, __u32 *flags,
					    __u32 relflag, int kern)
{
	__u32 r = guard_user_path_at(guard_off(dst), arg, fd, kern);

	if (r & GUARD_UP_CUT)
		*flags |= GUARD_F_CUT;
	if (r & GUARD_UP_REL)
		*flags |= relflag;
	return r & (GUARD_PATH_MAX * 2 - 1);
}

/* A name a syscall was given, in user memory */
static __always_inline __u32 guard_user_path(char *dst, __u64 arg, int fd, __u32 *flags,
					     __u32 relflag)
{
	return guard_any_path(dst, arg, fd, flags, relflag, 0);
}

#endif
