// SPDX-License-Identifier: GPL-2.0
#include "core/socktab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ks_sock *socktab_add(struct ks_socktab *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct ks_sock *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

/*
 * The kernel prints each 32-bit word of an address as a host-order integer ("%08X" of the
 * __be32): putting the parsed integer back in memory gives the network-order bytes.
 */
static int parse_hex_addr(const char *s, size_t n, uint8_t out[16])
{
	char word[9];

	if (n != 8 && n != 32)
		return -1;
	for (size_t i = 0; i < n / 8; i++) {
		uint32_t w;
		char *end;

		memcpy(word, s + i * 8, 8);
		word[8] = 0;
		w = strtoul(word, &end, 16);
		if (*end)
			return -1;
		memcpy(out + i * 4, &w, 4);
	}
	return 0;
}

/* "0100007F:1F90" -> address bytes and port. Returns the rest of the text or NULL. */
static const char *parse_endpoint(const char *p, struct ks_endpoint *e)
{
	const char *colon;
	unsigned long v;
	char *end;

	while (*p == ' ')
		p++;
	colon = strchr(p, ':');
	if (!colon || parse_hex_addr(p, colon - p, e->addr))
		return NULL;
	v = strtoul(colon + 1, &end, 16);
	if (end == colon + 1 || v > 0xffff)
		return NULL;
	e->port = v;
	return end;
}

/* Skip @n whitespace-separated fields. */
static const char *skip_fields(const char *p, int n)
{
	for (int i = 0; i < n && p; i++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return NULL;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	return p;
}

int ks_socktab_parse_inet(struct ks_socktab *t, const char *text, int family, int sotype)
{
	const char *line = strchr(text, '\n');	/* the first line is the header */
	int added = 0;

	while (line && *++line) {
		const char *next = strchr(line, '\n'), *p;
		struct ks_sock s = { .family = family, .sotype = sotype };
		unsigned long long ino;
		char *end;

		/* "  sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ..." */
		p = strchr(line, ':');
		if (p && (!next || p < next))
			p = parse_endpoint(p + 1, &s.local);
		else
			p = NULL;
		if (p)
			p = parse_endpoint(p, &s.remote);
		/* st, tx:rx, tr:when, retrnsmt, uid, timeout */
		if (p)
			p = skip_fields(p, 6);
		if (p) {
			ino = strtoull(p, &end, 10);
			if (end != p && ino) {
				struct ks_sock *d = socktab_add(t);

				if (!d)
					return -ENOMEM;
				s.ino = ino;
				*d = s;
				added++;
			}
		}
		line = next;
	}
	return added;
}

int ks_socktab_parse_unix(struct ks_socktab *t, const char *text)
{
	const char *line = strchr(text, '\n');
	int added = 0;

	while (line && *++line) {
		const char *next = strchr(line, '\n'), *p;
		unsigned int type;
		unsigned long long ino;
		int n = 0;

		/* "Num: RefCount Protocol Flags Type St Inode [Path]" */
		if (sscanf(line, "%*x: %*x %*x %*x %x %*x %llu%n", &type, &ino, &n) == 2 && ino) {
			struct ks_sock *d = socktab_add(t);
			size_t len;

			if (!d)
				return -ENOMEM;
			d->ino = ino;
			d->family = AF_UNIX;
			d->sotype = type;
			p = line + n;
			while (*p == ' ')
				p++;
			len = next ? (size_t)(next - p) : strlen(p);
			if (len > KS_UNIX_PATH)
				len = KS_UNIX_PATH;
			memcpy(d->path, p, len);
			d->path[len] = 0;
			added++;
		}
		line = next;
	}
	return added;
}

static int by_ino(const void *a, const void *b)
{
	const struct ks_sock *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

void ks_socktab_sort(struct ks_socktab *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), by_ino);
}

const struct ks_sock *ks_socktab_find(const struct ks_socktab *t, uint64_t ino)
{
	struct ks_sock key = { .ino = ino };

	if (!t->n)
		return NULL;
	return bsearch(&key, t->v, t->n, sizeof(t->v[0]), by_ino);
}

char *ks_read_all(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

int ks_socktab_load(struct ks_socktab *t, const char *proc_root, uint32_t pid)
{
	static const struct {
		const char *file;
		int family, sotype;
	} files[] = {
		{ "tcp", AF_INET, SOCK_STREAM },  { "tcp6", AF_INET6, SOCK_STREAM },
		{ "udp", AF_INET, SOCK_DGRAM },	  { "udp6", AF_INET6, SOCK_DGRAM },
		{ "unix", AF_UNIX, 0 },
	};
	char path[256];

	t->n = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text;
		int r;

		snprintf(path, sizeof(path), "%s/%u/net/%s", proc_root, pid, files[i].file);
		text = ks_read_all(path, NULL);
		if (!text)
			continue;
		if (files[i].family == AF_UNIX)
			r = ks_socktab_parse_unix(t, text);
		else
			r = ks_socktab_parse_inet(t, text, files[i].family, files[i].sotype);
		free(text);
		if (r < 0)
			return r;
	}
	ks_socktab_sort(t);
	return t->n;
}

void ks_socktab_free(struct ks_socktab *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

size_t ks_fmt_endpoint(char *buf, size_t len, int family, const struct ks_endpoint *e)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int n;

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	n = snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

int ks_endpoint_unset(const struct ks_endpoint *e)
{
	static const uint8_t zero[16];

	return !e->port && !memcmp(e->addr, zero, 16);
}

const char *ks_proto_name(int family, int sotype)
{
	switch (family) {
	case AF_INET:
	case AF_INET6: {
		bool v6 = family == AF_INET6;

		if (sotype == SOCK_STREAM)
			return v6 ? "tcp6" : "tcp";
		if (sotype == SOCK_DGRAM)
			return v6 ? "udp6" : "udp";
		if (sotype == SOCK_RAW)
			return v6 ? "raw6" : "raw";
		return v6 ? "inet6" : "inet";
	}
	case AF_UNIX:
		return "unix";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	default:
		return "sock";
	}
}
