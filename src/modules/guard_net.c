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
#include <stddef.h>
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

int guard_pam_attach(struct ks_ctx *ctx, const struct guard_pam_progs *p)
{
	static const struct {
		const char *func;
		size_t prog;	/* offset in struct guard_pam_progs */
		bool ret, optional;
	} at[] = {
		{ "pam_authenticate", offsetof(struct guard_pam_progs, call) },
		{ "pam_authenticate", offsetof(struct guard_pam_progs, auth_ret), true },
		{ "pam_open_session", offsetof(struct guard_pam_progs, call) },
		{ "pam_open_session", offsetof(struct guard_pam_progs, session_ret), true },
		{ "pam_start", offsetof(struct guard_pam_progs, start) },
		{ "pam_start", offsetof(struct guard_pam_progs, start_ret), true },
		/* libpam 1.4 and later */
		{ "pam_start_confdir", offsetof(struct guard_pam_progs, start_cd), false, true },
		{ "pam_start_confdir", offsetof(struct guard_pam_progs, start_ret), true, true },
		{ "pam_set_item", offsetof(struct guard_pam_progs, set_item) },
		{ "pam_end", offsetof(struct guard_pam_progs, end) },
	};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct ks_uprobe_spec s = {
			.binary = "libpam.so.0", .func = at[i].func, .pid = -1, .retprobe = at[i].ret,
		};
		int rc = ks_attach_uprobe(ctx, *(struct bpf_program *const *)
					  ((const char *)p + at[i].prog), &s);

		if (rc == -ENOENT && i == 0) {
			fprintf(stderr, "ksight guard: libpam.so.0 (pam_authenticate, "
				"pam_open_session) not found: the auth and session rules see nothing; "
				"the rest runs\n");
			return 0;
		}
		if (rc == -ENOENT && at[i].optional)
			continue;
		if (rc)
			return rc;
	}
	return 0;
}

static const char *pam_name(const char *src, size_t n, char *buf, size_t len, bool known)
{
	if (!known)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strnlen(src, n), src);
	return buf;
}

void guard_pam_text(const struct guard_event *e, struct guard_pam_text *t)
{
	const struct guard_pam_names *n = (const void *)e->data;
	char *s;

	t->user = t->rhost = t->service = t->ruser = NULL;
	t->user_cut = t->rhost_cut = t->ruser_cut = false;
	if ((e->kind != GUARD_K_AUTH && e->kind != GUARD_K_SESSION) || e->len < sizeof(*n))
		return;
	t->user = pam_name(n->user, sizeof(n->user), t->ubuf, sizeof(t->ubuf),
			   n->known & GUARD_PN_USER);
	t->rhost = pam_name(n->rhost, sizeof(n->rhost), t->rbuf, sizeof(t->rbuf),
			    n->known & GUARD_PN_RHOST);
	t->ruser = pam_name(n->ruser, sizeof(n->ruser), t->rubuf, sizeof(t->rubuf),
			    n->known & GUARD_PN_RUSER);
	t->user_cut = n->known & GUARD_PN_CUT(GUARD_PN_USER);
	t->ruser_cut = n->known & GUARD_PN_CUT(GUARD_PN_RUSER);
	t->rhost_cut = n->known & GUARD_PN_CUT(GUARD_PN_RHOST);
	if (!(n->known & GUARD_PN_SERVICE))
		return;
	s = memrchr(n->service, '/', strnlen(n->service, sizeof(n->service)));
	s = s ? s + 1 : (char *)n->service;
	t->service = pam_name(s, sizeof(n->service) - (s - n->service), t->sbuf,
			      sizeof(t->sbuf), true);
	for (s = t->sbuf; *s; s++)
		*s = tolower((unsigned char)*s);
}
