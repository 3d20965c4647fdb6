// SPDX-License-Identifier: GPL-2.0
/*
 * funccount: one uprobe program for every user function counted. User space attaches it
 * to each matching function with the function's index as the link's BPF cookie (5.15+),
 * so one verified program serves any number of functions, with no code generated at run
 * time. Tracepoints are not counted here: perf tracepoint counters do that with no
 * program at all (src/modules/funccount_tp.c).
 */
#include "common.bpf.h"
#include "funccount.h"

const volatile bool funccount_per_proc = false;	/* -P: a row per process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUNCCOUNT_ROWS);
	__type(key, struct funccount_key);
	__type(value, struct funccount_val);
} funccount_calls SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(funccount__uprobe)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct funccount_key key = {};
	struct funccount_val *v;

	if (!ks_want(pid_tgid))
		return 0;
	key.func = bpf_get_attach_cookie(ctx);
	if (funccount_per_proc)
		key.pid = pid_tgid >> 32;
	v = bpf_map_lookup_elem(&funccount_calls, &key);
	if (!v) {
		struct funccount_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		/* another CPU may make the row first: then it is there to look up */
		if (bpf_map_update_elem(&funccount_calls, &key, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&funccount_calls, &key)) {
			ks_lost(FUNCCOUNT_EV_CALL);
			return 0;
		}
		v = bpf_map_lookup_elem(&funccount_calls, &key);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
