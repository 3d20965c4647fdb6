/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets as /proc/<pid>/net lists them (tcp, tcp6, udp, udp6, unix), by inode, and the
 * text form of an endpoint. /proc/<pid>/net shows the network namespace of <pid>: a table
 * is one namespace's, and the same inode must only be looked up in the table of the
 * namespace it was seen in (core/fdtab.c keeps one per namespace). Pure: the parsers work
 * on buffers and the loader takes a proc root, so tests use fake trees.
 */
#ifndef KSIGHT_SOCKTAB_H
#define KSIGHT_SOCKTAB_H

#include <stddef.h>
#include <stdint.h>

#define KS_UNIX_PATH 108

/* An IPv4 or IPv6 endpoint. */
struct ks_endpoint {
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 bytes */
	uint16_t port;		/* host byte order */
};

struct ks_sock {
	uint64_t ino;
	uint16_t family;	/* AF_INET, AF_INET6, AF_UNIX */
	uint16_t sotype;	/* SOCK_STREAM, SOCK_DGRAM, ... */
	struct ks_endpoint local, remote;
	char path[KS_UNIX_PATH + 1];	/* AF_UNIX: bound path ("@x": abstract), or "" */
};

/* A table of sockets, sorted by inode once loaded. Zeroed: empty. */
struct ks_socktab {
	struct ks_sock *v;
	size_t n, cap;
};

/*
 * Add the sockets of one /proc/net/{tcp,tcp6,udp,udp6} text (@family AF_INET or AF_INET6,
 * @sotype SOCK_STREAM for tcp files, SOCK_DGRAM for udp). Malformed lines are skipped.
 * Returns how many were added, or -ENOMEM.
 */
int ks_socktab_parse_inet(struct ks_socktab *t, const char *text, int family, int sotype);

/* Add the sockets of a /proc/net/unix text. Returns how many were added, or -ENOMEM. */
int ks_socktab_parse_unix(struct ks_socktab *t, const char *text);

/* Sort by inode; call after adding, before ks_socktab_find. */
void ks_socktab_sort(struct ks_socktab *t);

/* The socket with inode @ino, or NULL (pointer valid until the table changes). */
const struct ks_sock *ks_socktab_find(const struct ks_socktab *t, uint64_t ino);

/*
 * Empty @t and fill it from <@proc_root>/<@pid>/net/{tcp,tcp6,udp,udp6,unix} (the
 * process's network namespace). Files that cannot be read are skipped. Returns the number
 * of sockets, or -ENOMEM.
 */
int ks_socktab_load(struct ks_socktab *t, const char *proc_root, uint32_t pid);

/* Free what @t holds; it is empty again. */
void ks_socktab_free(struct ks_socktab *t);

/*
 * "127.0.0.1:80", "[::1]:80" (port 0 is kept: "0.0.0.0:0" is an unbound socket).
 * Returns the length (the text is cut to fit @len, always NUL-terminated).
 */
size_t ks_fmt_endpoint(char *buf, size_t len, int family, const struct ks_endpoint *e);

/* Whether an endpoint is unset (all-zero address and port 0). */
int ks_endpoint_unset(const struct ks_endpoint *e);

/* "tcp", "udp", "tcp6", "udp6", "unix", "raw", "netlink", ... for a socket. Never NULL. */
const char *ks_proto_name(int family, int sotype);

/* Read a whole file of any size into a malloc'd NUL-terminated buffer (the caller frees
 * it) and its length into *@len (may be NULL); NULL on failure. */
char *ks_read_all(const char *path, size_t *len);

#endif
