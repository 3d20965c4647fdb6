// SPDX-License-Identifier: GPL-2.0
/*
 * udp module. UDP has no connection whose creation and end a tracepoint could show, and
 * the cheap per-packet hooks know no process: a datagram received is queued in softirq,
 * where the current task is whatever was interrupted, and which task reads it is known
 * only when one does. So the datagrams are counted where the owner is exact, at the
 * return of the calls that move them (udp.sys.bpf.h): from the shared syscall dispatcher
 * (one raw sys_exit attachment for every module), or, where BPF trampolines work (not on
 * this machine's kernel: 5.10, 6.1, 6.12 under qemu), from fexit programs on the syscall
 * functions, which leave the syscall tracepoints and every other thread's fast path
 * alone.
 *
 * sock:sock_send_length/sock_recv_length (6.3+) would see every socket send and receive
 * without a syscall hook, but carry neither the user's address nor the buffer: an
 * unconnected socket's remote end and the DNS bytes are only in the call's arguments.
 */
#include "udp.sys.bpf.h"

KS_SYS_MODULE(udp)

KS_SYS_FEXIT(udp, sendto)
KS_SYS_FEXIT(udp, recvfrom)
KS_SYS_FEXIT(udp, sendmsg)
KS_SYS_FEXIT(udp, recvmsg)
KS_SYS_FEXIT(udp, sendmmsg)
KS_SYS_FEXIT(udp, recvmmsg)
KS_SYS_FEXIT(udp, read)
KS_SYS_FEXIT(udp, write)
KS_SYS_FEXIT(udp, readv)
KS_SYS_FEXIT(udp, writev)

char LICENSE[] SEC("license") = "GPL";
