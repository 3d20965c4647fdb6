/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Paths through the current process's own fd links: /proc/self/fd/N, /proc/thread-self/fd/N,
 * /proc/PID/fd/N (PID: the process or thread itself, numbered as in its own pid namespace)
 * and /dev/fd/N (a symlink to /proc/self/fd). The kernel resolves such a link to the file
 * open on fd N, whatever its name, so a record must name that file, not the link: GNU tar
 * (gnulib's fchmodat emulation) chmods every directory it extracts as /proc/self/fd/N, and
 * O_TMPFILE files get their name by linkat() of /proc/self/fd/N.
 *
 * Only these spellings are recognised; "/proc//self", "/proc/./self", a path relative to
 * /proc or another process's fds stay as the process passed them.
 */
#ifndef KSIGHT_FDLINK_BPF_H
#define KSIGHT_FDLINK_BPF_H

#include "common.bpf.h"

#define KS_FDLINK_DIGITS 10	/* an fd or a pid fits in 10 decimal digits */
/* bytes of room after a path's start that ks_fdlink() may read: the longest spelling,
 * "/proc/" + 10 digits + "/fd/" + 10 digits, the byte after it, and what the verifier
 * allows for (an fd's digits start before byte 32) */
#define KS_FDLINK_ROOM 48

/* The first @n (<= 8) bytes at @p as one little-endian word; for a literal @p, a constant. */
static __always_inline __u64 ks_fdlink_word(const char *p, __u32 n)
{
	__u64 w = 0;

	__builtin_memcpy(&w, p, n);
	return w;
}

/*
 * Whether @s starts with the @n bytes (<= 24) of the literal @p, compared a word at a time:
 * three compares where bytes would take twenty, each a branch for the verifier to follow.
 * @s needs 24 bytes of room (unaligned loads: map values allow them).
 */
static __always_inline bool ks_fdlink_is(const char *s, const char *p, __u32 n)
{
	__u32 i;

	for (i = 0; i < 24; i += 8) {
		__u32 k = n - i < 8 ? n - i : 8;
		__u64 mask = k == 8 ? ~0ULL : (1ULL << (8 * k)) - 1;

		if (i >= n)
			break;
		if ((*(const __u64 *)(s + i) & mask) != ks_fdlink_word(p + i, k))
			return false;
	}
	return true;
}

/*
 * The decimal number at @s as procfs reads a pid or fd: digits only, no leading zero.
 * Sets *@len to its digits, 0 when there is none.
 */
static __always_inline __u64 ks_fdlink_num(const char *s, __u32 *len)
{
	__u64 v = 0;
	__u32 i;

	for (i = 0; i < KS_FDLINK_DIGITS; i++) {
		char c = s[i];

		if (c < '0' || c > '9')
			break;
		v = v * 10 + (c - '0');
	}
	*len = (i > 1 && s[0] == '0') ? 0 : i;
	return v;
}

/* The number of @t in its own pid namespace: what its /proc/PID calls it. */
static __always_inline __u32 ks_ns_pid(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	struct upid u = {};

	bpf_probe_read_kernel(&u, sizeof(u), &p->numbers[level & 31]);
	return u.nr;
}

/*
 * Whether the path @s (NUL-terminated, KS_FDLINK_ROOM bytes of room) starts with an fd link
 * of the current process. Returns the bytes of that spelling ("/proc/self/fd/3" is 15) and
 * sets *@fd to N: the rest of the path, "" or "/...", is relative to the file on fd N.
 * A path that is the link alone names the fd's file only for a call that follows a symlink
 * in its last component (@follow: chmod, open, ...); for the others (unlink, rename, lchown)
 * it names the link itself, and 0 is returned, as for every other path.
 */
static __always_inline __u32 ks_fdlink(const char *s, bool follow, int *fd)
{
	struct task_struct *task;
	__u32 at, n;
	__u64 v;
	char c;

	if (s[0] != '/')
		return 0;
	if (ks_fdlink_is(s, "/proc/self/fd/", 14)) {
		at = 14;
	} else if (ks_fdlink_is(s, "/proc/thread-self/fd/", 21)) {
		at = 21;
	} else if (ks_fdlink_is(s, "/dev/fd/", 8)) {
		at = 8;
	} else if (ks_fdlink_is(s, "/proc/", 6)) {
		v = ks_fdlink_num(s + 6, &n);
		if (!n || !ks_fdlink_is(s + 6 + n, "/fd/", 4))
			return 0;
		task = (struct task_struct *)bpf_get_current_task();
		if (v != ks_ns_pid(task) && v != ks_ns_pid(BPF_CORE_READ(task, group_leader)))
			return 0;
		at = 6 + n + 4;
	} else {
		return 0;
	}
	/* the fd's digits start at one offset per spelling and pid length: through memory the
	 * verifier sees one unknown offset, and follows the rest once instead of once each */
	*fd = at;
	at = *(volatile int *)fd & 31;
	v = ks_fdlink_num(s + at, &n);
	if (!n || v > 0x7fffffff)
		return 0;
	c = s[at + n];
	if (c != '/' && (c || !follow))
		return 0;
	*fd = v;
	return at + n;
}

#endif
