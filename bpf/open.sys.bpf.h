/* SPDX-License-Identifier: GPL-2.0 */
/* open: the open family at its return, from the dispatcher or from fexit programs. */
#ifndef KSIGHT_OPEN_SYS_BPF_H
#define KSIGHT_OPEN_SYS_BPF_H

#include "syscalls.bpf.h"
#include "open.h"

const volatile bool open_failed_only = false;	/* -x */
const volatile bool open_count = false;		/* --count: aggregate, stream nothing */
const volatile __u32 open_name_len = 0;		/* --name: comm substring, 0 = off */
const volatile char open_name[TASK_COMM_LEN] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OPEN_COUNT_ENTRIES);
	__type(key, struct open_count_key);
	__type(value, struct open_count_val);
} open_counts SEC(".maps");

#define OPEN_O_CREAT_TRUNC_WRONLY 01101	/* what creat() means */

static __always_inline bool open_comm_contains(void)
{
	char comm[TASK_COMM_LEN] = {};
	__u32 i, j;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < TASK_COMM_LEN; i++) {
		for (j = 0; j < TASK_COMM_LEN; j++) {
			if (j >= open_name_len)
				return true;
			if (i + j >= TASK_COMM_LEN || comm[i + j] != open_name[j])
				break;
		}
	}
	return false;
}

static __always_inline void open_count_call(const char *path, long ret, __u64 pid_tgid)
{
	struct open_count_val *val;
	struct open_count_key *key;
	struct ks_level lv;

	/* the key is bigger than the stack allows */
	key = ks_scratch_begin(&lv, OPEN_EV_COUNT);
	if (!key)
		return;
	__builtin_memset(key, 0, sizeof(*key));
	key->pid = pid_tgid >> 32;
	bpf_probe_read_user_str(key->path, sizeof(key->path), path);
	val = bpf_map_lookup_elem(&open_counts, key);
	if (!val) {
		struct open_count_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		if (bpf_map_update_elem(&open_counts, key, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&open_counts, key)) {
			ks_lost(OPEN_EV_COUNT);
			goto out;
		}
		val = bpf_map_lookup_elem(&open_counts, key);
		if (!val)
			goto out;
	}
	__sync_fetch_and_add(&val->opens, 1);
	if (ret < 0) {
		__sync_fetch_and_add(&val->errors, 1);
		val->last_err = ret;
	}
out:
	ks_scratch_end(&lv);
}

static __always_inline void open_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					  __u64 pid_tgid)
{
	const char *path;
	struct open_event *e;
	struct ks_level lv;
	__u64 flags;
	__u32 mode;
	__s32 dfd = -100;	/* AT_FDCWD */
	long n;

	if (open_failed_only && ret >= 0)
		return;
	if (open_name_len && !open_comm_contains())
		return;
	switch (c->id) {
	case __NR_open:
		path = (const char *)c->args[0];
		flags = c->args[1];
		mode = c->args[2];
		break;
	case __NR_creat:
		path = (const char *)c->args[0];
		flags = OPEN_O_CREAT_TRUNC_WRONLY;
		mode = c->args[1];
		break;
	case __NR_openat:
		dfd = c->args[0];
		path = (const char *)c->args[1];
		flags = c->args[2];
		mode = c->args[3];
		break;
	case __NR_openat2: {
		struct open_how how = {};

		dfd = c->args[0];
		path = (const char *)c->args[1];
		bpf_probe_read_user(&how, sizeof(how), (void *)c->args[2]);
		flags = how.flags;
		mode = how.mode;
		break;
	}
	default:
		return;
	}
	if (open_count) {
		open_count_call(path, ret, pid_tgid);
		return;
	}
	e = ks_scratch_begin(&lv, OPEN_EV_OPEN);
	if (!e)
		return;
	e->hdr.type = OPEN_EV_OPEN;
	e->ret = ret;
	e->flags = flags;
	e->mode = mode;
	e->dfd = dfd;
	e->sys = c->id;
	n = bpf_probe_read_user_str(e->path, OPEN_PATH_MAX, path);
	if (n <= 0) {
		e->path[0] = 0;
		n = 1;
	}
	e->path_len = n;
	ks_output(&lv, &e->hdr, sizeof(*e) + n, pid_tgid);
}

#endif
