/* SPDX-License-Identifier: GPL-2.0 */
/* biotop's rows and biosnoop's words, kept pure: tested without the kernel. */
#ifndef KSIGHT_BIO_FMT_H
#define KSIGHT_BIO_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bio.h"

struct bio_row {
	struct bio_key k;
	struct bio_val v;
};

/* biotop --sort: what orders the rows, most first. */
enum bio_sort {
	BIO_SORT_BYTES,
	BIO_SORT_OPS,
	BIO_SORT_TIME,		/* total service time */
	BIO_SORT_AVG,		/* average service time */
	BIO_SORT_N,
};

extern const char *const bio_sort_names[];	/* for the option, NULL-terminated */

/* The op of a BIOLAT_OP_* as biotop's column letter ("R", "W", "F", "D", "?") and as its
 * JSON word ("read", "write", "flush", "discard", "other"). */
const char *bio_op_letter(unsigned int op);
const char *bio_op_word(unsigned int op);

/* How a request's owner was found (BIO_BY_*): "queuer" or "issuer". */
const char *bio_how_word(unsigned int how);

/* Average of @total over @n, 0 when @n is 0. */
uint64_t bio_avg(uint64_t total, uint64_t n);

/* Order by key (bytewise), for the snapshots. */
int bio_row_by_key(const void *a, const void *b);

/* Turn @row into its change since @prev (NULL: none before); true when it is not zero. */
bool bio_row_sub(void *row, const void *prev);

/* Sort @n rows by @by, most first; ties by key. */
void bio_rows_sort(struct bio_row *rows, size_t n, enum bio_sort by);

#endif
