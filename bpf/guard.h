/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard module records: security-relevant events the kernel side let through its cheap
 * filters (a hash of watched paths, the kinds some enabled rule asks for). User space
 * matches them against the rules and raises alerts; only --enforce's BPF LSM programs
 * (guard_lsm.bpf.h) ever block.
 */
#ifndef KSIGHT_GUARD_H
#define KSIGHT_GUARD_H

#include "common.h"

#define GUARD_EV_EVENT KS_EV(KS_MOD_guard, 0)	/* struct guard_event */

/* What happened (guard_event.kind); the rule file's `event:` names, in this order. */
enum guard_kind {
	GUARD_K_WRITE,		/* open for writing (O_WRONLY, O_RDWR, O_TRUNC, O_CREAT) */
	GUARD_K_READ,		/* open for reading only */
	GUARD_K_RENAME,		/* path: old name, path2: new name */
	GUARD_K_UNLINK,
	GUARD_K_CHMOD,
	GUARD_K_CHOWN,
	GUARD_K_TRUNCATE,
	GUARD_K_EXEC,		/* a successful execve/execveat: path is the new executable */
	GUARD_K_PTRACE,		/* PTRACE_ATTACH or PTRACE_SEIZE */
	GUARD_K_MODULE,		/* init_module, finit_module (path: the file, when by fd) */
	GUARD_K_SETID,		/* set*uid/set*gid asking for id 0 */
	GUARD_K_CAPSET,		/* capset by a non-root task that leaves it capabilities */
	GUARD_K_BPF,		/* bpf(BPF_PROG_LOAD) */
	GUARD_K_PERF,		/* perf_event_open */
	GUARD_K_MOUNT,		/* mount (path: the target as passed) */
	GUARD_K_UNSHARE,
	GUARD_K_SETNS,
	GUARD_K_DUP,		/* dup2/dup3 of a socket onto fd 0 (arg: old fd, new fd) */
	GUARD_K_MEMWRITE,	/* another process's memory written: /proc/PID/mem opened for
				 * writing or pwritten, process_vm_writev (arg: target pid, how,
				 * bytes) */
	GUARD_K_AUTH,		/* libpam's pam_authenticate returned (ret: 0 or -PAM code) */
	GUARD_K_SESSION,	/* libpam's pam_open_session returned (ret: 0 or -PAM code) */
	GUARD_K_URING,		/* a process image's first io_uring request (sys: its opcode;
				 * path: the executable) */
	GUARD_K_LINK,		/* a hard link: path the existing name, path2 the new one */
	GUARD_K_SYMLINK,	/* path: the target as written (relative: as is), path2: the
				 * new name */
	GUARD_K_MKDIR,		/* path: the new directory */
	GUARD_K_XATTR,		/* set/removexattr (arg: 0 set, 1 remove; size; flags);
				 * path2 slot: the attribute's name */
	GUARD_K_N,
};

/* Classes of the watched-path table (guard_keys values; user space fills them). */
#define GUARD_C_CHANGE 0x1	/* write, rename, unlink, chmod, chown, truncate, link,
				 * symlink, mkdir, xattr */
#define GUARD_C_READ 0x2	/* read */
#define GUARD_C_EXEC 0x4	/* exec */
#define GUARD_KEYS_MAX 4096

/* The table's keys: FNV-1a 64 of a whole path or of a directory prefix ("/etc"), or, with
 * the other basis, of a last component alone ("authorized_keys"). */
#define GUARD_FNV_PRIME 0x100000001b3ULL
#define GUARD_FNV_PATH 0xcbf29ce484222325ULL
#define GUARD_FNV_LEAF 0x84222325cbf29ce4ULL
#define GUARD_MATCH_LEN 256	/* bytes of a path hashed; a longer path always passes */

/* guard_event.flags */
#define GUARD_F_NOLINK 0x1	/* exec: the executable has no name left (unlinked, memfd) */
#define GUARD_F_MEMFD 0x2	/* exec: the executable is a memfd (path "memfd:NAME") */
#define GUARD_F_SETUID 0x4	/* exec: the new image runs with euid != uid (setuid bit) */
#define GUARD_F_SETGID 0x8	/* exec: egid != gid */
#define GUARD_F_CUT 0x10	/* a path lost its head or tail */
#define GUARD_F_RELATIVE 0x20	/* path: joined from the cwd/dirfd and a relative name, not
				 * cleaned in the kernel ("." and ".." kept) */
#define GUARD_F_RELATIVE2 0x40	/* the same for path2 */
#define GUARD_F_SOCKIO 0x80	/* exec, dup: fd 0 (stdin) is (dup: becomes) an inet socket */
#define GUARD_F_UNIXIO 0x100	/* the same for a unix socket */
#define GUARD_F_NETPARENT 0x200	/* exec: the parent or grandparent listens on TCP */
#define GUARD_F_URING 0x400	/* seen through io_uring (sys: the request's opcode) */
#define GUARD_F_NORES 0x800	/* io_uring on 5.10: seen at submission, result unknown */
/* exec flags that bring an exec up by themselves (whatever its path) */
#define GUARD_F_EXEC_UP (GUARD_F_NOLINK | GUARD_F_MEMFD | GUARD_F_SETUID | GUARD_F_SETGID | \
			 GUARD_F_SOCKIO | GUARD_F_UNIXIO | GUARD_F_NETPARENT)

/* GUARD_K_MEMWRITE arg[1]: how */
#define GUARD_MW_OPEN 0		/* /proc/PID/mem opened for writing */
#define GUARD_MW_PWRITE 1	/* pwrite64/pwritev/pwritev2 on it */
#define GUARD_MW_VM 2		/* process_vm_writev */

/* GUARD_K_AUTH/SESSION arg[0]: the PAM function */
#define GUARD_PAM_AUTH 0
#define GUARD_PAM_SESSION 1

#define GUARD_PATH_MAX 2048	/* bytes of one path kept, NUL included */

/* GUARD_EV_EVENT. Variable size: path at data[0], path2 (if len2) at data[GUARD_PATH_MAX]. */
struct guard_event {
	struct ks_hdr hdr;
	__s64 ret;		/* syscall result or negative errno */
	__u64 arg[3];		/* by kind: write/read: O_ flags; chmod: mode; chown: uid, gid;
				 * ptrace: request, target pid; setid: the ids asked for
				 * ((u32)-1: unchanged); capset: effective caps after; bpf:
				 * program type; perf: event type, pid, cpu; mount: flags;
				 * unshare: flags; setns: fd, nstype */
	__u32 kind;		/* enum guard_kind */
	__u32 sys;		/* syscall number; with GUARD_F_URING the io_uring opcode */
	__u32 ppid;		/* the parent's tgid */
	__u32 euid;		/* credentials after the call */
	__u32 gid;
	__u32 egid;
	__u32 flags;		/* GUARD_F_* */
	__u16 len;		/* bytes of path, NUL included; 0: none */
	__u16 len2;		/* bytes of path2, NUL included; 0: none */
	char pcomm[TASK_COMM_LEN];	/* the parent's comm */
	/* exec and dup with a socket on fd 0-2 (the first such fd): its peer */
	__u8 paddr[16];		/* IPv4 in the first 4 bytes, or IPv6 */
	__u16 pfamily;		/* AF_INET, AF_INET6, AF_UNIX; 0: none */
	__u16 pport;		/* host order */
	__u32 sockfds;		/* exec: bit i: fd i (0-2) is a socket; netparent: the
				 * listener's depth (1 parent, 2 grandparent) << 8 */
	__u32 listener;		/* exec with GUARD_F_NETPARENT: the listening ancestor's tgid */
	char data[];
};

/* GUARD_K_AUTH/SESSION: the names libpam was handed for the PAM handle (pam_start,
 * pam_start_confdir, pam_set_item), at data[0] (len: its size). Each string ends with a
 * NUL; a name is unknown (never given, given as NULL, unreadable) unless its bit is set. */
#define GUARD_PAM_SERVICE_MAX 64
#define GUARD_PAM_USER_MAX 128
#define GUARD_PAM_RHOST_MAX 256
#define GUARD_PN_SERVICE 0x1	/* guard_pam_names.known */
#define GUARD_PN_USER 0x2
#define GUARD_PN_RHOST 0x4
#define GUARD_PN_RUSER 0x8
#define GUARD_PN_CUT(bit) ((bit) << 8)	/* the name filled its field: maybe cut */

struct guard_pam_names {
	__u32 known;		/* GUARD_PN_* */
	__u32 pad;
	char service[GUARD_PAM_SERVICE_MAX];	/* as the program passed it */
	char user[GUARD_PAM_USER_MAX];
	char rhost[GUARD_PAM_RHOST_MAX];	/* PAM_RHOST: the remote host */
	char ruser[GUARD_PAM_USER_MAX];	/* PAM_RUSER: the requesting user (su: the caller) */
};

#endif
