/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A writer thread for a file sink, so that a slow disk, a full one or a stuck FIFO never
 * stalls the ring-buffer reader (which would turn into kernel-side losses for every
 * sink). The reader pushes formatted bytes; the thread writes them. At most @max bytes
 * wait: a push beyond that is refused and the caller counts its records as dropped.
 */
#ifndef KSIGHT_WRITER_H
#define KSIGHT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sink/outbuf.h"

struct ks_writer;

/* Start writing to @fd, which the writer owns from now on (closed by ks_writer__free, also
 * on failure). Returns NULL with errno set. */
struct ks_writer *ks_writer__new(int fd, size_t max);

/*
 * Rotate the file by size: before a write would take it past @size bytes, at a line's end,
 * the file @path is renamed @path.1 (the older ones shifted up to @path.@keep, the oldest
 * dropped) and a new one created (0600). A line longer than @size gets a file of its own.
 * Call once, right after ks_writer__new with @path's fd. Returns 0 or -ENOMEM.
 */
int ks_writer__rotate(struct ks_writer *w, const char *path, uint64_t size, unsigned int keep);

/*
 * Queue @b's bytes, which hold @nrec records (b is emptied either way). Returns 0; -ENOBUFS
 * if that would leave more than max bytes waiting (the records are dropped); or, once a
 * write failed, the first write's -errno (everything is dropped from then on).
 */
int ks_writer__push(struct ks_writer *w, struct ks_buf *b, uint64_t nrec);

/* Wait up to @timeout_ms until everything queued is written. Returns 0, -ETIMEDOUT, or a
 * write error's -errno. */
int ks_writer__drain(struct ks_writer *w, int timeout_ms);

/*
 * Let the thread write what is queued for up to @timeout_ms, then stop it and close the
 * fd. Returns how many records were never written (0 when all went out). Accepts NULL.
 */
uint64_t ks_writer__free(struct ks_writer *w, int timeout_ms);

/* Records refused or never written so far. */
uint64_t ks_writer__lost(struct ks_writer *w);
/* The first write error (positive errno), 0 if none. */
int ks_writer__error(struct ks_writer *w);
/* Bytes written so far, and the longest a single write(2) took, in ns. */
uint64_t ks_writer__written(const struct ks_writer *w);
uint64_t ks_writer__slowest_ns(const struct ks_writer *w);

#endif
