// SPDX-License-Identifier: GPL-2.0
/*
 * guard's user side of the fd patterns and logins: the network services already listening
 * at the start (seeded from /proc, as the kernel's listen() tracking would have found
 * them), a socket peer as text, the libpam uretprobes.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/attachments.h"
#include "guard.h"
#include "modules/guard_net.h"

#define INODES_MAX 4096

/* The inodes of the listening TCP sockets of /proc/net/@file (this network namespace). */
static size_t listening(const char *file, uint64_t *ino, size_t n, size_t max)
{
	char line[512], path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/%s", file);
	f = fopen(path, "r");
	if (!f)
		return n;
	while (fgets(line, sizeof(line), f) && n < max) {
		unsigned int st;
		uint64_t inode;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %*s %*s %" SCNu64, &st, &inode) == 2 &&
		    st == 0x0A && inode)
			ino[n++] = inode;
	}
	fclose(f);
	return n;
}

static bool has(const uint64_t *ino, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (ino[i] == v)
			return true;
	return false;
}

/* Whether process @pid has one of the sockets @ino open. */
static bool holds(const char *pid, const uint64_t *ino, size_t n)
{
	char path[300], link[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		ssize_t m;
		uint64_t v;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, d->d_name);
		m = readlink(path, link, sizeof(link) - 1);
		if (m <= 0)
			continue;
		link[m] = 0;
		if (sscanf(link, "socket:[%" SCNu64 "]", &v) == 1 && has(ino, n, v))
			found = true;
	}
	closedir(dir);
	return found;
}

int guard_seed_listeners(int map_fd)
{
	uint64_t *ino = calloc(INODES_MAX, sizeof(*ino));
	struct dirent *d;
	size_t n = 0;
	int seeded = 0;
	DIR *proc;

	if (!ino)
		return -ENOMEM;
	n = listening("tcp", ino, n, INODES_MAX);
	n = listening("tcp6", ino, n, INODES_MAX);
	proc = n ? opendir("/proc") : NULL;
	while (proc && (d = readdir(proc))) {
		uint32_t tgid, one = 1;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		tgid = strtoul(d->d_name, NULL, 10);
		if (tgid <= 1 || !holds(d->d_name, ino, n))
			continue;
		if (!bpf_map_update_elem(map_fd, &tgid, &one, BPF_ANY))
			seeded++;
	}
	if (proc)
		closedir(proc);
	free(ino);
	return seeded;
}

void guard_peer_text(const struct guard_event *e, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	out[0] = 0;
	switch (e->pfamily) {
	case 2:	/* AF_INET */
		inet_ntop(AF_INET, e->paddr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, e->pport);
		break;
	case 10: /* AF_INET6 */
		inet_ntop(AF_INET6, e->paddr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, e->pport);
		break;
	case 1:	/* AF_UNIX */
		snprintf(out, len, "unix");
		break;
	}
}

int guard_pam_attach(struct ks_ctx *ctx, struct bpf_program *auth, struct bpf_program *session)
{
	struct ks_uprobe_spec s = {
		.binary = "libpam.so.0", .func = "pam_authenticate", .pid = -1, .retprobe = true,
	};
	int rc = ks_attach_uprobe(ctx, auth, &s);

	if (!rc) {
		s.func = "pam_open_session";
		rc = ks_attach_uprobe(ctx, session, &s);
	}
	if (rc == -ENOENT) {
		fprintf(stderr, "ksight guard: libpam.so.0 (pam_authenticate, pam_open_session) "
			"not found: the auth and session rules see nothing; the rest runs\n");
		return 0;
	}
	return rc;
}
