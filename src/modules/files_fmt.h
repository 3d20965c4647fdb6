/* SPDX-License-Identifier: GPL-2.0 */
/* Text for the files module's values (pure: tested without the kernel). Its paths are
 * joined by core/path.h. */
#ifndef KSIGHT_FILES_FMT_H
#define KSIGHT_FILES_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "create", "unlink", ... for enum files_op; "?" when unknown. */
const char *files_op_name(uint32_t op);

/* "close", "dup2", "close_range", "exec", "exit", "reused" for enum files_close_why. */
const char *files_why_name(uint32_t why);

/* The name of syscall @nr among those the module follows, or "?". */
const char *files_sys_name(uint32_t nr);

/* Whether syscall @nr acts on the file open on an fd (fchmod, fchown, ftruncate, writes). */
bool files_sys_fd_based(uint32_t nr);

/* "file", "dir", "symlink", "fifo", "socket", "char", "block" from the S_IFMT bits of @mode;
 * NULL when there are none. */
const char *files_ftype_name(uint32_t mode);

/*
 * What is left of path argument @arg (@alen bytes, may end at a NUL) after its first @via
 * bytes, an fd link the kernel resolved ("/proc/self/fd/3/a/b" with @via 15: "a/b"), as a
 * path relative to that fd's file: "" for the file itself. Sets *@rest to its length.
 * Returns @arg unchanged (*@rest = @alen) when @via is 0 or beyond the argument.
 */
const char *files_after_link(const char *arg, size_t alen, size_t via, size_t *rest);

/* "RENAME_NOREPLACE|RENAME_EXCHANGE" for renameat2 flags; "" for none. Returns the length. */
size_t files_rename_flags(uint32_t flags, char *buf, size_t len);

/* "uid 1000 gid 100", with "-" for an id left unchanged ((uint32_t)-1). */
size_t files_owner_str(uint32_t uid, uint32_t gid, char *buf, size_t len);

#endif
