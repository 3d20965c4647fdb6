/* SPDX-License-Identifier: GPL-2.0 */
/* Text for the open module's values (pure: tested without the kernel). */
#ifndef KSIGHT_OPEN_FMT_H
#define KSIGHT_OPEN_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "O_WRONLY|O_CREAT|O_TRUNC" for @flags; unknown bits as one trailing hex number.
 * Returns the length written (the text is cut to fit @len, always NUL-terminated). */
size_t open_flags_str(uint64_t flags, char *buf, size_t len);

/* "open", "openat", "openat2", "creat", or "?" for a syscall number. */
const char *open_sys_name(uint32_t nr);

#endif
