/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accept() calls already waiting when ksight started, part of bpf/tcp.bpf.c. Where
 * the accept hook is fexit on inet_csk_accept, a call that entered the function before
 * the trampoline was attached returns past it: the connection it hands over would have no
 * owner (and with a task filter, no session at all). So user space (tcp_late.c), right
 * after the fexit program is attached, lists the threads waiting in accept() or accept4()
 * on a TCP listener in tcp_late and attaches this program to sys_exit while one of them
 * is listed. A listed thread's next syscall exit is its waiting call's return (a call
 * restarted after a signal enters again, where the fexit sees it), if it is an accept's:
 * a thread listed just as its call returned has some other call's exit next. Every syscall exit of
 * the machine pays one lookup meanwhile; user space detaches the program once every
 * listed thread returned.
 */
#ifndef KSIGHT_TCP_LATE_BPF_H
#define KSIGHT_TCP_LATE_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_LATE_TIDS);
	__type(key, __u32);	/* tid */
	__type(value, __u8);
} tcp_late SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(tcp__accept_late, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;

	long nr;

	if (!bpf_map_lookup_elem(&tcp_late, &tid))
		return 0;
	bpf_map_delete_elem(&tcp_late, &tid);
	/* a thread listed just as its accept returned: this exit is another call's, and its
	 * return no fd of an accepted connection */
	nr = regs->orig_ax;
	if (nr != __NR_accept && nr != __NR_accept4)
		return 0;
	if (ks_want(pid_tgid))
		tcp_sys_exit(ctx, NULL, ret, pid_tgid);
	return 0;
}

#endif
