// SPDX-License-Identifier: GPL-2.0
/*
 * funccount: one uprobe program for every user function counted. User space attaches it
 * to each matching function with the function's index as the link's BPF cookie (5.15+),
 * so one verified program serves any number of functions, with no code generated at run
 * time. Kernel functions: one kprobe program on each (or one fentry program copied per
 * function), its row keyed by the address. Tracepoints are not counted here: perf tracepoint counters do that with no
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

/* One more call of @func (a cookie or an address) by the current process. */
static __always_inline void count(__u64 func)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct funccount_key key = {};
	struct funccount_val *v;

	if (!ks_want(pid_tgid))
		return;
	key.func = func;
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
			return;
		}
		v = bpf_map_lookup_elem(&funccount_calls, &key);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->calls, 1);
}

SEC("uprobe")
int BPF_KPROBE(funccount__uprobe)
{
	count(bpf_get_attach_cookie(ctx));
	return 0;
}

/*
 * Every kernel function: the kprobe's instruction pointer is just past the probed
 * instruction (the function's first, or after its endbr64), inside the function, which
 * user space names from /proc/kallsyms. No cookie, no bpf_get_func_ip: both 5.15+, and
 * this runs on 5.10.
 */
SEC("kprobe")
int BPF_KPROBE(funccount__kprobe)
{
	count(PT_REGS_IP(ctx));
	return 0;
}

/* The same on kernels with kprobe.multi (5.18+, fprobe): one link for every function;
 * bpf_get_func_ip gives the function's entry address. */
SEC("kprobe.multi")
int BPF_KPROBE(funccount__kmulti)
{
	count(bpf_get_func_ip(ctx));
	return 0;
}

/*
 * Where fentry is chosen: libbpf loads this once (maps made, everything relocated) and
 * user space loads a copy per function from its instructions, the marker's 64-bit
 * immediate replaced by the function's address (src/modules/funccount_fentry.c): a
 * trampoline program is verified for one target, and no bpf_get_func_ip (5.17+ for
 * fentry) or cookie is needed.
 */
SEC("fentry")
int BPF_PROG(funccount__fentry)
{
	count(FUNCCOUNT_FENTRY_MARK);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
