// SPDX-License-Identifier: GPL-2.0
/*
 * tcp module: one connection table, built in the kernel as each TCP connection is
 * created, and tcplife's record of each session when it closes.
 *
 * Hooks: sock:inet_sock_set_state (tp_btf, raw_tp or the classic tracepoint) sees every
 * connection's creation (SYN_SENT, SYN_RECV), its establishment and its close; no kprobe.
 * A tp_btf or raw_tp program has a backup beside it for the runs the kernel skips
 * (tcp_backup.bpf.h).
 * A connecting task is current at SYN_SENT (connect() runs it), so its connections get
 * their owner there. An accepted connection is created in softirq (the child socket's
 * SYN_RECV, then SYN_RECV -> ESTABLISHED), where the current task is whatever was
 * interrupted: it is entered without an owner, and the owner is the task that accept()
 * hands it to, set at accept's return (fexit on inet_csk_accept where BPF trampolines
 * work, else the shared syscall dispatcher's exit of accept/accept4; the calls already
 * waiting when fexit was attached: tcp_late.bpf.h). A session closed with no owner known
 * is reported about no task (KS_HDR_F_NOTASK), never about whichever task the close
 * interrupted.
 *
 * The table is keyed by the struct sock's address, not by the socket cookie: the cookie
 * helper is offered to BPF_PROG_TYPE_TRACING programs only (tp_btf, fentry), and only on
 * a pointer the verifier knows as a socket, while the raw_tp and classic tracepoint
 * alternatives, and the accept exit (which reaches the socket through the fd table by
 * probe reads), have no such pointer: one key must serve every program. The address is
 * unique while the socket lives, and the entry lives from creation to TCP_CLOSE, which
 * the kernel reaches before it frees the socket; a new socket at a reused address
 * overwrites whatever a missed close left.
 *
 * Bytes: tcp_sock.bytes_acked and bytes_received count sequence space, so the SYN (in the
 * client's bytes_acked, when its SYN is acknowledged) and a FIN (ours once acknowledged,
 * the peer's once taken in) are in them besides the application's bytes. Both are read at
 * ESTABLISHED as a baseline, which takes the SYN out whatever the kernel counted for it,
 * and a FIN is taken out at close when the socket says it is in: ours when our FIN was
 * sent (the state we close from is past FIN_WAIT1 or LAST_ACK) and snd_una reached
 * write_seq (the FIN is the last sequence number), the peer's when tcp_fin() ran
 * (SOCK_DONE, which TCP sets nowhere else).
 *
 * A session's entry and record (open, established, close): tcp_life.bpf.h. The same
 * object serves tcpconnect (tcp_mode CONNECT: connects as they are established,
 * or a histogram of their latency with -L, and those that failed with their error at
 * close), tcpaccept (ACCEPT: each accepted connection as accept() hands it over, about
 * the accepting task), tcpstates (STATES: every state change, tcp_states.bpf.h) and
 * tcpretrans (RETRANS: retransmits and resets, tcp_retrans.bpf.h) and tcprtt (RTT: RTT
 * histograms, tcp_rtt.bpf.h; the table only for the owner filters): the table is the
 * same, only what is reported differs.
 */
#include "syscalls.bpf.h"
#include "task_fd.bpf.h"
#include "tcp.h"
#include <bpf/bpf_endian.h>

#define TCP_IPPROTO_TCP 6

const volatile __u16 tcp_port = 0;		/* --port: either end's port, 0 = any */
const volatile __u16 tcp_family = 0;		/* -4/-6: TCP_AF_INET(6), 0 = both */
const volatile __u16 tcp_addr_family = 0;	/* --addr: the address's family, 0 = none */
const volatile __u8 tcp_addr[16] = {};		/* --addr: either end's address */
const volatile bool tcp_per_proc = false;	/* -P: count per process, stream nothing */
const volatile __u32 tcp_accept_ret = 2;	/* fexit inet_csk_accept: the return's index */
const volatile __u32 tcp_mode = TCP_MODE_LIFE;	/* which command: TCP_MODE_* */
const volatile bool tcp_lat_hist = false;	/* tcpconnect -L: a histogram, no stream */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_CONNS);
	__type(key, __u64);	/* the struct sock's address */
	__type(value, struct tcp_conn);
} tcp_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_PROCS);
	__type(key, struct tcp_proc_key);
	__type(value, struct tcp_proc_val);
} tcp_procs SEC(".maps");

/* tcpconnect -L: the one histogram of connect latency. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_lat_hist);
} tcp_lats SEC(".maps");

/* Some task filter is set: a session must have an owner that passed it. */
static __always_inline bool tcp_owner_filtered(void)
{
	return ks_cfg.targ_tgid || ks_cfg.targ_tid || ks_cfg.filter_uid || ks_cfg.filter_comm ||
	       ks_cfg.filter_cgroup;
}

static __always_inline void tcp_owner_current(struct ks_owner *o, __u64 pid_tgid)
{
	o->pid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/*
 * An entry's owner written while other CPUs may read it (accept() returns on one CPU
 * while the peer's FIN closes the session in softirq on another): everything but the
 * pid first, the pid last, so that a reader that sees the pid (tcp_owner_of) sees the
 * rest. Ordered for the compiler here; x86 keeps stores in order and loads in order.
 */
static __always_inline void tcp_owner_publish(struct ks_owner *dst, __u64 pid_tgid)
{
	struct ks_owner o;

	tcp_owner_current(&o, pid_tgid);
	dst->tid = o.tid;
	dst->uid = o.uid;
	dst->cgroup = o.cgroup;
	__builtin_memcpy(dst->comm, o.comm, sizeof(dst->comm));
	asm volatile("" ::: "memory");
	dst->pid = o.pid;
}

/* @c's owner if known, read after its pid (tcp_owner_publish). */
static __always_inline const struct ks_owner *tcp_owner_of(const struct tcp_conn *c)
{
	if (!c || !*(volatile const __u32 *)&c->owner.pid)
		return NULL;
	asm volatile("" ::: "memory");
	return &c->owner;
}

/* Both ends of @sk. The local port is inet_sport: inet_num is 0 once the port is put
 * back, which a close does before the tracepoint. */
static __always_inline void tcp_read_ends(struct sock *sk, __u16 family, struct tcp_end *l,
					  struct tcp_end *r)
{
	l->port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	r->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == TCP_AF_INET) {
		bpf_core_read(l->addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(r->addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(l->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(r->addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline bool tcp_addr_is(const struct tcp_end *e)
{
	__u32 n = tcp_addr_family == TCP_AF_INET ? 4 : 16;

	for (__u32 i = 0; i < 16; i++)
		if (i < n && e->addr[i] != tcp_addr[i])
			return false;
	return true;
}

/* --port, --addr: whether a connection between @l and @r is wanted. */
static __always_inline bool tcp_ends_wanted(__u16 family, const struct tcp_end *l,
					    const struct tcp_end *r)
{
	if (tcp_port && l->port != tcp_port && r->port != tcp_port)
		return false;
	if (tcp_addr_family &&
	    (family != tcp_addr_family || (!tcp_addr_is(l) && !tcp_addr_is(r))))
		return false;
	return true;
}

#include "tcp_life.bpf.h"
#include "tcp_states.bpf.h"
#include "tcp_retrans.bpf.h"
#include "tcp_rtt.bpf.h"
#include "tcp_seed.bpf.h"
#include "tcp_backup.bpf.h"

/* The agent: state changes by the state entered. */
static __always_inline void tcp_count_state(int new)
{
	struct tcp_counts *n = tcp_counts_get();

	if (n)
		__sync_fetch_and_add(&n->states[ks_mask(new, 15)], 1);	/* TCP_NSTATES - 1 */
}

/*
 * A child the kernel made and threw away in the handshake, not a connection: two CPUs
 * each cloned one from the same request (the client's ACK and its first data, say), and
 * the one that lost the race into the established table is closed from SYN_RECV where it
 * was made; or the child's route back to the client failed (test_tcp_discard.py makes
 * that happen). Any other child leaves SYN_RECV for ESTABLISHED in that same softirq, under
 * its lock, before a packet can reach it, so a child closing from SYN_RECV never was a
 * connection; except a Fast Open child, which lives in SYN_RECV until the handshake's
 * ACK (its request, fastopen_rsk, is held until then) and may be reset there.
 */
static __always_inline bool tcp_child_discarded(struct sock *sk, int old, int new)
{
	return old == TCP_SYN_RECV && new == TCP_CLOSE &&
	       !BPF_CORE_READ((struct tcp_sock *)sk, fastopen_rsk);
}

/* Forget a discarded child (no session, no state changes), counted for the exit line. */
static __always_inline void tcp_discard(__u64 key)
{
	struct tcp_counts *n = tcp_counts_get();

	if (n)
		__sync_fetch_and_add(&n->children_discarded, 1);
	bpf_map_delete_elem(&tcp_conns, &key);
}

static __always_inline int tcp_state(struct sock *sk, int old, int new)
{
	__u64 key = (__u64)sk;
	__u16 family;

	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != TCP_IPPROTO_TCP)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != TCP_AF_INET && family != TCP_AF_INET6)
		return 0;
	if (tcp_family && family != tcp_family)
		return 0;
	if (tcp_count)
		tcp_count_state(new);
	if (tcp_child_discarded(sk, old, new)) {
		tcp_discard(key);
		return 0;
	}
	if (tcp_mode == TCP_MODE_STATES) {
		tcp_state_change(sk, key, family, old, new);
		return 0;
	}
	switch (new) {
	case TCP_SYN_SENT:
		tcp_open(sk, key, family, TCP_SIDE_CLIENT);
		break;
	case TCP_SYN_RECV:
		tcp_open(sk, key, family, TCP_SIDE_SERVER);
		break;
	case TCP_ESTABLISHED:
		tcp_established(sk, key);
		break;
	case TCP_CLOSE:
		if (tcp_mode == TCP_MODE_LIFE)
			tcp_closed(sk, key, family, old);
		else
			tcp_closed_open(sk, key, family, old);
		break;
	}
	return 0;
}

/* The state hook's main program, in tcp_backup.bpf.h's terms. */
static __always_inline int tcp_state_main(struct sock *sk, int old, int new)
{
	__u32 *busy = tcp_main_enter(TCP_HOOK_STATE);

	tcp_state(sk, old, new);
	tcp_main_leave(busy);
	return 0;
}

static __always_inline int tcp_state_backup(struct sock *sk, int old, int new)
{
	if (!tcp_backup_wanted(TCP_HOOK_STATE))
		return 0;
	return tcp_state(sk, old, new);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp__state_btf, struct sock *sk, int old, int new)
{
	return tcp_state_main(sk, old, new);
}

/* Attached after tcp__state_btf: its backup (tcp_backup.bpf.h). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp__backup_btf, struct sock *sk, int old, int new)
{
	return tcp_state_backup(sk, old, new);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp__state_raw, struct sock *sk, int old, int new)
{
	return tcp_state_main(sk, old, new);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp__backup_raw, struct sock *sk, int old, int new)
{
	return tcp_state_backup(sk, old, new);
}

SEC("tp/sock/inet_sock_set_state")
int tcp__state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != TCP_IPPROTO_TCP)
		return 0;
	return tcp_state((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate);
}

/* An accepted connection's owner: the task accept() handed it to (filters passed). */
static __always_inline void tcp_set_owner(struct sock *sk, __u64 pid_tgid)
{
	__u64 key = (__u64)sk;
	struct tcp_conn *c;

	if (!sk)
		return;
	c = bpf_map_lookup_elem(&tcp_conns, &key);
	if (!c || c->side != TCP_SIDE_SERVER || c->owner.pid)
		return;
	tcp_owner_publish(&c->owner, pid_tgid);
	if (tcp_mode == TCP_MODE_ACCEPT)
		tcp_open_out(TCP_EV_ACCEPT, sk, c, &c->local, &c->remote, 0, TCP_ESTABLISHED,
			     &c->owner);
}

/* The dispatcher's exit of accept/accept4: the socket behind the returned fd. Only a
 * socket in the table is touched, so a file that is no socket (an fd closed and reused by
 * another thread meanwhile) changes nothing. */
static __always_inline void tcp_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					 __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct socket *sock;
	struct file *f;

	if (ret < 0)
		return;
	f = ks_fd_file(task, ret);
	if (!f)
		return;
	sock = BPF_CORE_READ(f, private_data);
	if (sock)
		tcp_set_owner(BPF_CORE_READ(sock, sk), pid_tgid);
}

KS_SYS_MODULE(tcp)

#include "tcp_late.bpf.h"

/* inet_csk_accept() returns the child socket in the accepting task. It lost its flags,
 * err and kern arguments in 6.10: user space counts them in the kernel's BTF and sets
 * tcp_accept_ret; a constant, so the verifier sees only the access that applies. */
SEC("fexit/inet_csk_accept")
int tcp__accept_fexit(unsigned long long *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sock *sk;

	if (!ks_want(pid_tgid))
		return 0;
	/* one load at a constant offset in each branch, in asm: clang otherwise loads through
	 * an offset it selects, a modified ctx pointer the verifier refuses */
	if (tcp_accept_ret == 4)
		asm volatile("%[sk] = *(u64 *)(%[ctx] + 32)" : [sk] "=r"(sk) : [ctx] "r"(ctx));
	else
		asm volatile("%[sk] = *(u64 *)(%[ctx] + 16)" : [sk] "=r"(sk) : [ctx] "r"(ctx));
	tcp_set_owner(sk, pid_tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
