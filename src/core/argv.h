/* SPDX-License-Identifier: GPL-2.0 */
/* argv as the kernel hands it over: NUL-separated strings in one buffer. */
#ifndef KSIGHT_ARGV_H
#define KSIGHT_ARGV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Bytes of @args[0..len) that hold its first @max arguments, without the NUL after the
 * last one (the form KS_V_ARGV values take). Sets *@cut when arguments beyond @max exist.
 */
size_t ks_argv_limit(const char *args, size_t len, size_t max, bool *cut);

/* Number of arguments in @args[0..len). */
size_t ks_argv_count(const char *args, size_t len);

#endif
