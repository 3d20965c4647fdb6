// SPDX-License-Identifier: GPL-2.0
#include "modules/proc_fmt.h"

#include <stdio.h>
#include <string.h>

#include "proc.h"

static const struct {
	uint64_t bit;
	const char *name;
} clone_names[] = {
	{ PROC_CLONE_NEWTIME, "CLONE_NEWTIME" },
	{ PROC_CLONE_VM, "CLONE_VM" },
	{ PROC_CLONE_FS, "CLONE_FS" },
	{ PROC_CLONE_FILES, "CLONE_FILES" },
	{ PROC_CLONE_SIGHAND, "CLONE_SIGHAND" },
	{ PROC_CLONE_VFORK, "CLONE_VFORK" },
	{ PROC_CLONE_PARENT, "CLONE_PARENT" },
	{ PROC_CLONE_THREAD, "CLONE_THREAD" },
	{ PROC_CLONE_NEWNS, "CLONE_NEWNS" },
	{ PROC_CLONE_NEWCGROUP, "CLONE_NEWCGROUP" },
	{ PROC_CLONE_NEWUTS, "CLONE_NEWUTS" },
	{ PROC_CLONE_NEWIPC, "CLONE_NEWIPC" },
	{ PROC_CLONE_NEWUSER, "CLONE_NEWUSER" },
	{ PROC_CLONE_NEWPID, "CLONE_NEWPID" },
	{ PROC_CLONE_NEWNET, "CLONE_NEWNET" },
};

#define NNAMES (sizeof(clone_names) / sizeof(clone_names[0]))

size_t proc_flags_names(uint64_t flags, char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < NNAMES; i++) {
		size_t l = strlen(clone_names[i].name), sep = n ? 1 : 0;

		if (!(flags & clone_names[i].bit) || n + sep + l > len)
			continue;
		if (sep)
			buf[n++] = 0;
		memcpy(buf + n, clone_names[i].name, l);
		n += l;
	}
	return n;
}

size_t proc_flags_short(uint64_t flags, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	buf[0] = 0;
	for (size_t i = 0; i < NNAMES; i++) {
		const char *name = clone_names[i].name + 6;	/* without "CLONE_" */
		size_t l = strlen(name), sep = n ? 1 : 0;

		if (!(flags & clone_names[i].bit) || n + sep + l + 1 > len)
			continue;
		if (sep)
			buf[n++] = '|';
		memcpy(buf + n, name, l + 1);
		n += l;
	}
	if (!n && len >= 2) {
		buf[0] = '-';
		buf[1] = 0;
		n = 1;
	}
	return n;
}

size_t proc_status_text(uint32_t status, char *buf, size_t len)
{
	unsigned int sig = status & 0x7f, code = (status >> 8) & 0xff;
	const char *name = sig ? sigabbrev_np(sig) : NULL;
	int n;

	if (!sig)
		n = snprintf(buf, len, "code %u", code);
	else if (name)
		n = snprintf(buf, len, "killed by %s%s", name,
			     status & 0x80 ? " (core dumped)" : "");
	else
		n = snprintf(buf, len, "killed by signal %u%s", sig,
			     status & 0x80 ? " (core dumped)" : "");
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}

size_t proc_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	double d = ns;
	int n;

	if (ns < 1000)
		n = snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		n = snprintf(buf, len, "%.1fus", d / 1e3);
	else if (ns < 1000000000)
		n = snprintf(buf, len, "%.1fms", d / 1e6);
	else
		n = snprintf(buf, len, "%.3fs", d / 1e9);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}
