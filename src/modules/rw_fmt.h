/* SPDX-License-Identifier: GPL-2.0 */
/* Names for the rw module's calls (pure). */
#ifndef KSIGHT_RW_FMT_H
#define KSIGHT_RW_FMT_H

#include <stdbool.h>
#include <stdint.h>

/* "read", "pwritev2", "sendfile", ...; "?" for a number rw does not trace. */
const char *rw_call_name(uint32_t nr);

/* Whether call @nr moves data from the process to the fd (write side). */
bool rw_call_writes(uint32_t nr);
/* sendfile, splice, tee, copy_file_range: rw_event.fd2 is the in fd */
bool rw_call_two_fds(uint32_t nr);

#endif
