// SPDX-License-Identifier: GPL-2.0
#include "modules/files_fmt.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "files.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

const char *files_op_name(uint32_t op)
{
	static const char *const names[FILES_OP_N] = {
		[FILES_OP_CREATE] = "create",	[FILES_OP_UNLINK] = "unlink",
		[FILES_OP_RENAME] = "rename",	[FILES_OP_LINK] = "link",
		[FILES_OP_SYMLINK] = "symlink", [FILES_OP_MKDIR] = "mkdir",
		[FILES_OP_RMDIR] = "rmdir",	[FILES_OP_CHMOD] = "chmod",
		[FILES_OP_CHOWN] = "chown",	[FILES_OP_TRUNCATE] = "truncate",
		[FILES_OP_WRITE] = "write",
	};

	return op < FILES_OP_N ? names[op] : "?";
}

const char *files_why_name(uint32_t why)
{
	static const char *const names[FILES_CLOSED_N] = {
		[FILES_CLOSED_CLOSE] = "close", [FILES_CLOSED_DUP] = "dup2",
		[FILES_CLOSED_RANGE] = "close_range", [FILES_CLOSED_EXEC] = "exec",
		[FILES_CLOSED_EXIT] = "exit", [FILES_CLOSED_REUSED] = "reused",
	};

	return why < FILES_CLOSED_N ? names[why] : "?";
}

static const struct {
	uint32_t nr;
	const char *name;
	bool fd;
} sys_names[] = {
	{ SYS_creat, "creat" },		{ SYS_open, "open" },
	{ SYS_openat, "openat" },	{ SYS_openat2, "openat2" },
	{ SYS_mknod, "mknod" },		{ SYS_mknodat, "mknodat" },
	{ SYS_unlink, "unlink" },	{ SYS_unlinkat, "unlinkat" },
	{ SYS_rmdir, "rmdir" },		{ SYS_mkdir, "mkdir" },
	{ SYS_mkdirat, "mkdirat" },	{ SYS_rename, "rename" },
	{ SYS_renameat, "renameat" },	{ SYS_renameat2, "renameat2" },
	{ SYS_link, "link" },		{ SYS_linkat, "linkat" },
	{ SYS_symlink, "symlink" },	{ SYS_symlinkat, "symlinkat" },
	{ SYS_chmod, "chmod" },		{ SYS_fchmod, "fchmod", true },
	{ SYS_fchmodat, "fchmodat" },	{ SYS_fchmodat2, "fchmodat2" },
	{ SYS_chown, "chown" },		{ SYS_fchown, "fchown", true },
	{ SYS_lchown, "lchown" },	{ SYS_fchownat, "fchownat" },
	{ SYS_truncate, "truncate" },	{ SYS_ftruncate, "ftruncate", true },
	{ SYS_write, "write", true },	{ SYS_pwrite64, "pwrite64", true },
	{ SYS_writev, "writev", true },	{ SYS_pwritev, "pwritev", true },
	{ SYS_pwritev2, "pwritev2", true },
};

const char *files_sys_name(uint32_t nr)
{
	for (size_t i = 0; i < sizeof(sys_names) / sizeof(sys_names[0]); i++)
		if (sys_names[i].nr == nr)
			return sys_names[i].name;
	return "?";
}

bool files_sys_fd_based(uint32_t nr)
{
	for (size_t i = 0; i < sizeof(sys_names) / sizeof(sys_names[0]); i++)
		if (sys_names[i].nr == nr)
			return sys_names[i].fd;
	return false;
}

const char *files_ftype_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	default:
		return NULL;
	}
}

const char *files_after_link(const char *arg, size_t alen, size_t via, size_t *rest)
{
	size_t n = arg ? strnlen(arg, alen) : 0;

	if (!via || via > n) {
		*rest = alen;
		return arg;
	}
	while (via < n && arg[via] == '/')
		via++;
	*rest = n - via;
	return arg + via;
}

size_t files_rename_flags(uint32_t flags, char *buf, size_t len)
{
	static const char *const names[] = { "RENAME_NOREPLACE", "RENAME_EXCHANGE",
					     "RENAME_WHITEOUT" };
	size_t n = 0;

	if (len)
		buf[0] = 0;
	for (unsigned int i = 0; i < 3; i++) {
		if (!(flags & (1U << i)))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", names[i]);
		flags &= ~(1U << i);
	}
	if (flags)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", flags);
	return n < len ? n : (len ? len - 1 : 0);
}

size_t files_owner_str(uint32_t uid, uint32_t gid, char *buf, size_t len)
{
	char u[16] = "-", g[16] = "-";
	int n;

	if (uid != UINT32_MAX)
		snprintf(u, sizeof(u), "%u", uid);
	if (gid != UINT32_MAX)
		snprintf(g, sizeof(g), "%u", gid);
	n = snprintf(buf, len, "uid %s gid %s", u, g);
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}
