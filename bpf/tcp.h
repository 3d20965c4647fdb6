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
#define TCP_EV_STATE KS_EV(KS_MOD_tcp, 6)	/* tcpstates: a socket changed state */
#define TCP_EV_RETR KS_EV(KS_MOD_tcp, 7)	/* tcpretrans: a retransmit, a reset sent or received */
#define TCP_EV_RETR_CONN KS_EV(KS_MOD_tcp, 8)	/* tcpretrans -c: counted per connection */
#define TCP_EV_RTT KS_EV(KS_MOD_tcp, 9)	/* tcprtt: RTT samples counted in histograms */

/* What the module's command does (the tcp object serves three). */
#define TCP_MODE_LIFE 0		/* tcplife: sessions at close */
#define TCP_MODE_CONNECT 1	/* tcpconnect: active opens, connect latency */
#define TCP_MODE_ACCEPT 2	/* tcpaccept: passive opens as accept() returns them */
#define TCP_MODE_STATES 3	/* tcpstates: every state change, the time in the previous */
#define TCP_MODE_RETRANS 4	/* tcpretrans: retransmits and resets per connection */
#define TCP_MODE_RTT 5		/* tcprtt: smoothed RTT histograms from tcp:tcp_probe */

/* tcprtt: what one histogram gathers (tcp_rtt_by) */
#define TCP_RTT_BY_RADDR 0	/* one per remote address */
#define TCP_RTT_BY_LPORT 1	/* one per local port */
#define TCP_RTT_BY_ALL 2	/* one for everything */

#define TCP_LAT_SLOTS 32

#define TCP_CONNS 65536		/* connections tracked at once */
#define TCP_PROCS 4096		/* -P: processes counted at once */
#define TCP_LATE_TIDS 4096	/* threads waiting in accept() at start, watched at once */
#define TCP_RETR_CONNS 8192	/* tcpretrans -c: connections counted at once */
#define TCP_RTT_KEYS 4096	/* tcprtt: histograms at once */
#define TCP_RTT_SLOTS 32
#define TCP_NSTATES 16		/* tcp_counts.states: the kernel's TCP states are 1..12 */

/* tcp_conn.side, tcp_close.side */
#define TCP_SIDE_NONE 0		/* opened before ksight started: not known */
#define TCP_SIDE_CLIENT 1	/* this end connected (SYN_SENT) */
#define TCP_SIDE_SERVER 2	/* this end was accepted from a listener (SYN_RECV) */
#define TCP_SIDE_LISTENER 3	/* tcpstates: a listening socket */

/* tcp_conn.flags, tcp_close.flags */
#define TCP_F_OWNER 0x1		/* the owner is known (the connecting or accepting task) */
#define TCP_F_ESTAB 0x2		/* reached ESTABLISHED: the byte baselines are set */
#define TCP_F_FIN_SENT 0x4	/* this end sent a FIN (entered FIN_WAIT1 or LAST_ACK) */
#define TCP_F_FIN_RCVD 0x8	/* the peer's FIN was taken in (SOCK_DONE) */
#define TCP_F_FIN_ACKED 0x10	/* this end's FIN was acknowledged */
#define TCP_F_BEFORE 0x20	/* opened before ksight started: no start; no owner or
				 * baselines either unless TCP_F_SEEDED */
#define TCP_F_DEFER 0x40	/* tcpstates: the change into SYN_SENT or SYN_RECV is reported at
				 * the next one, when the ends are complete (tcp.bpf.c) */
#define TCP_F_SEEDED 0x80	/* opened before ksight: found by the start-up scan
				 * (tcp_seed.bpf.h), its owner known, bytes counted from then */

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
	__u8 defer_old;		/* TCP_F_DEFER: the state the deferred change left */
	__u32 flags;		/* TCP_F_* */
	__u64 state_ns;		/* tcpstates: the last change; the other commands: when it
				 * became ESTABLISHED (0: not yet); ns CLOCK_MONOTONIC */
	__u32 retr_seen;	/* tcpretrans: tcp_sock.total_retrans at the last retransmission
				 * traced (tcp_retrans.bpf.h), valid when retr_known */
	__u32 retr_known;
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
	__u32 connect_us;	/* created (SYN_SENT, SYN_RECV) to ESTABLISHED, us: the client's
				 * connect latency, the server's handshake; valid with
				 * TCP_F_ESTAB and without TCP_F_BEFORE */
	__u32 netns;		/* its network namespace's inode (0: not known): where
				 * user space asks conntrack about DNAT (tcp_nat.c) */
	__u32 __pad2;
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
	__u32 netns;		/* its network namespace's inode: where tcpconnect --dnat
				 * asks conntrack about DNAT (tcp_nat.c) */
	__u32 __pad2;
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

/* tcp_state_ev.flags */
#define TCP_SF_FIRST 0x1	/* the first change ksight saw of this socket: the time in the
				 * old state is not known (in_old_ns is 0) */

/*
 * TCP_EV_STATE: a socket changed state (tcpstates), about its owner (KS_HDR_F_OWNER) or
 * no task when none is known. hdr.ts is when the change happened: a deferred change
 * (TCP_F_DEFER) is written at the next one with its own time.
 */
struct tcp_state_ev {
	struct ks_hdr hdr;
	__u64 in_old_ns;	/* ns spent in oldstate (0 with TCP_SF_FIRST) */
	struct tcp_end local, remote;
	__u16 family;
	__u8 oldstate, newstate;	/* the kernel's numbers: TCP_ESTABLISHED = 1, ... */
	__u8 side;		/* TCP_SIDE_*: NONE for a socket opened before ksight */
	__u8 flags;		/* TCP_SF_* */
	__u16 __pad;
};

/* tcp_retr_ev.kind */
#define TCP_RK_RETRANS 1	/* tcp:tcp_retransmit_skb */
#define TCP_RK_RST_SENT 2	/* tcp:tcp_send_reset */
#define TCP_RK_RST_RCVD 3	/* tcp:tcp_receive_reset */

/*
 * TCP_EV_RETR: a retransmission (its segments), a reset sent or one received, about the
 * connection's owner or no task. A reset sent with no full socket (a closed port, a
 * time-wait or request socket) takes its ends from the packet it answers.
 */
struct tcp_retr_ev {
	struct ks_hdr hdr;
	struct tcp_end local, remote;
	__u32 segs;		/* retransmit: segments the kernel counted for it */
	__s32 err;		/* retransmit: -errno when it failed (only kernels whose
				 * tracepoint has an err argument trace failures), else 0 */
	__u16 family;
	__u8 kind;		/* TCP_RK_* */
	__u8 state;		/* the socket's state; 0: no socket */
	__u8 side;		/* TCP_SIDE_* of the connection, NONE if not in the table */
	__u8 __pad[3];
};

/* tcpretrans -c: one connection's counts, kept in the kernel. */
struct tcp_retr_key {
	struct tcp_end local, remote;
	__u16 family;
	__u16 __pad[3];
};

struct tcp_retr_val {
	struct ks_owner owner;	/* pid 0: not known */
	__u64 segs;		/* segments retransmitted (not failed ones) */
	__u64 events;		/* retransmissions (tcp_retransmit_skb calls) that sent */
	__u64 failed;		/* segments whose retransmission failed (not in segs) */
	__u64 rst_sent, rst_rcvd;
	__u8 state;		/* the last state seen, 0: no socket */
	__u8 side;
	__u8 __pad[6];
};

/* tcprtt: what a histogram is of. By remote address: family and addr; by local port:
 * port; for everything: all zero. */
struct tcp_rtt_key {
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__u16 port;		/* host order */
	__u16 family;		/* TCP_AF_INET, TCP_AF_INET6 */
	__u32 __pad;
};

/* tcprtt: the smoothed RTT (tcp_sock.srtt_us >> 3) at each tcp:tcp_probe, log2 buckets
 * of us, exactly what the tracepoint's srtt field holds. */
struct tcp_rtt_hist {
	__u64 slots[TCP_RTT_SLOTS];
	__u64 count;
	__u64 sum;		/* us */
};

/* The agent's counts (tcp_counts, per CPU), from the hooks tcplife already pays for. */
struct tcp_counts {
	__u64 states[TCP_NSTATES];	/* changes, by the state entered */
	__u64 retrans_segs;		/* segments retransmitted */
	__u64 retrans_failed;		/* segments whose retransmission failed */
	__u64 rst_sent, rst_rcvd;
	__u64 children_discarded;	/* tcp_child_discarded(): made and closed in a handshake */
};

#endif
