/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp module: datagrams and bytes per process and remote endpoint, both directions,
 * counted in the kernel at the return of the calls that move them (bpf/udp.sys.bpf.h);
 * and, with --dns, the first bytes of every datagram to or from port 53, streamed for user
 * space to decode. Shared by bpf/udp.bpf.c and src/modules/udp*.c.
 */
#ifndef KSIGHT_UDP_H
#define KSIGHT_UDP_H

#include "common.h"

#define UDP_EV_FLOW KS_EV(KS_MOD_udp, 0)	/* counted in udp_flows (loss: table full,
						 * or mmsg messages past UDP_MMSG_MAX) */
#define UDP_EV_DNS KS_EV(KS_MOD_udp, 1)		/* streamed: a datagram to/from port 53 */

#define UDP_FLOWS 16384		/* (process, local port, remote endpoint) rows at once */
#define UDP_MMSG_MAX 32		/* messages of one sendmmsg/recvmmsg looked at */
#define UDP_DNS_CAP 512		/* bytes of a DNS datagram kept (RFC 1035's UDP limit) */
#define UDP_DNS_PORT 53

/* Address families as the kernel numbers them. */
#define UDP_AF_INET 2
#define UDP_AF_INET6 10

/*
 * udp_flows' key: one process, one local port, one remote endpoint (IPv4 in the first 4
 * bytes of raddr, IPv4-mapped IPv6 addresses as IPv4). family 0: the remote end is not
 * known (a recv without an address buffer on an unconnected socket). With -P only pid is
 * set: one row per process.
 */
struct udp_flow_key {
	__u32 pid;		/* thread group id */
	__u16 lport;		/* host order */
	__u16 rport;		/* host order */
	__u8 raddr[16];		/* network order */
	__u16 family;		/* UDP_AF_INET, UDP_AF_INET6, 0 */
	__u16 __pad[3];
};

struct udp_flow_val {
	__u64 tx_dgrams;	/* datagrams sent */
	__u64 tx_bytes;		/* payload bytes sent (what the calls returned) */
	__u64 rx_dgrams;
	__u64 rx_bytes;		/* payload bytes received (what the calls returned) */
	__u64 cgroup;		/* of the thread that made the row */
	char comm[TASK_COMM_LEN];
	__u32 flags;		/* UDP_FLOW_F_*, set when the row was made */
	__u32 netns;		/* its socket's network namespace's inode, likewise: where
				 * the agent asks the routes for the end's own address */
};

/* udp_flow_val.flags: what the service map needs to tell a flow's client from its server
 * (docs/map.md, "UDP edges"). */
#define UDP_FLOW_F_RX_FIRST 0x1	/* the row's first datagram was received (else sent) */
#define UDP_FLOW_F_BOUND 0x2	/* the socket's port was bound explicitly (bind() with a
				 * port: the kernel's SOCK_BINDPORT_LOCK), not picked by the
				 * kernel on the first send */

/* udp_dns_ev.flags */
#define UDP_DNS_F_TX 0x1	/* sent by this task (else received) */
#define UDP_DNS_F_FAULT 0x2	/* the user buffer could not be read: cap is 0 */

/*
 * UDP_EV_DNS: one datagram to or from port 53, about the task that sent or received it.
 * ts is the call's return. data[] holds its first cap bytes (user space decodes them).
 */
struct udp_dns_ev {
	struct ks_hdr hdr;
	__u64 sock;		/* the struct sock's address: pairs a query with its answer */
	__u8 raddr[16];		/* as in udp_flow_key */
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 flags;		/* UDP_DNS_F_* */
	__u32 len;		/* datagram bytes (what the call returned) */
	__u32 cap;		/* bytes in data[] */
	__u8 data[UDP_DNS_CAP];
};

#endif
