// SPDX-License-Identifier: GPL-2.0
#include "modules/open_fmt.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

size_t open_flags_str(uint64_t flags, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ O_CREAT, "O_CREAT" },	      { O_EXCL, "O_EXCL" },	  { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" },	      { O_APPEND, "O_APPEND" },	  { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" },	      { O_ASYNC, "O_ASYNC" },	  { O_DIRECT, "O_DIRECT" },
		/* glibc's O_LARGEFILE is 0 on 64-bit; the kernel's bit is 0100000 */
		{ 0100000, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_PATH, "O_PATH" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	uint64_t rest = flags & ~(uint64_t)O_ACCMODE;
	size_t n;

	/* O_SYNC includes O_DSYNC; O_TMPFILE includes O_DIRECTORY: name the whole first */
	n = snprintf(buf, len, "%s", acc[flags & O_ACCMODE]);
	if ((rest & O_SYNC) == O_SYNC) {
		n += snprintf(buf + n, n < len ? len - n : 0, "|O_SYNC");
		rest &= ~(uint64_t)O_SYNC;
	}
	if ((rest & O_TMPFILE) == O_TMPFILE) {
		n += snprintf(buf + n, n < len ? len - n : 0, "|O_TMPFILE");
		rest &= ~(uint64_t)O_TMPFILE;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(rest & names[i].bit))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "|%s", names[i].name);
		rest &= ~names[i].bit;
	}
	if (rest)
		n += snprintf(buf + n, n < len ? len - n : 0, "|0x%llx", (unsigned long long)rest);
	return n < len ? n : len - 1;
}

const char *open_sys_name(uint32_t nr)
{
	switch (nr) {
	case SYS_open:
		return "open";
	case SYS_openat:
		return "openat";
	case SYS_openat2:
		return "openat2";
	case SYS_creat:
		return "creat";
	default:
		return "?";
	}
}
