/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net module: traffic counted in the kernel per direction, address family and protocol,
 * per interface (TC) and per cgroup (cgroup_skb); a packet-size histogram; the remote ends
 * traffic comes from and goes to; and, with --payload, the first bytes of the last
 * NET_PAYLOAD_SLOTS packets matching --port. Nothing is streamed. Shared by bpf/net.bpf.c
 * and src/modules/net*.c.
 */
#ifndef KSIGHT_NET_H
#define KSIGHT_NET_H

#include "common.h"

#define NET_EV_TRAFFIC KS_EV(KS_MOD_net, 0)	/* counted in net_traffic (loss: table full) */
#define NET_EV_REMOTE KS_EV(KS_MOD_net, 1)	/* counted in net_remotes (loss: table full) */
#define NET_EV_PAYLOAD KS_EV(KS_MOD_net, 2)	/* kept in net_payload, the last ones only */

#define NET_TRAFFIC_ROWS 4096	/* (interface or cgroup, direction, family, protocol) */
#define NET_REMOTE_ROWS 16384	/* (remote address, remote port, local port[, cgroup]) */
#define NET_PAYLOAD_SLOTS 1024	/* packets whose first bytes are kept (a power of two) */
#define NET_PAYLOAD_MAX 256	/* bytes kept of each */
#define NET_SIZE_SLOTS 32	/* log2 buckets of the packet size */
#define NET_IFACES 256		/* interfaces the TC programs know the link header of */

/* Where a packet was seen. */
enum net_via {
	NET_VIA_IFACE = 0,	/* TC clsact on an interface: bytes with the link header */
	NET_VIA_CGROUP = 1,	/* cgroup_skb: bytes from the IP header on */
	NET_VIA_N,
};

enum net_dir {
	NET_DIR_IN = 0,
	NET_DIR_OUT = 1,
};

/* net_key.family */
#define NET_F_OTHER 0		/* not IP (ARP, ...) */
#define NET_F_IPV4 4
#define NET_F_IPV6 6

/* net_key.proto */
enum net_proto {
	NET_P_OTHER = 0,
	NET_P_TCP = 1,
	NET_P_UDP = 2,
	NET_P_ICMP = 3,		/* ICMP, or ICMPv6 over IPv6 */
	NET_P_N,
};

/* net_traffic's key: one interface (ifindex) or one cgroup (v2 id), one direction. */
struct net_key {
	__u64 id;		/* NET_VIA_IFACE: ifindex; NET_VIA_CGROUP: the socket's cgroup */
	__u8 via;		/* enum net_via */
	__u8 dir;		/* enum net_dir */
	__u8 family;		/* NET_F_* */
	__u8 proto;		/* enum net_proto */
	__u32 __pad;
};

struct net_count {
	__u64 packets;		/* packets (sk_buffs) as the hook saw them */
	__u64 bytes;		/* their length (see enum net_via) */
};

/*
 * net_remotes' key: the other end of the traffic, as seen from this host (ingress: the
 * source; egress: the destination). TCP and UDP only.
 */
struct net_rkey {
	__u8 raddr[16];		/* network order; IPv4 in the first 4 bytes */
	__u64 cgroup;		/* -P: the socket's cgroup (cgroup view), else 0 */
	__u16 rport;		/* host order */
	__u16 lport;		/* host order */
	__u8 family;		/* NET_F_IPV4, NET_F_IPV6 */
	__u8 proto;		/* NET_P_TCP, NET_P_UDP */
	__u16 __pad;
};

struct net_rval {
	__u64 in_packets, in_bytes;	/* from the remote end */
	__u64 out_packets, out_bytes;	/* to it */
};

/*
 * One packet's first bytes (--payload), in slot seq % NET_PAYLOAD_SLOTS of net_payload.
 * seq is written last: user space skips a slot whose seq it has shown already.
 */
struct net_cap {
	__u64 seq;		/* 1, 2, ...: the capture's number (0: slot never used) */
	__u64 ts;		/* ns, CLOCK_MONOTONIC */
	__u64 id;		/* ifindex or cgroup id, as in net_key */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport, dport;	/* host order */
	__u8 via, dir, family, proto;
	__u32 len;		/* payload bytes the packet carries */
	__u32 cap;		/* of them in data[] */
	__u8 data[NET_PAYLOAD_MAX];
};

#endif
