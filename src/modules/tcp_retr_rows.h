/* SPDX-License-Identifier: GPL-2.0 */
/* tcpretrans -c: the kernel's per-connection counts as rows, and what changed between two
 * reports (pure: tested without the kernel). */
#ifndef KSIGHT_TCP_RETR_ROWS_H
#define KSIGHT_TCP_RETR_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

struct tcp_retr_row {
	struct tcp_retr_key k;
	struct tcp_retr_val v;
};

/* Sort @rows by connection (the key's bytes). */
void tcp_retr_rows_sort(struct tcp_retr_row *rows, size_t n);

/*
 * The connections of @cur (n rows, sorted) whose counts grew since @prev (nprev rows,
 * sorted): their growth, with @cur's owner, state and side, into @out (room for n rows),
 * busiest first (segments retransmitted, then failed ones, then resets). A connection
 * not in @prev counts from zero. Returns the number of rows written.
 */
size_t tcp_retr_rows_delta(const struct tcp_retr_row *cur, size_t n,
			   const struct tcp_retr_row *prev, size_t nprev, struct tcp_retr_row *out);

#endif
