/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rw module: every read/write/send/recv of the traced tasks, streamed as a small fixed-size
 * record (no path: user space names the fd from its fd cache), or aggregated in the kernel
 * per process and fd (--summary). fd-change records (open, socket, connect, accept, dup,
 * pipe, close, ...) feed that cache.
 */
#ifndef KSIGHT_RW_H
#define KSIGHT_RW_H

#include "common.h"

#define RW_EV_CALL KS_EV(KS_MOD_rw, 0)	/* one read/write call */
#define RW_EV_FD KS_EV(KS_MOD_rw, 1)	/* an fd appeared, changed or went away */
#define RW_EV_SUM KS_EV(KS_MOD_rw, 2)	/* loss slot: --summary table full */
#define RW_EV_URING KS_EV(KS_MOD_rw, 3)	/* one io_uring request completed */
#define RW_EV_URING_SUB KS_EV(KS_MOD_rw, 4)	/* loss slot: io_uring request table full, or a
						 * request's completion never seen */

#define RW_MMSG_MAX 8		/* sendmmsg/recvmmsg messages summed; more sets RW_F_*_PART */
#define RW_IOV_MAX 16		/* iovecs summed for the requested size; more sets RW_F_REQ_PART */
#define RW_SLOTS 32		/* log2 latency buckets, ns */
#define RW_SUM_ENTRIES 8192	/* --summary: (pid, fd) pairs */
#define RW_NAME_MAX 256		/* bytes of a path or socket name in an fd record, NUL included */
#define RW_NAME_MASK 511	/* literal 2 * RW_NAME_MAX - 1, for ks_mask() */
#define RW_UNIX_HALF 128	/* AF_UNIX names: local path at name[0], peer path at name[128] */

/* rw_event.flags */
#define RW_F_REQ_PART 0x1	/* more iovecs than RW_IOV_MAX, or unreadable: req is a floor */
#define RW_F_REQ_SAT 0x2	/* requested more than 4 GiB - 1: req saturated */
#define RW_F_RET_PART 0x4	/* sendmmsg/recvmmsg past RW_MMSG_MAX messages: ret is a floor */

/*
 * RW_EV_CALL. 88 bytes. ts in the header is the return; lat_ns the time since the call
 * entered (0 when the entry was not seen, e.g. the call began before ksight attached).
 */
struct rw_event {
	struct ks_hdr hdr;
	__u64 lat_ns;		/* ns from entry to return */
	__s64 ret;		/* bytes transferred, or negative errno */
	__u32 req;		/* bytes requested (sum of the iovecs), saturated */
	__s32 fd;		/* the fd read or written (sendfile, splice, tee,
				 * copy_file_range: the out fd) */
	__s32 fd2;		/* those four: the in fd; sendmmsg/recvmmsg: the
				 * messages; else -1 */
	__u16 sys;		/* syscall number */
	__u16 flags;		/* RW_F_* */
};

/*
 * io_uring. A request is kept from its submission (io_uring_submit_req, or
 * io_uring_submit_sqe before 6.2) to its completion (io_uring_complete), keyed by its
 * kernel address: the opcode, the fd, the submit time and the submitting task, which owns
 * the record (completions run in the submitter, an io-wq worker or an interrupt).
 */
#define RW_URING_INFLIGHT 16384	/* requests in flight, all traced processes */
#define RW_URING_FIXED_FD (-2)	/* --summary/agent row of the fixed-file requests */
#define RW_URING_OPS 64		/* --summary: completions per opcode (the last: 63 and up) */

/* rw_uring_event.flags */
#define RW_UF_FIXED 0x1		/* IOSQE_FIXED_FILE: fd is the index in the registered files */
#define RW_UF_MORE 0x2		/* IORING_CQE_F_MORE: a multishot request, more to come */
#define RW_UF_NOFD 0x4		/* the fd was not seen (5.10, a fixed file) */

/* RW_EV_URING. 104 bytes. ts is the completion; the task fields are the submitter's. */
struct rw_uring_event {
	struct ks_hdr hdr;
	__u64 lat_ns;		/* ns from submission to completion */
	__u64 user_data;	/* the application's tag of the request */
	__u64 ino;		/* inode of the request's file (read at completion); 0: none */
	__s32 res;		/* the completion's result: bytes, or negative errno */
	__s32 fd;		/* the fd, or with RW_UF_FIXED the registered file's index */
	__u32 cflags;		/* the completion's IORING_CQE_F_* */
	__u8 opcode;		/* IORING_OP_* */
	__u8 flags;		/* RW_UF_* */
	__u16 __pad;
};

/* A request in flight: its address (6.0+), or on 5.10, whose completion tracepoint does not
 * pass the request, its ring and user_data. */
struct rw_uring_key {
	__u64 ptr;		/* the request, or (5.10) the ring */
	__u64 tag;		/* 0, or (5.10) the request's user_data */
};

/* What the kernel keeps of a request between submission and completion. */
struct rw_uring_req {
	struct ks_owner owner;	/* the submitting task */
	__u64 submit_ts;
	__u64 user_data;
	__u64 ino;		/* 5.10: the file's inode, read at submission */
	__s32 fd;
	__u8 opcode;
	__u8 flags;		/* RW_UF_FIXED, RW_UF_NOFD */
	__u16 __pad;
};

/* What an fd record says happened (rw_fd_event.op). */
enum rw_fd_op {
	RW_FD_NEW = 1,		/* fd was created (open, socket, accept, pipe, eventfd, ...) */
	RW_FD_UPDATE,		/* fd's addresses changed (connect, bind) */
	RW_FD_DUP,		/* fd is now a copy of fd2 (dup, dup2, dup3, fcntl F_DUPFD) */
	RW_FD_CLOSE,		/* fd was closed */
	RW_FD_CLOSE_RANGE,	/* fds fd..fd2 were closed */
	RW_FD_CWD,		/* the working directory changed: to name (chdir) or to fd's */
};

/* What kind of file an fd is, from its inode. */
enum rw_kind {
	RW_KIND_UNKNOWN = 0,
	RW_KIND_FILE,		/* regular files, directories, devices, memfds */
	RW_KIND_SOCKET,
	RW_KIND_PIPE,		/* pipes and FIFOs */
	RW_KIND_ANON,		/* anonymous inodes: eventfd, epoll, timerfd, signalfd, ... */
};

/* rw_fd_event.flags */
#define RW_FDF_REUSED 0x1	/* close: the fd number was already taken again at return */
#define RW_FDF_PATH 0x2		/* name is the path the call was given (open family) */
#define RW_FDF_NAME_CUT 0x4	/* name was cut at RW_NAME_MAX */

/* An IPv4 or IPv6 endpoint. IPv4 addresses are in the first 4 bytes. */
struct rw_inaddr {
	__u8 addr[16];		/* network byte order */
	__u16 port;		/* host byte order */
	__u16 __pad;
};

/*
 * RW_EV_FD. Variable size: name[] follows. For new fds the kernel reads the file the fd
 * now refers to, so the kind and inode come from the kernel, not from the call's arguments.
 */
struct rw_fd_event {
	struct ks_hdr hdr;
	__u64 enter_ts;		/* ns, CLOCK_MONOTONIC at the call's entry; 0 unknown */
	__u64 ino;		/* inode number (sockets, pipes: the "socket:[ino]" number) */
	__s64 ret;		/* what the call returned */
	__s32 fd;		/* the fd this is about (pipe: the read end) */
	__s32 fd2;		/* DUP: the source; pipe/socketpair: the second fd; CLOSE_RANGE:
				 * the last fd; else -1 */
	__s32 dfd;		/* open family: the directory fd (AT_FDCWD = -100) */
	__u16 sys;		/* syscall number */
	__u8 op;		/* enum rw_fd_op */
	__u8 kind;		/* enum rw_kind */
	__u16 family;		/* sockets: AF_* */
	__u16 sotype;		/* sockets: SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 flags;		/* RW_FDF_* */
	__u16 name_len;		/* bytes in name[], NULs included */
	__u16 __pad[4];
	struct rw_inaddr laddr;	/* AF_INET/AF_INET6: local endpoint */
	struct rw_inaddr raddr;	/* AF_INET/AF_INET6: remote endpoint */
	char name[];		/* open family: path as given; anon inodes: "[eventfd]";
				 * files without a path argument: the last path component;
				 * AF_UNIX: local path at 0, peer path at RW_UNIX_HALF,
				 * each NUL-terminated ("@x": abstract) */
};

/* --summary: per process and fd. */
struct rw_sum_key {
	__u32 pid;
	__s32 fd;
};

/* A per-CPU value: user space adds the CPUs up. */
struct rw_sum_val {
	__u64 reads;		/* read-side calls (read, pread64, readv, preadv, recv*) */
	__u64 writes;		/* write-side calls (write, ..., send*, sendfile, splice,
				 * tee, copy_file_range) */
	__u64 rbytes;		/* bytes returned by successful reads */
	__u64 wbytes;		/* bytes returned by successful writes */
	__u64 errors;		/* calls that returned an error */
	__u64 lat_sum;		/* ns, over the calls whose entry was seen */
	__u64 slots[RW_SLOTS];	/* log2(lat ns) buckets */
	__u64 cgroup;		/* cgroup v2 id of the task that made the row's first call */
	char comm[TASK_COMM_LEN];
};

#endif
