/* SPDX-License-Identifier: GPL-2.0 */
/* Text and order of biolat's histograms (pure: tested without the kernel). */
#ifndef KSIGHT_BIOLAT_FMT_H
#define KSIGHT_BIOLAT_FMT_H

#include <stddef.h>

#include "biolat.h"

/* "Sync-Write", "RAhead-Read", "PreFlush-FUA-Write", like biolatency -F. */
void biolat_flags_str(unsigned int flags, char *buf, size_t len);

/* Sort histograms by disk, then flags (keys and values move together). */
void biolat_sort(struct biolat_key *keys, struct biolat_hist *h, size_t n);

#endif
