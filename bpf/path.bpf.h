/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Paths built in the kernel, for any program type (bpf_d_path() is allowed only in a few
 * fentry/LSM hooks): walk a dentry up its d_parent chain, crossing mounts through
 * mnt_mountpoint/mnt_parent, until the current task's root, like d_path() does.
 *
 * Written for the verifier, which explores every path through a loop: a walk whose
 * branches leave different values behind (an offset that moved or not) doubles its work
 * at each step. So the walk only records each step's component (name pointer and length)
 * in a per-CPU array at the slot of the step (a mount crossing records an empty one); the
 * verifier does not follow what a map holds, so both branches of a step end in the same
 * state. A second, branch-free loop then copies the names out, leaf side kept when the
 * path is too long. Both cost a constant number of verified instructions per step.
 *
 * Both are global functions with scalar arguments: the verifier checks each once per
 * program, not once per place that names a file (files checks three: 102k instructions
 * processed before, 25k after, 150 ms of its start-up down to 40). So the copy writes into
 * the per-CPU record's own buffer, and the caller's inline wrapper copies it to its place.
 *
 * Not exact in the same cases d_path() would not be: a rename racing with the walk can
 * mix old and new names (no seqlock here), and an unlinked file keeps its last name
 * (d_path() appends " (deleted)").
 */
#ifndef KSIGHT_PATH_BPF_H
#define KSIGHT_PATH_BPF_H

#include "common.bpf.h"
#include "task_fd.bpf.h"

#define KS_PATH_DEPTH 64	/* components and mount crossings walked at most */
#define KS_PATH_OFF_MASK 4095	/* the copy's offset mask: paths up to 4096 bytes */
#define KS_NAME_MASK 255	/* a component is at most NAME_MAX bytes */
/* room a destination needs after its start for the verifier (not the path's length) */
#define KS_PATH_ROOM (KS_PATH_OFF_MASK + KS_NAME_MASK + 2)
#define KS_PATH_CUT 0x8000	/* ks_path_copy(): the path lost its head */

struct ks_path_comp {
	__u64 name;		/* kernel address of the component's bytes */
	__u32 len;		/* 0: a mount crossing, nothing to copy */
	__u32 __pad;
};

struct ks_path_comps {
	struct ks_path_comp c[KS_PATH_DEPTH];	/* leaf first */
	__u32 n;		/* slots used */
	__u32 deep;		/* the walk stopped before the root */
	__u32 fit;		/* ks_path_copy(): slots that fit */
	__u32 __pad;
	char out[KS_PATH_ROOM];	/* ks_path_copy_g()'s path, for the caller to copy */
};

/* The walk's per-CPU record: private to each object that walks paths (files, rw), whose
 * walks run in syscall context only and so never nest on a CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_path_comps);
} path_comps SEC(".maps");

/* The struct mount around a struct vfsmount (container_of, relocated by CO-RE). */
static __always_inline struct mount *ks_real_mount(struct vfsmount *vm)
{
	return (struct mount *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
}

/*
 * Record the components of @d on mount @vm, as the current task sees them from its root,
 * into this CPU's path_comps. A file outside the task's root (passed in by fd) is
 * walked up to the global root. Returns 0, or -1 when there is no buffer.
 */
__noinline int ks_path_walk_g(__u64 dentry, __u64 vfsmount)
{
	struct dentry *d = (struct dentry *)dentry;
	struct vfsmount *vm = (struct vfsmount *)vfsmount;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct dentry *root_d = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_m = BPF_CORE_READ(task, fs, root.mnt);
	struct mount *mnt = ks_real_mount(vm);
	struct ks_path_comps *pc;
	__u32 zero = 0, i;

	pc = bpf_map_lookup_elem(&path_comps, &zero);
	if (!pc)
		return -1;
	pc->deep = 1;
	for (i = 0; i < KS_PATH_DEPTH; i++) {
		struct dentry *parent, *mnt_root;
		struct ks_path_comp *c = &pc->c[i & (KS_PATH_DEPTH - 1)];

		if (!d || (d == root_d && vm == root_m)) {
			pc->deep = 0;
			break;
		}
		mnt_root = BPF_CORE_READ(vm, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		c->len = 0;
		c->name = 0;
		if (d == mnt_root || d == parent) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			/* the global root, or a detached tree: nothing above */
			if (d != mnt_root || !up || up == mnt) {
				pc->deep = 0;
				break;
			}
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			vm = &up->mnt;
		} else {
			c->len = BPF_CORE_READ(d, d_name.len);
			c->name = (__u64)BPF_CORE_READ(d, d_name.name);
			d = parent;
		}
	}
	pc->n = i;
	return 0;
}

static __always_inline int ks_path_walk(struct dentry *d, struct vfsmount *vm)
{
	return ks_path_walk_g((__u64)d, (__u64)vm);
}

/*
 * Write the path recorded by ks_path_walk() to this CPU's path_comps.out, as
 * ks_path_copy() says (its return value too).
 */
__noinline int ks_path_copy_g(__u32 max)
{
	struct ks_path_comps *pc;
	__u32 zero = 0, n, j, k, fit = 0, acc = 1, off = 0, cut;
	char *dst;

	pc = bpf_map_lookup_elem(&path_comps, &zero);
	if (!pc)
		return 0;
	dst = pc->out;
	n = pc->n;
	cut = pc->deep ? KS_PATH_CUT : 0;
	/* how many components fit, from the leaf up */
	for (j = 0; j < KS_PATH_DEPTH; j++) {
		__u32 len = pc->c[j].len & KS_NAME_MASK;

		if (j >= n)
			break;
		if (acc + len + 1 > max) {
			cut = KS_PATH_CUT;
			break;
		}
		acc += len + 1;
		fit = j + 1;
	}
	/* through the map, so that the many ways out of the loop above meet again */
	pc->fit = fit;
	fit = *(volatile __u32 *)&pc->fit;
	/* "/" and the name for each, from the top down; a crossing's "/" is overwritten */
	for (k = 0; k < KS_PATH_DEPTH; k++) {
		struct ks_path_comp *c;
		__u32 len;

		if (k >= fit)
			break;
		c = &pc->c[(fit - 1 - k) & (KS_PATH_DEPTH - 1)];
		len = c->len & KS_NAME_MASK;
		dst[ks_mask(off, KS_PATH_OFF_MASK)] = '/';
		bpf_probe_read_kernel(dst + ks_mask(off, KS_PATH_OFF_MASK) + 1, len,
				      (const void *)c->name);
		off += len + ((len + KS_NAME_MASK) >> 8);	/* + 1 unless empty */
	}
	if (!off) {
		dst[0] = '/';
		off = 1;
	}
	dst[ks_mask(off, KS_PATH_OFF_MASK)] = 0;
	return (off + 1) | cut;
}

/*
 * Write the path recorded by ks_path_walk() to @dst: at most @max bytes with its NUL
 * (@max <= KS_PATH_OFF_MASK + 1), keeping the leaf side when it is longer. @dst must have
 * KS_PATH_OFF_MASK + 1 bytes of room in its map value. Returns the bytes written, NUL
 * included, with KS_PATH_CUT set when components were left out (or the walk stopped
 * early); 0 when there is nothing.
 */
static __always_inline __u32 ks_path_copy(char *dst, __u32 max)
{
	__u32 zero = 0, r = ks_path_copy_g(max), len = r & (KS_PATH_CUT - 1);
	struct ks_path_comps *pc = bpf_map_lookup_elem(&path_comps, &zero);

	if (!pc || !len)
		return 0;
	if (len > KS_PATH_OFF_MASK + 1)
		len = KS_PATH_OFF_MASK + 1;
	/* a bound the verifier keeps, whatever the compiler made of the test above */
	bpf_probe_read_kernel(dst, len & (2 * KS_PATH_OFF_MASK + 1), pc->out);
	return r;
}

#endif
