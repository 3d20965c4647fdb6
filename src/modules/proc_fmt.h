/* SPDX-License-Identifier: GPL-2.0 */
/* Text for the proc module's records: clone flag names, exit statuses, durations. Pure. */
#ifndef KSIGHT_PROC_FMT_H
#define KSIGHT_PROC_FMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Names of the PROC_CLONE_* bits set in @flags ("CLONE_VM"), lowest bit first, each ended
 * by a NUL except the last (the sinks' KS_V_ARGV form). Returns the bytes written, 0 when no
 * bit is set; names that do not fit are left out whole.
 */
size_t proc_flags_names(uint64_t flags, char *buf, size_t len);

/* The same names without "CLONE_", joined by '|' ("VM|VFORK"), or "-" when none. Returns
 * the length (@buf is always NUL-terminated). */
size_t proc_flags_short(uint64_t flags, char *buf, size_t len);

/* A wait status as text: "code 7", "killed by KILL", "killed by SEGV (core dumped)".
 * Returns the length. */
size_t proc_status_text(uint32_t status, char *buf, size_t len);

/* A duration: "850ns", "12.3us", "4.6ms", "1.234s". Returns the length. */
size_t proc_fmt_ns(uint64_t ns, char *buf, size_t len);

#endif
