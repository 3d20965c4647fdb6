/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files module records: file lifecycle and content changes (create, unlink, rename, link,
 * symlink, mkdir, rmdir, chmod, chown, truncate, first write, close after writes), and
 * the --summary table of bytes read and written per process and file (filetop).
 */
#ifndef KSIGHT_FILES_H
#define KSIGHT_FILES_H

#include "common.h"

#define FILES_EV_CHANGE KS_EV(KS_MOD_files, 0)	/* struct files_event */
#define FILES_EV_CLOSE KS_EV(KS_MOD_files, 1)	/* struct files_close */
#define FILES_EV_TRACK KS_EV(KS_MOD_files, 2)	/* loss slot: write-tracking map full */
#define FILES_EV_TOP KS_EV(KS_MOD_files, 3)	/* loss slot: --summary map full */

enum files_op {
	FILES_OP_CREATE,
	FILES_OP_UNLINK,
	FILES_OP_RENAME,
	FILES_OP_LINK,
	FILES_OP_SYMLINK,
	FILES_OP_MKDIR,
	FILES_OP_RMDIR,
	FILES_OP_CHMOD,
	FILES_OP_CHOWN,
	FILES_OP_TRUNCATE,
	FILES_OP_WRITE,		/* the first write seen on an open file of a process */
	FILES_OP_N,
};

/* Why a written file's count was closed (struct files_close). */
enum files_close_why {
	FILES_CLOSED_CLOSE,	/* close(fd) */
	FILES_CLOSED_DUP,	/* dup2/dup3 put another file on the fd */
	FILES_CLOSED_RANGE,	/* close_range() */
	FILES_CLOSED_EXEC,	/* close-on-exec */
	FILES_CLOSED_EXIT,	/* the process exited with it open */
	FILES_CLOSED_REUSED,	/* found another file on the fd: closed in a way not seen */
	FILES_CLOSED_N,
};

/* Strings of a files_event, in this order in data[] (each NUL-terminated, len 0: absent). */
enum files_str {
	FILES_S_ARG,		/* first path as the process passed it (symlink: the target) */
	FILES_S_ARG2,		/* second path as passed (rename/link: new, symlink: linkpath) */
	FILES_S_BASE,		/* absolute directory FILES_S_ARG is relative to, or the file
				 * itself for fd-based calls and fd links (walked in the
				 * kernel) */
	FILES_S_BASE2,		/* the same for FILES_S_ARG2 */
	FILES_S_N,
};

#define FILES_ARG_MAX 1024	/* bytes of a path argument kept, NUL included */
#define FILES_BASE_MAX 2048	/* bytes of a walked path kept (its tail), NUL included */

/* files_event.cut bits */
#define FILES_CUT(s) (1U << (s))	/* string s was cut (a walked path: its head) */
#define FILES_BASE2_SAME (1U << 8)	/* FILES_S_BASE2 equals FILES_S_BASE (not repeated) */

#define FILES_AT_FDCWD (-100)

/* FILES_EV_CHANGE. Variable size: the strings follow. 128 bytes before data. */
struct files_event {
	struct ks_hdr hdr;
	__s64 ret;		/* syscall result (fd, 0) or negative errno */
	__u64 size;		/* truncate: new length, bytes; write: bytes of the first write */
	__u64 file;		/* write: kernel address of the struct file (matches its close) */
	__u32 op;		/* enum files_op */
	__u32 sys;		/* syscall number */
	__u32 mode;		/* chmod, mkdir, create: mode as passed (create: with S_IFMT) */
	__u32 uid;		/* chown: new owner, (u32)-1 unchanged */
	__u32 gid;		/* chown: new group, (u32)-1 unchanged */
	__u32 flags;		/* AT_*, RENAME_* or O_* flags as passed */
	__s32 fd;		/* fd of fd-based calls, else the first directory fd */
	__s32 fd2;		/* the second directory fd (rename, link, symlink) */
	__u16 len[FILES_S_N];	/* bytes of each string in data, NUL included; 0: absent */
	__u32 cut;		/* FILES_CUT(s), FILES_BASE2_SAME */
	__u16 via[2];		/* bytes of FILES_S_ARG, FILES_S_ARG2 that spell an fd link of
				 * the process (/proc/self/fd/N, bpf/fdlink.bpf.h): the rest
				 * is relative to fd N's file, walked into FILES_S_BASE(2) */
	char data[];
};

/* FILES_EV_CLOSE: a file the process wrote to is no longer open on that fd. */
struct files_close {
	struct ks_hdr hdr;
	__u64 file;		/* struct file address, as in the FILES_OP_WRITE record */
	__u64 bytes;		/* written through this fd while traced, bytes */
	__u64 writes;		/* successful write calls */
	__u64 first_ts;		/* ns CLOCK_MONOTONIC of the first write */
	__s32 fd;
	__u32 why;		/* enum files_close_why */
};

/* Write tracking: one entry per (process, fd) that wrote to a regular file. */
struct files_wr_key {
	__u32 tgid;
	__s32 fd;
};

struct files_wr_val {
	__u64 file;		/* struct file address */
	__u64 bytes;
	__u64 writes;
	__u64 first_ts;
};

#define FILES_WR_ENTRIES 16384

/* --summary: per process and file (filetop). */
#define FILES_TOP_PATH 256	/* bytes of the path kept (its tail), NUL included */
#define FILES_TOP_ENTRIES 16384

enum files_ftype {
	FILES_T_REG,		/* 'R' regular file */
	FILES_T_SOCK,		/* 'S' socket */
	FILES_T_OTHER,		/* 'O' pipes, ttys, devices, ... */
};

struct files_top_key {
	__u32 tgid;
	__u32 dev;		/* superblock dev_t (kernel layout: major << 20 | minor) */
	__u64 ino;
	__u64 rdev;		/* device files: the device; 0 otherwise */
};

struct files_top_val {
	__u64 reads;		/* successful read calls */
	__u64 rbytes;
	__u64 writes;		/* successful write calls */
	__u64 wbytes;
	char comm[TASK_COMM_LEN];
	__u32 type;		/* enum files_ftype */
	__u32 cut;		/* path lost its head */
	char path[FILES_TOP_PATH];
};

#endif
