/* SPDX-License-Identifier: GPL-2.0 */
/* The Prometheus endpoint (prom.c): `-o prometheus:ADDR`, `ksight run --listen ADDR`. */
#ifndef KSIGHT_PROM_H
#define KSIGHT_PROM_H

#include <stddef.h>

#define KS_PROM_LISTEN_DEFAULT "127.0.0.1:9464"

struct ks_prom_addr {
	char host[256];		/* a name or an address, IPv6 without its brackets */
	int port;
};

/* Parse HOST:PORT ([V6]:PORT). Returns 0, or -1 with one line in @err. */
int ks_prom_addr_parse(const char *text, struct ks_prom_addr *a, char *err, size_t len);

#endif
