/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp module: one connection table built in the kernel (who opened each TCP connection,
 * both ends, its counters when it was established), and what tcplife reports of each
 * session when it closes. Shared by bpf/tcp.bpf.c and src/modules/tcp*.c.
 */
#ifndef KSIGHT_TCP_H
#define KSIGHT_TCP_H

#include "common.h"

#define TCP_EV_CLOSE KS_EV(KS_MOD_tcp, 0)	/* streamed: a session closed */
#define TCP_EV_CONN KS_EV(KS_MOD_tcp, 1)	/* loss slot: the connection table was full */
#define TCP_EV_PROC KS_EV(KS_MOD_tcp, 2)	/* -P: closes counted per process in the kernel */
#define TCP_EV_CONNECT KS_EV(KS_MOD_tcp, 3)	/* tcpconnect: a connect ended (or failed) */
#define TCP_EV_ACCEPT KS_EV(KS_MOD_tcp, 4)	/* tcpaccept: accept() returned a connection */
#define TCP_EV_LAT KS_EV(KS_MOD_tcp, 5)	/* tcpconnect -L: connects counted in a histogram */

/* What the module's command does (the tcp object serves three). */
#define TCP_MODE_LIFE 0		/* tcplife: sessions at close */
#define TCP_MODE_CONNECT 1	/* tcpconnect: active opens, connect latency */
#define TCP_MODE_ACCEPT 2	/* tcpaccept: passive opens as accept() returns them */

#define TCP_LAT_SLOTS 32

#define TCP_CONNS 65536		/* connections tracked at once */
#define TCP_PROCS 4096		/* -P: processes counted at once */

/* tcp_conn.side, tcp_close.side */
#define TCP_SIDE_NONE 0		/* opened before ksight started: not known */
#define TCP_SIDE_CLIENT 1	/* this end connected (SYN_SENT) */
#define TCP_SIDE_SERVER 2	/* this end was accepted from a listener (SYN_RECV) */

/* tcp_conn.flags, tcp_close.flags */
#define TCP_F_OWNER 0x1		/* the owner is known (the connecting or accepting task) */
#define TCP_F_ESTAB 0x2		/* reached ESTABLISHED: the byte baselines are set */
#define TCP_F_FIN_SENT 0x4	/* this end sent a FIN (entered FIN_WAIT1 or LAST_ACK) */
#define TCP_F_FIN_RCVD 0x8	/* the peer's FIN was taken in (SOCK_DONE) */
#define TCP_F_FIN_ACKED 0x10	/* this end's FIN was acknowledged */
#define TCP_F_BEFORE 0x20	/* opened before ksight started: no owner, start or baselines */

/* Address families as the kernel numbers them (AF_INET, AF_INET6). */
#define TCP_AF_INET 2
#define TCP_AF_INET6 10

/* One end of a connection: IPv4 in the first 4 bytes of addr. */
struct tcp_end {
	__u8 addr[16];
	__u16 port;		/* host order */
	__u16 __pad[3];
};

/*
 * The connection table's value, keyed by the struct sock's address (tcp.bpf.c says why).
 * Made when the connection is created (SYN_SENT, SYN_RECV), its owner set in the
 * connecting task (SYN_SENT) or at accept's return, removed at TCP_CLOSE.
 */
struct tcp_conn {
	struct ks_owner owner;	/* valid with TCP_F_OWNER */
	__u64 start_ns;		/* created, ns CLOCK_MONOTONIC */
	__u64 base_acked;	/* tcp_sock.bytes_acked at ESTABLISHED (a SYN may be in it) */
	__u64 base_rcvd;	/* tcp_sock.bytes_received at ESTABLISHED */
	struct tcp_end local, remote;
	__u16 family;		/* TCP_AF_INET, TCP_AF_INET6 */
	__u8 side;		/* TCP_SIDE_* */
	__u8 __pad;
	__u32 flags;		/* TCP_F_* */
};

/*
 * TCP_EV_CLOSE: a session closed (its state became TCP_CLOSE). The header carries the
 * owner (KS_HDR_F_OWNER), or no task (KS_HDR_F_NOTASK) when none is known: a connection
 * opened before ksight started, or accepted by nobody before it closed.
 */
struct tcp_close {
	struct ks_hdr hdr;
	__u64 start_ns;		/* created, ns CLOCK_MONOTONIC; 0 with TCP_F_BEFORE */
	__u64 tx_bytes;		/* application bytes the peer acknowledged (no SYN, no FIN) */
	__u64 rx_bytes;		/* application bytes received in order (no SYN, no FIN) */
	struct tcp_end local, remote;
	__u32 retrans;		/* segments retransmitted (tcp_sock.total_retrans) */
	__u32 srtt_us;		/* smoothed RTT, us (0: never measured) */
	__s32 err;		/* sk_err at close: positive errno (ECONNRESET...), or 0 */
	__u32 flags;		/* TCP_F_* */
	__u16 family;
	__u8 side;		/* TCP_SIDE_* */
	__u8 oldstate;		/* the state it closed from (TCP_ESTABLISHED = 1, ...) */
	__u32 __pad;
};

/*
 * TCP_EV_CONNECT: a connect ended: established (err 0) or failed (its error), about the
 * task that connected. TCP_EV_ACCEPT: accept() returned a connection, about the task
 * that accepted it.
 */
struct tcp_open_ev {
	struct ks_hdr hdr;
	__u64 lat_ns;		/* connect: SYN sent to established or failure; accept: the
				 * connection's creation (SYN_RECV) to accept's return */
	struct tcp_end local, remote;
	__s32 err;		/* connect: positive errno when it failed, else 0 */
	__u16 family;
	__u8 state;		/* connect: TCP_ESTABLISHED (1) when it connected, else the
				 * state it closed from (SYN_SENT); accept: ESTABLISHED */
	__u8 __pad;
};

/* tcpconnect -L: connect latency, SYN sent to established, log2 buckets of us. */
struct tcp_lat_hist {
	__u64 slots[TCP_LAT_SLOTS];
	__u64 count;
	__u64 sum;		/* ns */
};

/* -P: a process's closed sessions, counted in the kernel. */
struct tcp_proc_key {
	__u32 pid;		/* 0: sessions whose owner is unknown */
	__u32 __pad;
};

struct tcp_proc_val {
	__u64 cgroup;
	__u64 conns;		/* sessions closed */
	__u64 tx_bytes, rx_bytes;
	__u64 dur_ns;		/* sum of their durations */
	__u64 retrans;
	char comm[TASK_COMM_LEN];
};

#endif
