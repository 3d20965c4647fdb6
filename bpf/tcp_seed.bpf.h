/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcplife's start-up scan, part of bpf/tcp.bpf.c: the TCP connections opened before ksight
 * started enter the connection table with the process that holds them as owner. Never
 * attached to a hook: user space runs it once as an iterator (iter/task_file, every
 * process's open files; threads sharing a file table are walked once), right after the
 * state-change hook is attached, so that a connection made meanwhile is in the table
 * already (BPF_NOEXIST keeps that entry, which knows more).
 *
 * Such an entry is flagged TCP_F_BEFORE | TCP_F_SEEDED: its owner is the first process
 * found holding the socket (a socket inherited across fork() is held by several; the
 * lowest pid, usually the parent, is walked first), its side and start are not known,
 * and its byte baselines are the counters now: the bytes reported at close are those
 * exchanged while ksight watched, the ones before are not known (partial). A connection
 * still connecting (SYN_SENT, SYN_RECV) gets its baselines at ESTABLISHED as usual.
 *
 * A socket is recognised by its inode (S_IFSOCK: sockfs's), which is what sockfd_lookup()
 * relies on too in effect; no bpf_sock_from_file() (5.11+), so 5.8's iterators suffice.
 */
#ifndef KSIGHT_TCP_SEED_BPF_H
#define KSIGHT_TCP_SEED_BPF_H

#define TCP_S_IFMT 00170000
#define TCP_S_IFSOCK 0140000

/* The task filters, for @task rather than the current task (ks_want's). --cgroup is not
 * checked here: the connections of a cgroup-filtered run are not seeded (user space). */
static __always_inline bool tcp_seed_wanted(struct task_struct *task, struct ks_owner *o)
{
	if (o->pid == ks_cfg.self_tgid)
		return false;
	if (ks_cfg.targ_tgid && o->pid != ks_cfg.targ_tgid)
		return false;
	if (ks_cfg.targ_tid && o->tid != ks_cfg.targ_tid)
		return false;
	if (ks_cfg.filter_uid && o->uid != ks_cfg.targ_uid)
		return false;
	if (ks_cfg.filter_comm) {
		__u64 comm[2] = {};

		__builtin_memcpy(comm, o->comm, sizeof(comm));
		if (comm[0] != ks_cfg.targ_comm[0] || comm[1] != ks_cfg.targ_comm[1])
			return false;
	}
	return true;
}

SEC("iter/task_file")
int tcp__seed_iter(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct tcp_conn c = {};
	struct socket *sock;
	struct sock *sk;
	__u64 key;
	int state, err;

	if (!task || !file)
		return 0;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & TCP_S_IFMT) != TCP_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != TCP_IPPROTO_TCP)
		return 0;
	c.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (c.family != TCP_AF_INET && c.family != TCP_AF_INET6)
		return 0;
	if (tcp_family && c.family != tcp_family)
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_LISTEN || state == TCP_CLOSE)
		return 0;
	c.owner.pid = BPF_CORE_READ(task, tgid);
	c.owner.tid = BPF_CORE_READ(task, pid);
	c.owner.uid = BPF_CORE_READ(task, cred, uid.val);
	c.owner.cgroup = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	BPF_CORE_READ_STR_INTO(&c.owner.comm, task, comm);
	if (!tcp_seed_wanted(task, &c.owner))
		return 0;
	c.side = TCP_SIDE_NONE;
	c.flags = TCP_F_OWNER | TCP_F_BEFORE | TCP_F_SEEDED;
	tcp_read_ends(sk, c.family, &c.local, &c.remote);
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		c.base_acked = BPF_CORE_READ((struct tcp_sock *)sk, bytes_acked);
		c.base_rcvd = BPF_CORE_READ((struct tcp_sock *)sk, bytes_received);
		c.flags |= TCP_F_ESTAB;
	}
	key = (__u64)sk;
	/* -EEXIST (17): the state-change hook saw it first; anything else: the table is full */
	err = bpf_map_update_elem(&tcp_conns, &key, &c, BPF_NOEXIST);
	if (err && err != -17)
		ks_lost(TCP_EV_CONN);
	return 0;
}

#endif
