/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp: the calls that move datagrams, at their return, run by the syscall dispatcher or by
 * udp's fexit programs (udp.bpf.c). The task filters were applied before, so the current
 * task is the one to count: the sender, or the receiver, exactly (no /proc look-up after
 * the fact).
 *
 * The socket comes from the fd in the kernel (the task's fd table), and only UDP sockets
 * (SOCK_DGRAM, IPPROTO_UDP or UDPLITE, IPv4 or IPv6) are counted. The remote end is the
 * address the call carried (sendto's dest_addr, msg_name, what recvfrom/recvmsg wrote
 * back), else the connected peer of the socket. Bytes are what the call returned: a
 * datagram's payload (a recv into a smaller buffer without MSG_TRUNC counts what it got).
 * MSG_PEEK receives are not counted (the datagram stays queued for the next call), nor
 * MSG_ERRQUEUE ones (an error about a datagram sent, not one received), nor a read() or
 * readv() of nothing (a socket's read returns 0 at once then, and takes no datagram).
 */
#ifndef KSIGHT_UDP_SYS_BPF_H
#define KSIGHT_UDP_SYS_BPF_H

#include "syscalls.bpf.h"
#include "task_fd.bpf.h"
#include "uabi.bpf.h"
#include "udp.h"
#include <bpf/bpf_endian.h>

#define UDP_S_IFMT 0170000
#define UDP_S_IFSOCK 0140000
#define UDP_SOCK_DGRAM 2
#define UDP_IPPROTO_UDP 17
#define UDP_IPPROTO_UDPLITE 136
#define UDP_SOCK_BINDPORT_LOCK 8	/* sk_userlocks: bind() chose the port */
#define UDP_MSG_PEEK 2
#define UDP_MSG_ERRQUEUE 0x2000
#define UDP_RECV_SKIP (UDP_MSG_PEEK | UDP_MSG_ERRQUEUE)

const volatile __u16 udp_port = 0;	/* --port: local or remote port, 0 = any */
const volatile bool udp_per_proc = false;	/* -P: one row per process */
const volatile bool udp_count = true;	/* count datagrams in udp_flows */
const volatile bool udp_dns = false;	/* --dns: stream port-53 datagrams */
/* the agent: only the answers its processes receive (from port 53), for the names of the
 * addresses they connect to (core/dnsnames.h) */
const volatile bool udp_dns_resp = false;
const volatile __u16 udp_family = 0;	/* -4/-6: the remote end's family, 0 = any */
const volatile __u16 udp_addr_family = 0;	/* --addr: its family, 0 = no --addr */
/* --addr: the remote end's or the socket's own, as network-order bytes; u64s so that it is
 * read in two loads, each volatile (a plain copy of a const global is folded to its
 * initializer, zeros, by the compiler) */
const volatile __u64 udp_addr[2] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UDP_FLOWS);
	__type(key, struct udp_flow_key);
	__type(value, struct udp_flow_val);
} udp_flows SEC(".maps");

/* struct sockaddr_in / sockaddr_in6 as user space lays them out. */
struct udp_sa {
	__u16 family;
	__u16 port;		/* network order */
	union {
		__u8 v4[4];
		struct {
			__u32 flowinfo;
			__u8 v6[16];
			__u32 scope;
		};
	};
};

/* One datagram: the socket's side and the remote end. */
struct udp_dgram {
	struct sock *sk;
	__u64 buf;		/* user buffer of its first bytes (DNS), 0: none */
	__u64 buflen;		/* bytes there */
	__u64 len;		/* the datagram's bytes (what the call returned) */
	__u8 raddr[16];
	__u16 family;		/* of the remote end; 0: not known */
	__u16 rport;
	__u16 lport;
	bool tx;
};

/* The UDP socket open on @fd in the current task, or NULL (no socket, not UDP). */
static __always_inline struct sock *udp_sock_of(int fd)
{
	struct file *f = ks_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & UDP_S_IFMT) != UDP_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != UDP_SOCK_DGRAM)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	switch (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol)) {
	case UDP_IPPROTO_UDP:
	case UDP_IPPROTO_UDPLITE:
		break;
	default:
		return NULL;	/* ICMP echo sockets are SOCK_DGRAM too */
	}
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == UDP_AF_INET || family == UDP_AF_INET6 ? sk : NULL;
}

/* ::ffff:a.b.c.d (a v6 socket talking IPv4) as a.b.c.d, so one peer is one row. */
static __always_inline void udp_unmap(struct udp_dgram *d)
{
	const __u32 *w = (const __u32 *)d->raddr;

	if (d->family != UDP_AF_INET6 || w[0] || w[1] || w[2] != bpf_htonl(0xffff))
		return;
	__builtin_memcpy(d->raddr, &d->raddr[12], 4);
	__builtin_memset(&d->raddr[4], 0, 12);
	d->family = UDP_AF_INET;
}

/* The remote end of a connected socket; family 0 when it is not connected. */
static __always_inline void udp_peer_sock(struct udp_dgram *d)
{
	struct sock *sk = d->sk;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	d->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!d->rport)
		return;
	d->family = family;
	if (family == UDP_AF_INET)
		bpf_core_read(d->raddr, 4, &sk->__sk_common.skc_daddr);
	else
		bpf_core_read(d->raddr, 16, &sk->__sk_common.skc_v6_daddr);
}

/* The remote end from a user sockaddr at @ua (0: none), else the connected peer. A
 * sockaddr_in is read first: one at the end of a mapping must not fail as a v6 one. */
static __always_inline void udp_peer(struct udp_dgram *d, __u64 ua)
{
	struct udp_sa sa;

	if (ua && !bpf_probe_read_user(&sa, 8, (const void *)ua)) {
		if (sa.family == UDP_AF_INET) {
			d->family = UDP_AF_INET;
			d->rport = bpf_ntohs(sa.port);
			__builtin_memcpy(d->raddr, sa.v4, 4);
			return;
		}
		if (sa.family == UDP_AF_INET6 &&
		    !bpf_probe_read_user(&sa, sizeof(sa) - 4, (const void *)ua)) {
			d->family = UDP_AF_INET6;
			d->rport = bpf_ntohs(sa.port);
			__builtin_memcpy(d->raddr, sa.v6, 16);
			udp_unmap(d);
			return;
		}
	}
	udp_peer_sock(d);
	udp_unmap(d);
}

/* Whether @a is --addr's address. Without a branch per byte: this runs in each message
 * of the sendmmsg/recvmmsg loop, where every branch multiplies the verifier's paths. */
static __always_inline bool udp_addr_is(const __u8 *a)
{
	__u64 x[2], y[2] = { udp_addr[0], udp_addr[1] };

	__builtin_memcpy(x, a, 16);
	if (udp_addr_family == UDP_AF_INET)
		return (__u32)x[0] == (__u32)y[0];
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
}

/* --addr: the remote end's address, or the address the socket is bound to. */
static __always_inline bool udp_addr_wanted(const struct udp_dgram *d)
{
	struct sock *sk = d->sk;
	__u8 local[16] = {};
	bool remote = d->family == udp_addr_family && udp_addr_is(d->raddr);

	/* a socket of the other family reads as no address (zeros) */
	if (udp_addr_family == UDP_AF_INET)
		bpf_core_read(local, 4, &sk->__sk_common.skc_rcv_saddr);
	else
		bpf_core_read(local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	return remote | (BPF_CORE_READ(sk, __sk_common.skc_family) == udp_addr_family &&
			 udp_addr_is(local));
}

/* Add @n to @type's losses on this CPU (ks_lost adds one). */
static __always_inline void udp_lost_n(__u32 type, __u64 n)
{
	struct ks_cpu_stats *st = ks_stats_get();

	if (st)
		__sync_fetch_and_add(&st->lost[type & (KS_EV_MAX - 1)], n);
}

static __always_inline void udp_count_dgram(const struct udp_dgram *d, __u64 pid_tgid)
{
	struct udp_flow_key k = { .pid = pid_tgid >> 32 };
	struct udp_flow_val *v;

	if (!udp_per_proc) {
		k.lport = d->lport;
		k.rport = d->rport;
		k.family = d->family;
		__builtin_memcpy(k.raddr, d->raddr, 16);
	}
	v = bpf_map_lookup_elem(&udp_flows, &k);
	if (!v) {
		struct udp_flow_val zero = { .cgroup = bpf_get_current_cgroup_id() };
		struct sock *sk = d->sk;	/* not in the CO-RE access: d is ours */

		zero.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);

		if (!d->tx)
			zero.flags |= UDP_FLOW_F_RX_FIRST;
		if (BPF_CORE_READ_BITFIELD_PROBED(d->sk, sk_userlocks) & UDP_SOCK_BINDPORT_LOCK)
			zero.flags |= UDP_FLOW_F_BOUND;
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&udp_flows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&udp_flows, &k);
		if (!v) {
			ks_lost(UDP_EV_FLOW);
			return;
		}
	}
	/* atomic: a thread of the same process may count on another CPU */
	if (d->tx) {
		__sync_fetch_and_add(&v->tx_dgrams, 1);
		__sync_fetch_and_add(&v->tx_bytes, d->len);
	} else {
		__sync_fetch_and_add(&v->rx_dgrams, 1);
		__sync_fetch_and_add(&v->rx_bytes, d->len);
	}
}

/* --dns: a datagram to or from port 53, its first bytes streamed. */
static __always_inline void udp_dns_out(const struct udp_dgram *d, __u64 pid_tgid)
{
	struct udp_dns_ev *e;
	__u64 n;

	if (d->lport != UDP_DNS_PORT && d->rport != UDP_DNS_PORT)
		return;
	if (udp_dns_resp && (d->tx || d->rport != UDP_DNS_PORT))
		return;
	e = ks_reserve(UDP_EV_DNS, sizeof(*e), pid_tgid);
	if (!e)
		return;
	e->sock = (__u64)d->sk;
	__builtin_memcpy(e->raddr, d->raddr, 16);
	e->family = d->family;
	e->lport = d->lport;
	e->rport = d->rport;
	e->flags = d->tx ? UDP_DNS_F_TX : 0;
	e->len = d->len;
	n = d->len < d->buflen ? d->len : d->buflen;
	if (n > UDP_DNS_CAP)
		n = UDP_DNS_CAP;
	/* the value is kept; the verifier, tracking another register after the clamp, is
	 * shown a bound again right here */
	n = ks_mask(n, 1023);
	if (n > UDP_DNS_CAP)
		n = UDP_DNS_CAP;
	if (!d->buf)
		n = 0;
	if (n && bpf_probe_read_user(e->data, n, (const void *)d->buf)) {
		e->flags |= UDP_DNS_F_FAULT;
		n = 0;
	}
	e->cap = n;
	ks_submit(e);
}

#define UDP_DGRAM_TX (1ULL << 63)	/* udp_dgram_g's @txlen: sent, not received */

/*
 * One datagram of @txlen's bytes (UDP_DGRAM_TX set: sent) on socket @sock, to or from the
 * address at @ua (0: the peer), its first bytes at @buf (@buflen of them). A global
 * function with scalar arguments: the verifier checks it once, not at each of its six
 * call sites (one in sendmmsg's loop of UDP_MMSG_MAX): 283k instructions processed before,
 * the agent's slowest start (bench/RESULTS.md 41). Returns 0.
 */
__noinline int udp_dgram_g(__u64 sock, __u64 txlen, __u64 ua, __u64 buf, __u64 buflen)
{
	struct sock *sk = (struct sock *)sock;
	bool tx = txlen & UDP_DGRAM_TX;
	__u64 len = txlen & ~UDP_DGRAM_TX, pid_tgid = bpf_get_current_pid_tgid();
	struct udp_dgram d = { .sk = sk, .tx = tx, .len = len, .buf = buf, .buflen = buflen };

	d.lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	udp_peer(&d, ua);
	if (udp_port && d.lport != udp_port && d.rport != udp_port)
		return 0;
	if (udp_family && d.family != udp_family)
		return 0;
	if (udp_addr_family && !udp_addr_wanted(&d))
		return 0;
	if (udp_count)
		udp_count_dgram(&d, pid_tgid);
	if (udp_dns)
		udp_dns_out(&d, pid_tgid);
	return 0;
}

static __always_inline void udp_dgram(struct sock *sk, bool tx, __u64 len, __u64 ua,
				      __u64 buf, __u64 buflen)
{
	udp_dgram_g((__u64)sk, len | (tx ? UDP_DGRAM_TX : 0), ua, buf, buflen);
}

/* The first iovec of @iov (user memory): where a datagram's first bytes are. */
static __always_inline void udp_first_iov(__u64 iov, __u64 cnt, __u64 *buf, __u64 *len)
{
	struct ks_uiovec v;

	*buf = *len = 0;
	if (!udp_dns || !cnt || bpf_probe_read_user(&v, sizeof(v), (const void *)iov))
		return;
	*buf = v.base;
	*len = v.len;
}

/* @iov: find the first bytes (for DNS): the agent (udp_dns_resp) needs them only for a
 * single message received (recvmmsg's 32 reads would cost every start-up's verifier more
 * than the few resolvers that take answers that way are worth: not decoded there) */
static __always_inline void udp_msg(struct sock *sk, bool tx, __u64 len,
				    const struct ks_umsghdr *m, bool iov)
{
	__u64 buf = 0, buflen = 0;

	if (iov)
		udp_first_iov(m->iov, m->iovlen, &buf, &buflen);
	udp_dgram(sk, tx, len, m->namelen ? m->name : 0, buf, buflen);
}

/* sendmmsg/recvmmsg: @n messages went through, each with its own length and address. */
static __always_inline void udp_mmsg(struct sock *sk, bool tx, __u64 vec, __u64 n)
{
	for (__u32 i = 0; i < UDP_MMSG_MAX; i++) {
		struct ks_ummsghdr m;

		if (i >= n)
			return;
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)(vec + i * sizeof(m)))) {
			udp_lost_n(UDP_EV_FLOW, n - i);
			return;
		}
		udp_msg(sk, tx, m.len, &m.hdr, !udp_dns_resp);
	}
	if (n > UDP_MMSG_MAX)
		udp_lost_n(UDP_EV_FLOW, n - UDP_MMSG_MAX);
}

static __always_inline void udp_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					 __u64 pid_tgid)
{
	const __u64 *a = c->args;
	struct ks_umsghdr m;
	struct sock *sk;
	__u64 buf, len;
	bool tx;

	if (ret < 0)
		return;
	switch (c->id) {
	case __NR_write:
	case __NR_writev:
	case __NR_sendto:
	case __NR_sendmsg:
	case __NR_sendmmsg:
		tx = true;
		break;
	case __NR_recvfrom:
	case __NR_recvmmsg:
		if (a[3] & UDP_RECV_SKIP)
			return;
		tx = false;
		break;
	case __NR_recvmsg:
		if (a[2] & UDP_RECV_SKIP)
			return;
		tx = false;
		break;
	default:	/* read, readv: a count of 0 reads nothing */
		if (!a[2])
			return;
		tx = false;
	}
	sk = udp_sock_of(a[0]);
	if (!sk)
		return;
	switch (c->id) {
	case __NR_read:
	case __NR_write:
		udp_dgram(sk, tx, ret, 0, a[1], a[2]);
		return;
	case __NR_readv:
	case __NR_writev:
		udp_first_iov(a[1], a[2], &buf, &len);
		udp_dgram(sk, tx, ret, 0, buf, len);
		return;
	case __NR_sendto:
	case __NR_recvfrom:
		udp_dgram(sk, tx, ret, a[4], a[1], a[2]);
		return;
	case __NR_sendmsg:
	case __NR_recvmsg:
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)a[1])) {
			ks_lost(UDP_EV_FLOW);
			return;
		}
		udp_msg(sk, tx, ret, &m, !(udp_dns_resp && tx));
		return;
	case __NR_sendmmsg:
	case __NR_recvmmsg:
		udp_mmsg(sk, tx, a[1], ret);
		return;
	}
}

#endif
