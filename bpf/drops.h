/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drops module: packets the kernel dropped (skb:kfree_skb), counted in the kernel per
 * (reason, interface, protocol, owner of the packet's socket). Nothing is streamed.
 * Shared by bpf/drops.bpf.c and src/modules/drops*.c.
 */
#ifndef KSIGHT_DROPS_H
#define KSIGHT_DROPS_H

#include "common.h"

#define DROPS_EV_ROW KS_EV(KS_MOD_drops, 0)	/* aggregated: drops counted in drops_rows (its
						 * losses: drops a full table refused) */

#define DROPS_ROWS 8192		/* (reason, interface, protocol, owner) rows at once */
#define DROPS_SOCKS 4096	/* -p: sockets of the process */

/* The kernel gave no reason: kfree_skb before 5.17 has none. */
#define DROPS_REASON_UNKNOWN 0xffffffffu

#define DROPS_IFNAMSIZ 16

/* drops_key.flags */
#define DROPS_K_SOCK 0x1	/* the packet belonged to a full socket: cgroup is its owner's */

struct drops_key {
	__u32 reason;		/* enum skb_drop_reason as the running kernel numbers it, or
				 * DROPS_REASON_UNKNOWN */
	__u32 ifindex;		/* the packet's device (else its route's), 0: none */
	__u32 netns;		/* inode of that device's network namespace (else the
				 * socket's), 0: unknown */
	__u16 proto;		/* skb->protocol, host order (0x0800 IPv4, 0x86dd IPv6...) */
	__u8 l4;		/* IPPROTO_* from the IPv4/IPv6 header, 0: not read */
	__u8 flags;		/* DROPS_K_* */
	__u64 cgroup;		/* cgroup v2 id of the socket's owner (DROPS_K_SOCK), else 0 */
};

struct drops_val {
	__u64 count;		/* packets */
	__u64 bytes;		/* their skb->len, bytes */
	char ifname[DROPS_IFNAMSIZ];	/* the device's name when the row was made */
};

#endif
