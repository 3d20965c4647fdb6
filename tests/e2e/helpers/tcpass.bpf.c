// SPDX-License-Identifier: GPL-2.0
/*
 * tcpass: the tests' own TC filter (tc filter add ... bpf obj tcpass.bpf.o sec tc da),
 * there before ksight starts and required to be there, unchanged, after it is gone. It
 * hands every packet on to the next filter. (This kernel has no other classifier.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int tcpass(struct __sk_buff *skb)
{
	return -1;	/* TC_ACT_UNSPEC: go on */
}

char LICENSE[] SEC("license") = "GPL";
