/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syscount: the handler the dispatcher runs at every syscall's exit. It counts into per-CPU
 * maps: one lookup, and adds to a cache line no other CPU touches. The adds are atomic
 * all the same (a lock prefix on a local line costs a few ns): kernels that let syscall
 * tracepoint programs be preempted (faultable tracepoints) could otherwise interleave two
 * tasks' increments of one CPU's copy and lose a count.
 */
#ifndef KSIGHT_SYSCOUNT_SYS_BPF_H
#define KSIGHT_SYSCOUNT_SYS_BPF_H

#include "syscalls.bpf.h"
#include "syscount.h"

const volatile bool syscount_keyed = false;	/* -P or -e: the hash tables */
const volatile bool syscount_per_pid = false;	/* -P */
const volatile bool syscount_errnos = false;	/* -e */
const volatile bool syscount_failed_only = false;	/* -x */
const volatile bool syscount_timed = false;	/* -L or --hist: entry times */
const volatile bool syscount_hist = false;	/* --hist */
const volatile bool syscount_hist_us = false;	/* -m: buckets in us, not ns */

/* Without -P/-e: by syscall number. Sized to 1 when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_SYS_MAX);
	__type(key, __u32);
	__type(value, struct syscount_val);
} syscount_nr_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_SYS_MAX);
	__type(key, __u32);
	__type(value, struct syscount_hist);
} syscount_nr_hists SEC(".maps");

/* With -P/-e. The histograms are shared, not per CPU: 320 bytes times the CPUs times
 * 16384 keys would be too much memory. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SYSCOUNT_KEYS);
	__type(key, struct syscount_key);
	__type(value, struct syscount_val);
} syscount_key_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYSCOUNT_KEYS);
	__type(key, struct syscount_key);
	__type(value, struct syscount_hist);
} syscount_key_hists SEC(".maps");

static __always_inline __u32 syscount_slot(__u64 v)
{
	__u32 r = ks_log2(v);

	return r < SYSCOUNT_SLOTS ? r : SYSCOUNT_SLOTS - 1;
}

/* The key's entry in @map, created from @zero on first use; NULL when the
 * full table refuses it (the caller counts the loss). */
static __always_inline void *syscount_key_get(void *map, const struct syscount_key *key,
					      const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* another CPU may have inserted it meanwhile: EEXIST is fine */
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline void syscount_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					      __u64 pid_tgid)
{
	bool failed = ret < 0 && ret >= -SYSCOUNT_ERRNO_MAX;
	struct syscount_hist *h = NULL;
	struct syscount_val *v;
	__u64 delta = 0;

	if (syscount_failed_only && !failed)
		return;
	if (syscount_timed) {
		/* entered before ksight attached: neither timed nor counted, so the
		 * histograms always add up to the counts */
		if (!c->enter_ts)
			return;
		delta = bpf_ktime_get_ns() - c->enter_ts;
		if ((__s64)delta < 0)
			delta = 0;
	}
	if (syscount_keyed) {
		struct syscount_key key = { .nr = c->id };

		if (syscount_per_pid)
			key.pid = pid_tgid >> 32;
		if (syscount_errnos && failed)
			key.err = -ret;
		/* both entries first, so a call is counted in both or (as lost) in neither */
		if (syscount_hist) {
			static const struct syscount_hist hzero;

			h = syscount_key_get(&syscount_key_hists, &key, &hzero);
			if (!h) {
				ks_lost(SYSCOUNT_EV_CALL);
				return;
			}
		}
		v = bpf_map_lookup_elem(&syscount_key_counts, &key);
		if (!v) {
			struct syscount_val zero = {};

			if (syscount_per_pid)
				bpf_get_current_comm(zero.comm, sizeof(zero.comm));
			v = syscount_key_get(&syscount_key_counts, &key, &zero);
			if (!v) {
				ks_lost(SYSCOUNT_EV_CALL);
				return;
			}
		}
	} else {
		__u32 nr = c->id;

		if (syscount_hist) {
			h = bpf_map_lookup_elem(&syscount_nr_hists, &nr);
			if (!h)
				return;
		}
		v = bpf_map_lookup_elem(&syscount_nr_counts, &nr);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
	if (failed)
		__sync_fetch_and_add(&v->errors, 1);
	if (syscount_timed)
		__sync_fetch_and_add(&v->lat_ns, delta);
	if (h) {
		__u32 slot = syscount_slot(syscount_hist_us ? delta / 1000 : delta);

		__sync_fetch_and_add(&h->slots[slot], 1);
	}
}

#endif
