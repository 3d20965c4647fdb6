/* SPDX-License-Identifier: GPL-2.0 */
/* rw's fd records (bpf/rw.h) as the core fd table's changes (core/fdtab.h). Pure. */
#ifndef KSIGHT_RW_FDEV_H
#define KSIGHT_RW_FDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/fdtab.h"
#include "rw.h"

/* Room for an AF_UNIX name from an fd record, NUL included. */
#define RW_UNIX_NAME (RW_UNIX_HALF + 1)

/*
 * @c from the fd record @e of @size bytes; unix socket names are copied to @lname and
 * @rname (RW_UNIX_NAME bytes each); other strings point into @e. A name longer than the
 * record is dropped. Returns false when @size is too short for a record.
 */
bool rw_fdchange_from_event(struct ks_fdchange *c, const struct rw_fd_event *e, size_t size,
			    char *lname, char *rname);

#endif
