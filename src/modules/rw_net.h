/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets as /proc/<pid>/net lists them (tcp, tcp6, udp, udp6, unix), by inode, for the
 * rw module's fd cache at start-up; and the text form of an endpoint. Pure: the parsers
 * work on buffers and the loader takes a proc root, so tests use fake trees.
 */
#ifndef KSIGHT_RW_NET_H
#define KSIGHT_RW_NET_H

#include <stddef.h>
#include <stdint.h>

#define RW_UNIX_PATH 108

struct rw_sock {
	uint64_t ino;
	uint16_t family;	/* AF_INET, AF_INET6, AF_UNIX */
	uint16_t sotype;	/* SOCK_STREAM, SOCK_DGRAM, ... */
	uint16_t lport, rport;	/* host byte order */
	uint8_t laddr[16];	/* network byte order; IPv4 in the first 4 bytes */
	uint8_t raddr[16];
	char path[RW_UNIX_PATH + 1];	/* AF_UNIX: bound path ("@x": abstract), or "" */
};

/* A table of sockets, sorted by inode once loaded. */
struct rw_socktab {
	struct rw_sock *v;
	size_t n, cap;
};

/*
 * Add the sockets of one /proc/net/{tcp,tcp6,udp,udp6} text (@family AF_INET or AF_INET6,
 * @sotype SOCK_STREAM for tcp files, SOCK_DGRAM for udp). Malformed lines are skipped.
 * Returns how many were added, or -ENOMEM.
 */
int rw_net_parse_inet(struct rw_socktab *t, const char *text, int family, int sotype);

/* Add the sockets of a /proc/net/unix text. Returns how many were added, or -ENOMEM. */
int rw_net_parse_unix(struct rw_socktab *t, const char *text);

/* Sort by inode; call after adding, before rw_socktab_find. */
void rw_socktab_sort(struct rw_socktab *t);

/* The socket with inode @ino, or NULL. */
const struct rw_sock *rw_socktab_find(const struct rw_socktab *t, uint64_t ino);

/*
 * Empty @t and fill it from <@proc_root>/<@pid>/net/{tcp,tcp6,udp,udp6,unix} (the
 * process's network namespace). Files that cannot be read are skipped. Returns the number
 * of sockets, or -ENOMEM.
 */
int rw_socktab_load(struct rw_socktab *t, const char *proc_root, uint32_t pid);

void rw_socktab_free(struct rw_socktab *t);

/*
 * "127.0.0.1:80", "[::1]:80" (port 0 is kept: "0.0.0.0:0" is an unbound socket).
 * Returns the length (the text is cut to fit @len, always NUL-terminated).
 */
size_t rw_fmt_endpoint(char *buf, size_t len, int family, const uint8_t addr[16], uint16_t port);

/* Whether an endpoint is unset (all-zero address and port 0). */
int rw_endpoint_unset(const uint8_t addr[16], uint16_t port);

/* "tcp", "udp", "tcp6", "udp6", "unix", "raw", "netlink", ... for a socket. Never NULL. */
const char *rw_proto_name(int family, int sotype);

/* Read a whole file of any size into a malloc'd NUL-terminated buffer; NULL on failure. */
char *rw_read_all(const char *path, size_t *len);

#endif
