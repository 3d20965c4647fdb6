/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user-space ABI's message structures (x86_64) as the syscalls take them from user
 * memory, spelled out so that no kernel's BTF needs to have them (5.10's lacks some) and
 * every module reads them alike: rw (request sizes), udp (datagrams and their peers), req
 * (the first bytes of a message).
 */
#ifndef KSIGHT_UABI_BPF_H
#define KSIGHT_UABI_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* struct iovec */
struct ks_uiovec {
	__u64 base;
	__u64 len;
};

/* struct msghdr as user space passes it (the kernel's struct user_msghdr) */
struct ks_umsghdr {
	__u64 name;		/* struct sockaddr *, or 0 */
	__u32 namelen;
	__u32 __pad;
	__u64 iov;		/* struct ks_uiovec * */
	__u64 iovlen;
	__u64 control;
	__u64 controllen;
	__u32 flags;
	__u32 __pad2;
};

/* struct mmsghdr: sendmmsg/recvmmsg's vector */
struct ks_ummsghdr {
	struct ks_umsghdr hdr;
	__u32 len;		/* set by the kernel: the message's bytes */
	__u32 __pad;
};

#endif
